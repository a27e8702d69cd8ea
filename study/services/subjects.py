"""Subject aliases: the owner files several names under one subject (a rename
over the years, a spelling variant, a typo in a source file).

One write path for the topic's subject page and the admin. A merge stores the
aliases (every later import applies them, study.imports.services), moves the
existing questions through the question service (so they carry the same
events as any edit) and renames the subject in the owner's exam spec; undoing
an alias moves back the questions it moved, by the name they came with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils.translation import gettext

from study import rounds
from study.models import ExamSpec, Question, SubjectAlias, Topic
from study.models.question import TEXT_LIMITS
from study.services.questions import questions_bulk_update

_MOVED_FIELDS = (
    "id",
    "topic_id",
    "subject",
    "subject_original",
    "ai_explanation_status",
)


class SubjectMergeRefused(ValueError):
    """A merge or undo that cannot be done; the message says why."""


def subject_merge_check(
    *, topic: Topic, names: Sequence[str], into: str
) -> tuple[list[str], str]:
    """The names to move and the subject they join (an alias's target when
    `into` is itself an alias); SubjectMergeRefused says why not."""
    into = into.strip()
    if not into:
        raise SubjectMergeRefused(gettext("합칠 과목 이름을 정하세요."))
    if len(into) > TEXT_LIMITS["subject"]:
        raise SubjectMergeRefused(gettext("과목 이름은 200자까지입니다."))
    aliases = dict(
        SubjectAlias.objects.filter(topic=topic).values_list("name", "subject")
    )
    into = aliases.get(into, into)
    names = [n for n in dict.fromkeys(n.strip() for n in names) if n and n != into]
    if not names:
        raise SubjectMergeRefused(gettext("합칠 이름을 하나 이상 고르세요."))
    if already := [n for n in names if n in aliases]:
        raise SubjectMergeRefused(
            gettext("‘%(name)s’는 이미 ‘%(subject)s’로 합쳐져 있습니다.")
            % {"name": already[0], "subject": aliases[already[0]]}
        )
    _refuse_number_clash(topic=topic, names=[*names, into])
    return names, into


@transaction.atomic
def subject_merge(*, topic: Topic, names: Sequence[str], into: str) -> int:
    """File every question of `names` under `into`, now and in later imports;
    returns how many questions moved."""
    Topic.objects.select_for_update().filter(pk=topic.pk).first()  # one at a time
    names, into = subject_merge_check(topic=topic, names=names, into=into)
    SubjectAlias.objects.filter(topic=topic, subject__in=names).update(subject=into)
    SubjectAlias.objects.bulk_create(
        [SubjectAlias(topic=topic, name=name, subject=into) for name in names]
    )
    moved = _move(
        Question.objects.filter(topic=topic, subject__in=names),
        lambda q: {
            "subject": into,
            "subject_original": q.subject_original or q.subject,
        },
    )
    _rename_in_spec(topic=topic, names=names, into=into)
    return moved


@transaction.atomic
def subject_alias_remove(*, topic: Topic, name: str) -> int:
    """Undo an alias: later imports keep `name`, and the questions it moved
    get it back. Returns how many questions moved back."""
    Topic.objects.select_for_update().filter(pk=topic.pk).first()
    alias = SubjectAlias.objects.filter(topic=topic, name=name).first()
    if alias is None:
        raise SubjectMergeRefused(gettext("그런 과목 별칭이 없습니다."))
    moved_back = Question.objects.filter(
        topic=topic, subject=alias.subject, subject_original=name
    )
    _refuse_number_clash(topic=topic, names=[alias.subject, name])
    moved = _move(moved_back, lambda q: {"subject": name, "subject_original": ""})
    alias.delete()
    return moved


def _move(
    questions: QuerySet[Question], values: Callable[[Question], dict[str, object]]
) -> int:
    """The question service's bulk update (events, stale rule) for the rows."""
    rows = list(questions.only(*_MOVED_FIELDS).order_by("id"))
    return len(questions_bulk_update(edits=[(q, values(q)) for q in rows]))


def _refuse_number_clash(*, topic: Topic, names: Sequence[str]) -> None:
    """Where each subject is numbered from 1, two subjects of one round share
    their numbers: filing them under one name would make two questions one."""
    rows = Question.objects.filter(
        topic=topic,
        numbered_by_subject=True,
        subject__in=names,
        exam_year__isnull=False,
        number__isnull=False,
    )
    clash = (
        rows.values("exam_year", "exam_session", "number")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("exam_year", "exam_session", "number")
        .first()
    )
    if clash is not None:
        raise SubjectMergeRefused(
            gettext(
                "합칠 수 없습니다: %(round)s에 두 과목이 따로 있습니다 (과목마다 "
                "1번부터 번호를 매기는 회차라 %(number)s번이 둘입니다)."
            )
            % {
                "round": rounds.round_label(clash["exam_year"], clash["exam_session"]),
                "number": clash["number"],
            }
        )


def _rename_in_spec(*, topic: Topic, names: Sequence[str], into: str) -> None:
    spec = ExamSpec.objects.select_for_update().filter(topic=topic).first()
    if spec is None or not set(names).intersection(spec.subjects):
        return
    spec.subjects = list(
        dict.fromkeys(into if s in names else s for s in spec.subjects)
    )
    spec.save(update_fields=["subjects", "updated_at"])
