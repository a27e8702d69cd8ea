from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from pgvector.django import VectorField

from study import rounds, subjects
from study.imports.identity import identity as question_identity
from study.models.topic import Topic

# Fields whose change alters what decides the answer: a ready AI explanation
# written for the old text turns stale.
CHOICE_FIELDS = ("choice_1", "choice_2", "choice_3", "choice_4")
ANSWER_DEFINING_FIELDS = ("stem", *CHOICE_FIELDS, "correct_choice", "accepted_choices")
# What an import or an author sets on a question besides its round key.
CONTENT_FIELDS = (
    "exam_name",
    "subject",
    "subject_original",
    "numbered_by_subject",
    "scope",
    *ANSWER_DEFINING_FIELDS,
    "needs_figure",
    "explanation",
)
ROUND_KEY_FIELDS = ("exam_year", "exam_session", "number")
# Read by the related-questions analysis only: pages and finalize defer it
# (parsing a 384-float vector costs more than the rest of the row).
UNSHOWN_FIELDS = ("embedding",)
# Lengths of the bounded text columns, checked by the importer per row.
TEXT_LIMITS = {"exam_name": 200, "subject": 200, "scope": 200}


# The grades services/related.py stores in Question.related_grade, marked for the
# catalogue: the stored value stays Korean, a page shows
# {% translate related.grade %}.
RELATED_GRADE_NAMES = (
    gettext_noop("단골"),
    gettext_noop("잘 나오는 반복 출제"),
    gettext_noop("반복 출제"),
    gettext_noop("신출"),
    gettext_noop("빈출"),
)


class AIExplanationStatus(models.TextChoices):
    NONE = "none", _("없음")
    PENDING = "pending", _("생성 중")
    READY = "ready", _("준비됨")
    FAILED = "failed", _("실패")
    STALE = "stale", _("이전 풀이")
    SKIPPED = "skipped", _("자료 부족")


class EmbeddingStatus(models.TextChoices):
    NONE = "none", _("없음")
    PENDING = "pending", _("대기")
    READY = "ready", _("준비됨")
    FAILED = "failed", _("실패")


class QuestionQuerySet(models.QuerySet):
    def alive(self) -> QuestionQuerySet:
        return self.filter(deleted_at__isnull=True)

    def quizzable(self) -> QuestionQuerySet:
        """Questions a quiz may show: not deleted, figure present if one is needed."""
        return self.alive().filter(Q(needs_figure=False) | ~Q(figure=""))

    def in_round_order(self) -> QuestionQuerySet:
        """Year, then sitting number (10회 after 9회), then session label; in a
        round by number, where each subject is numbered from 1 subject by
        subject (in the order they came, their first id)."""
        return self.order_by(
            "exam_year",
            SessionNumber("exam_session"),
            "exam_session",
            _subject_block(),
            "number",
            "id",
        )


class SessionNumber(models.Func):
    """The leading number of a stored session (0 for a form-only one)."""

    template = "COALESCE(substring(%(expressions)s from '^[0-9]+')::integer, 0)"
    output_field = models.IntegerField()


def _subject_block() -> models.Expression:
    """0 on papers numbered through; on papers numbered per subject, the first
    id of the question's subject in its round (the subjects' order in the file)."""
    first_id = models.Window(
        models.Min("id"),
        partition_by=[F("topic_id"), F("exam_year"), F("exam_session"), F("subject")],
    )
    return models.Case(
        models.When(numbered_by_subject=True, then=first_id),
        default=models.Value(0),
        output_field=models.IntegerField(),
    )


def figure_upload_to(instance: Question, filename: str) -> str:
    return f"figures/topic-{instance.topic_id}/{filename}"


class Question(models.Model):
    topic = models.ForeignKey(
        Topic,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("토픽"),
    )
    exam_name = models.CharField(
        _("시험명"), max_length=TEXT_LIMITS["exam_name"], blank=True
    )
    exam_year = models.PositiveSmallIntegerField(_("연도"), null=True, blank=True)
    # Canonical session label (study.rounds): "3", "1,2", "A", "가", "1추가", "1_A".
    exam_session = models.CharField(
        _("회차"), max_length=rounds.SESSION_MAX_LENGTH, blank=True
    )
    number = models.PositiveSmallIntegerField(_("번호"), null=True, blank=True)
    subject = models.CharField(_("과목"), max_length=TEXT_LIMITS["subject"], blank=True)
    # The name the source file gave when a subject alias filed the question
    # under another subject ("" otherwise): what undoing the alias restores.
    subject_original = models.CharField(
        _("원래 과목 이름"), max_length=TEXT_LIMITS["subject"], blank=True
    )
    # Papers that number each subject from 1 (공무원 국가·지방직): the question
    # is (year, session, subject, number) instead of (year, session, number).
    numbered_by_subject = models.BooleanField(
        _("과목별 번호"),
        default=False,
        help_text=_("이 회차는 과목마다 1번부터 번호를 매깁니다 (공무원 시험 등)."),
    )
    scope = models.CharField(_("범위"), max_length=TEXT_LIMITS["scope"], blank=True)
    stem = models.TextField(_("문제"))
    choice_1 = models.TextField(_("보기 1"))
    choice_2 = models.TextField(_("보기 2"))
    choice_3 = models.TextField(_("보기 3"))
    choice_4 = models.TextField(_("보기 4"))
    correct_choice = models.PositiveSmallIntegerField(pgettext_lazy("field", "정답"))
    # Comma-separated when a round accepted several answers ("2,4"); empty
    # when only correct_choice is right.
    accepted_choices = models.CharField(_("복수 정답"), max_length=20, blank=True)
    needs_figure = models.BooleanField(
        _("그림 필요"),
        default=False,
        help_text=(
            _("문제가 그림을 참조합니다. 그림을 올리기 전에는 퀴즈에 나오지 않습니다.")
        ),
    )
    figure = models.ImageField(_("그림"), upload_to=figure_upload_to, blank=True)
    explanation = models.TextField(_("해설"), blank=True)

    ai_explanation = models.TextField(_("AI 해설"), blank=True)
    ai_explanation_status = models.CharField(
        _("AI 해설 상태"),
        max_length=20,
        choices=AIExplanationStatus.choices,
        default=AIExplanationStatus.NONE,
    )
    ai_explanation_generated_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("AI 해설 생성 시각")
    )
    ai_explanation_model = models.CharField(
        max_length=200, blank=True, verbose_name=_("AI 해설 모델")
    )
    # Evidence actually cited ([{kind, source, title, quote}]) and when an
    # on-demand generation started (a stuck "pending" can be reclaimed).
    ai_explanation_evidence = models.JSONField(default=list, blank=True)
    ai_explanation_started_at = models.DateTimeField(null=True, blank=True)
    # What the card says about the explanation: confidence after the evidence
    # caps, grounding (documents | questions | none), the independent check
    # (agree | disagree | unknown | off), or, when skipped, what would help.
    ai_explanation_meta = models.JSONField(default=dict, blank=True)

    # Embedding of stem + choices, for repeated/similar question detection.
    # Not indexed: every read compares a topic's rows exactly (an approximate
    # index could drop candidates), and an HNSW index made each write of a
    # vector or of the cached relations below cost a graph insertion.
    embedding = VectorField(dimensions=settings.EMBEDDING_DIM, null=True, blank=True)
    embedding_model = models.CharField(max_length=200, blank=True)
    embedding_status = models.CharField(
        max_length=20, choices=EmbeddingStatus.choices, default=EmbeddingStatus.NONE
    )
    embedded_at = models.DateTimeField(null=True, blank=True)
    # Cached relations across rounds, best first: [{"id", "similarity", "year",
    # "session", "number", "stem"}] so that a cache hit needs one SELECT.
    related_repeat = models.JSONField(default=list, blank=True)
    related_similar = models.JSONField(default=list, blank=True)
    repeat_count = models.PositiveSmallIntegerField(default=0)
    # Repeats whose key contradicts this question's (an option both print is
    # keyed in one and not the other): 정답 확인 필요.
    repeat_key_conflicts = models.PositiveSmallIntegerField(default=0)
    similar_count = models.PositiveSmallIntegerField(default=0)
    # Distinct exam rounds among this question and its repeats/similars
    # (0 when it has none).
    round_count = models.PositiveSmallIntegerField(_("출제 회차 수"), default=0)
    # One of RELATED_GRADE_NAMES (stored in Korean); pages show it translated.
    related_grade = models.CharField(_("출제 등급"), max_length=40, blank=True)
    related_computed_at = models.DateTimeField(null=True, blank=True)
    related_threshold_version = models.CharField(max_length=40, blank=True)

    created_at = models.DateTimeField(_("생성"), auto_now_add=True)
    updated_at = models.DateTimeField(pgettext_lazy("field", "수정"), auto_now=True)
    deleted_at = models.DateTimeField(
        pgettext_lazy("field", "삭제"), null=True, blank=True
    )

    objects = QuestionQuerySet.as_manager()

    class Meta:
        verbose_name = _("문항")
        verbose_name_plural = pgettext_lazy("plural", "문항")
        ordering = ["topic_id", "exam_year", "exam_session", "number", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(correct_choice__gte=1) & Q(correct_choice__lte=4),
                name="study_question_correct_choice_1_4",
            ),
            models.CheckConstraint(
                condition=Q(accepted_choices__regex=r"^([1-4](,[1-4]){0,3})?$"),
                name="study_question_accepted_choices_format",
            ),
            models.CheckConstraint(
                condition=Q(ai_explanation_status__in=AIExplanationStatus.values),
                name="study_question_ai_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(embedding_status__in=EmbeddingStatus.values),
                name="study_question_embedding_status_valid",
            ),
            models.UniqueConstraint(
                fields=["topic", "exam_year", "exam_session", "number"],
                condition=Q(exam_year__isnull=False)
                & Q(number__isnull=False)
                & Q(numbered_by_subject=False),
                name="study_question_round_number_uniq",
            ),
            models.UniqueConstraint(
                fields=["topic", "exam_year", "exam_session", "subject", "number"],
                condition=Q(exam_year__isnull=False)
                & Q(number__isnull=False)
                & Q(numbered_by_subject=True),
                name="study_question_round_subject_number_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["topic", "subject"], name="study_q_topic_subject"),
            # The live questions of a topic, counted by an index-only scan.
            models.Index(
                fields=["topic"],
                condition=Q(deleted_at__isnull=True),
                name="study_q_topic_alive",
            ),
            # The topic's deleted questions (a few), which every count of a
            # learner's progress leaves out (selectors.review_queue.
            # live_progress): read from the FK index, a 7,000-question topic
            # cost 2.8 ms of each home, topic and review page to find 40.
            models.Index(
                fields=["topic", "id"],
                condition=Q(deleted_at__isnull=False),
                name="study_q_topic_deleted",
            ),
            models.Index(
                fields=["topic", "ai_explanation_status"],
                condition=~Q(ai_explanation_status="none"),
                name="study_q_topic_ai_status",
            ),
            models.Index(
                fields=["topic", "round_count"],
                condition=Q(round_count__gte=3, deleted_at__isnull=True),
                name="study_q_frequent",
            ),
            # A topic's rounds and subjects (selectors.exam_spec.subject_cells,
            # read by every quiz start, mock and score) by an index-only scan,
            # already in group order: no heap page of a 7,000-question topic.
            # needs_figure and figure let the topic page count what a quiz may
            # show in the same pass (6.1 -> 2.5 ms at full scale, issue 30).
            models.Index(
                fields=["topic", "exam_year", "exam_session", "subject"],
                include=[
                    "number",
                    "id",
                    "numbered_by_subject",
                    "needs_figure",
                    "figure",
                ],
                condition=Q(deleted_at__isnull=True),
                name="study_q_topic_cells",
            ),
            # What a quiz may show (QuestionQuerySet.quizzable), sampled for a
            # quiz start's random and frequent buckets by an index-only scan.
            models.Index(
                fields=["topic", "round_count"],
                include=["id", "subject"],
                condition=Q(deleted_at__isnull=True)
                & (Q(needs_figure=False) | ~Q(figure="")),
                name="study_q_quizzable",
            ),
            models.Index(
                fields=["topic", "id"],
                condition=Q(embedding_status="ready", related_computed_at__isnull=True),
                name="study_q_related_invalid",
            ),
            # 정답 확인 필요: the topic's questions with a contradicting repeat.
            models.Index(
                fields=["topic", "id"],
                condition=Q(repeat_key_conflicts__gt=0, deleted_at__isnull=True),
                name="study_q_key_conflicts",
            ),
        ]

    def __str__(self) -> str:
        prefix = f"[{self.round_label} #{self.number}] " if self.has_round else ""
        return prefix + self.stem[:60]

    @property
    def has_round(self) -> bool:
        return rounds.has_round(self.exam_year, self.exam_session)

    @property
    def round_key(self) -> str:
        return rounds.round_key(self.exam_year, self.exam_session)

    @property
    def round_label(self) -> str:
        """In the page's language."""
        return rounds.round_label(self.exam_year, self.exam_session)

    @property
    def round_label_site(self) -> str:
        """In the site's language, for what leaves the page: exports, the
        viewer, prompts (it must not depend on who caused it)."""
        return rounds.round_label(
            self.exam_year, self.exam_session, language=settings.LANGUAGE_CODE
        )

    @property
    def key(self) -> str:
        """`YEAR-SESSION-NUMBER` (`YEAR-SESSION-SUBJECT-NUMBER` on papers that
        number each subject from 1), the identity used by exports."""
        return rounds.question_key(
            self.exam_year,
            self.exam_session,
            self.number,
            self.pk,
            subject=self.subject if self.numbered_by_subject else None,
        )

    @property
    def identity(self) -> tuple:
        """What tells this question apart within its topic's rounds: the
        importer matches rows to questions by it (study.imports.identity)."""
        return question_identity(
            self.exam_year,
            self.exam_session,
            self.subject,
            self.number,
            self.numbered_by_subject,
        )

    @property
    def place_label(self) -> str:
        """`2021년 1회 3번`, or `2021년 1회 국어 3번` where each subject is
        numbered from 1 (in the page's language)."""
        if self.numbered_by_subject:
            return gettext("%(round)s %(subject)s %(number)s번") % {
                "round": self.round_label,
                "subject": self.subject_label,
                "number": self.number,
            }
        return gettext("%(round)s %(number)s번") % {
            "round": self.round_label,
            "number": self.number,
        }

    @property
    def subject_label(self) -> str:
        return subjects.subject_label(self.subject)

    @property
    def choices(self) -> list[str]:
        return [self.choice_1, self.choice_2, self.choice_3, self.choice_4]

    @property
    def accepted_set(self) -> frozenset[int]:
        if self.accepted_choices:
            return frozenset(int(c) for c in self.accepted_choices.split(","))
        return frozenset({self.correct_choice})

    def is_correct(self, choice: int | None) -> bool:
        return choice is not None and choice in self.accepted_set

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_quizzable(self) -> bool:
        return not self.is_deleted and (not self.needs_figure or bool(self.figure))

    def answer_fingerprint(self) -> str:
        """A digest of what decides the answer; an explanation belongs to it."""
        values = [str(getattr(self, name)) for name in ANSWER_DEFINING_FIELDS]
        return hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:32]

    def mark_explanation_stale_if_needed(self, changed_fields: set[str]) -> bool:
        """Editing what decides the answer turns a ready explanation stale."""
        if self.ai_explanation_status != AIExplanationStatus.READY:
            return False
        if not changed_fields.intersection(ANSWER_DEFINING_FIELDS):
            return False
        self.ai_explanation_status = AIExplanationStatus.STALE
        return True
