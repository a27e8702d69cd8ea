from typing import Any, ClassVar

from django.contrib import admin
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from study.ai.explanation_jobs import explanation_regenerate_enqueue, job_retry
from study.documents.forms import DocumentAdminForm
from study.documents.services import (
    DOCUMENT_EDITABLE_FIELDS,
    document_create,
    document_ingest_enqueue,
    document_update,
    documents_reprocess,
)
from study.forms import (
    ExamRoundAdminForm,
    QuestionAdminForm,
    SubjectAliasAdminForm,
)
from study.imports import admin as imports_admin  # noqa: F401  (registers QuestionImportAdmin)
from study.models import (
    AmendmentStatus,
    Attempt,
    Document,
    DocumentChunk,
    ExamPlan,
    ExamRound,
    ExamSpec,
    LearnerSettings,
    Question,
    QuestionJob,
    QuestionProgress,
    QuizSession,
    SessionAnalysis,
    SessionJob,
    SubjectAlias,
    SubjectNote,
    Topic,
)
from study.models.amendment import FLAGGED
from study.models.topic import may_manage_all_topics
from study.numbers import AsciiIntegerField
from study.services.exam_specs import (
    exam_round_clear,
    exam_round_set,
    exam_spec_save,
)
from study.services.questions import (
    CURATOR_FIELDS,
    question_create,
    question_restore,
    question_soft_delete,
    question_update,
    questions_restore,
    questions_soft_delete,
)
from study.services.subjects import subject_alias_remove, subject_merge
from study.services.topics import topic_publishing_changed


class AsciiNumbersAdmin(admin.ModelAdmin):
    """Integer columns take ASCII digits only, as every form of the site."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.IntegerField) and not db_field.choices:
            kwargs.setdefault("form_class", AsciiIntegerField)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "is_shared", "is_published", "created_at")
    list_filter = ("is_shared", "is_published")
    search_fields = ("name", "description", "owner__username")
    autocomplete_fields = ("owner",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # changeform_view's transaction holds the flag and its events together.
        if "is_published" in form.changed_data:
            topic_publishing_changed(topic=obj)


@admin.register(ExamSpec)
class ExamSpecAdmin(AsciiNumbersAdmin):
    list_display = (
        "topic",
        "questions_per_subject",
        "time_limit_minutes",
        "updated_at",
    )
    search_fields = ("topic__name",)
    raw_id_fields = ("topic",)

    def save_model(self, request, obj, form, change):
        saved = exam_spec_save(
            topic=obj.topic,
            subjects=obj.subjects,
            questions_per_subject=obj.questions_per_subject,
            time_limit_minutes=obj.time_limit_minutes,
            session_dates=obj.session_dates
            if isinstance(obj.session_dates, dict)
            else {},
        )
        obj.pk = saved.pk


@admin.register(ExamRound)
class ExamRoundAdmin(admin.ModelAdmin):
    form = ExamRoundAdminForm
    list_display = ("topic", "exam_year", "exam_session", "held_on")
    list_filter = ("topic",)
    raw_id_fields = ("topic",)

    def save_model(self, request, obj, form, change):
        if change:  # the year or session may have changed: the old row goes
            exam_round_clear(round_ids=[obj.pk])
        saved = exam_round_set(
            topic=obj.topic,
            year=obj.exam_year,
            session=obj.exam_session,
            held_on=obj.held_on,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        exam_round_clear(round_ids=[obj.pk])

    def delete_queryset(self, request, queryset):
        exam_round_clear(round_ids=list(queryset.values_list("pk", flat=True)))


@admin.register(SubjectAlias)
class SubjectAliasAdmin(admin.ModelAdmin):
    """Adding an alias merges (the questions move); deleting one undoes it.
    An alias is not edited in place: delete it and add another."""

    form = SubjectAliasAdminForm
    list_display = ("topic", "name", "subject", "created_at")
    list_filter = ("topic",)
    search_fields = ("name", "subject", "topic__name")
    raw_id_fields = ("topic",)

    def get_readonly_fields(
        self, request: HttpRequest, obj: SubjectAlias | None = None
    ) -> tuple[str, ...]:
        return ("topic", "name", "subject") if obj else ()

    def save_model(
        self, request: HttpRequest, obj: SubjectAlias, form: Any, change: bool
    ) -> None:
        if not change:
            subject_merge(topic=obj.topic, names=[obj.name], into=obj.subject)
            obj.pk = SubjectAlias.objects.get(topic=obj.topic, name=obj.name).pk

    def delete_model(self, request: HttpRequest, obj: SubjectAlias) -> None:
        subject_alias_remove(topic=obj.topic, name=obj.name)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[SubjectAlias]
    ) -> None:
        for alias in queryset.select_related("topic"):
            subject_alias_remove(topic=alias.topic, name=alias.name)


class DeletedFilter(admin.SimpleListFilter):
    title = _("삭제 여부")
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return (("no", _("살아 있음")), ("yes", _("삭제됨")))

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


class AnswerReviewFilter(admin.SimpleListFilter):
    """정답 확인 필요: the question's 근거 카드 singles out another choice than
    the key, or a repeat in another round keyed another answer (as the
    topic's list and `manage.py answer_review` show)."""

    title = _("정답 확인 필요")
    parameter_name = "answer_review"

    def lookups(self, request, model_admin):
        return (
            ("any", _("확인 필요")),
            ("statute", _("정답과 조문이 다름")),
            ("history", _("기출 정답이 다름")),
        )

    def queryset(self, request, queryset):
        if self.value() == "any":
            return queryset.filter(
                Q(evidence_card__key_conflict=True)
                | Q(evidence_card__history_conflict=True)
            )
        if self.value() == "statute":
            return queryset.filter(evidence_card__key_conflict=True)
        if self.value() == "history":
            return queryset.filter(evidence_card__history_conflict=True)
        return queryset


class AmendmentFilter(admin.SimpleListFilter):
    """The 개정 flag (issue 26): questions today's statutes decide otherwise
    than those of their exam date (as the topic page and `manage.py
    amendments` list them)."""

    title = _("법령 개정")
    parameter_name = "amendment"

    def lookups(self, request, model_admin):
        return (
            ("flagged", _("개정됨 또는 삭제됨")),
            *AmendmentStatus.choices,
        )

    def queryset(self, request, queryset):
        if self.value() == "flagged":
            return queryset.filter(amendment__status__in=FLAGGED)
        if self.value() in AmendmentStatus.values:
            return queryset.filter(amendment__status=self.value())
        return queryset


@admin.register(Question)
class QuestionAdmin(AsciiNumbersAdmin):
    form = QuestionAdminForm
    list_display = (
        "id",
        "topic",
        "exam_year",
        "exam_session",
        "number",
        "subject",
        "short_stem",
        "correct_choice",
        "needs_figure",
        "ai_explanation_status",
        "deleted_at",
    )
    list_filter = (
        "topic",
        "exam_year",
        "exam_session",
        "subject",
        "ai_explanation_status",
        "needs_figure",
        DeletedFilter,
        AnswerReviewFilter,
        AmendmentFilter,
    )
    search_fields = ("stem", "choice_1", "choice_2", "choice_3", "choice_4", "subject")
    list_select_related = ("topic",)
    readonly_fields = (
        "subject_original",
        "created_at",
        "updated_at",
        "ai_explanation_generated_at",
    )
    actions = ("soft_delete", "restore")
    list_per_page = 50
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "topic",
                    "exam_name",
                    ("exam_year", "exam_session", "number"),
                    "numbered_by_subject",
                )
            },
        ),
        (
            _("문제"),
            {
                "fields": (
                    ("subject", "subject_original"),
                    "scope",
                    "stem",
                    "choice_1",
                    "choice_2",
                    "choice_3",
                    "choice_4",
                    ("correct_choice", "accepted_choices"),
                    "explanation",
                    ("needs_figure", "figure"),
                )
            },
        ),
        (
            _("AI 해설"),
            {
                "fields": (
                    "ai_explanation_status",
                    "ai_explanation",
                    "ai_explanation_model",
                    "ai_explanation_generated_at",
                )
            },
        ),
        (_("기록"), {"fields": ("created_at", "updated_at", "deleted_at")}),
    )

    @admin.display(description=_("문제"))
    def short_stem(self, obj: Question) -> str:
        return obj.stem[:50]

    def save_model(self, request, obj, form, change):
        # The form has applied its fields to obj; the service compares them with
        # the stored row and saves with every side effect (changeform_view's
        # transaction holds the edit and its events together).
        data = {name: getattr(obj, name) for name in form.changed_data}
        if change:
            question_update(question=obj, data=data, fields=CURATOR_FIELDS)
        else:
            obj.pk = question_create(
                topic=obj.topic, data=data, fields=CURATOR_FIELDS
            ).pk
            obj._state.adding = False
        if "deleted_at" in form.changed_data:
            if obj.deleted_at is None:
                question_restore(question=obj)
            else:
                question_soft_delete(question=obj)
        obj.refresh_from_db()

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        # Questions are only soft deleted: attempts, progress and the viewer's
        # tombstones depend on the row.
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    def get_deleted_objects(self, objs, request):
        """The change form's delete button soft deletes: nothing else goes."""
        objs = list(objs)
        return (
            [str(obj) for obj in objs],
            {Question._meta.verbose_name_plural: len(objs)},
            set(),
            [],
        )

    def delete_model(self, request, obj):
        question_soft_delete(question=obj)

    def delete_queryset(self, request, queryset):
        questions_soft_delete(question_ids=list(queryset.values_list("pk", flat=True)))

    @admin.action(description=_("선택한 문항 삭제(소프트)"))
    def soft_delete(self, request, queryset):
        n = questions_soft_delete(
            question_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(
            request,
            ngettext("%(n)d개 문항을 삭제했습니다.", "%(n)d개 문항을 삭제했습니다.", n)
            % {"n": n},
        )

    @admin.action(description=_("선택한 문항 되살리기"))
    def restore(self, request, queryset):
        n = questions_restore(question_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(n)d개 문항을 되살렸습니다.", "%(n)d개 문항을 되살렸습니다.", n)
            % {"n": n},
        )


@admin.action(description=_("AI 해설 다시 생성 (백그라운드)"))
def regenerate_explanation(modeladmin, request, queryset):
    n = sum(
        explanation_regenerate_enqueue(question=q, user_id=request.user.pk)
        for q in queryset.filter(deleted_at__isnull=True)
    )
    modeladmin.message_user(
        request,
        ngettext(
            "%(n)d개 문항의 해설 재생성을 예약했습니다.",
            "%(n)d개 문항의 해설 재생성을 예약했습니다.",
            n,
        )
        % {"n": n},
    )


QuestionAdmin.actions = (*QuestionAdmin.actions, regenerate_explanation)  # type: ignore[assignment]  # action names and a function


class JobAdminBase(admin.ModelAdmin):
    list_filter: ClassVar[tuple[str, ...]] = ("status", "error_code")
    readonly_fields = (
        "status",
        "attempts",
        "max_attempts",
        "error_code",
        "error_message",
        "payload",
        "created_at",
        "started_at",
        "completed_at",
    )
    date_hierarchy = "created_at"
    list_per_page = 50


@admin.register(QuestionJob)
class QuestionJobAdmin(JobAdminBase):
    list_display = (
        "id",
        "kind",
        "question",
        "user",
        "status",
        "attempts",
        "error_code",
        "created_at",
        "completed_at",
    )
    list_filter = ("kind", "status", "error_code", "question__topic")
    list_select_related = ("question", "user")
    search_fields = ("question__stem", "error_message")
    raw_id_fields = ("question", "user")
    actions = ("retry_failed",)

    @admin.action(description=_("실패한 작업 다시 시도 (새 작업)"))
    def retry_failed(self, request, queryset):
        n = sum(job_retry(job=job) for job in queryset)
        self.message_user(
            request,
            ngettext(
                "%(n)d개 작업을 다시 넣었습니다.", "%(n)d개 작업을 다시 넣었습니다.", n
            )
            % {"n": n},
        )


@admin.register(SessionJob)
class SessionJobAdmin(JobAdminBase):
    list_display = (
        "id",
        "session",
        "user",
        "status",
        "attempts",
        "error_code",
        "created_at",
    )
    raw_id_fields = ("session", "user")


@admin.register(SessionAnalysis)
class SessionAnalysisAdmin(admin.ModelAdmin):
    list_display = ("session", "confidence", "model", "created_at")
    list_filter = ("confidence",)
    raw_id_fields = ("session",)


@admin.register(QuizSession)
class QuizSessionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "topic",
        "mode",
        "stage",
        "status",
        "answered_count",
        "started_at",
        "finished_at",
    )
    list_filter = ("mode", "status", "topic")
    search_fields = ("user__username",)
    raw_id_fields = ("user", "topic")
    readonly_fields = ("question_ids",)


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "question",
        "outcome",
        "selected_choice",
        "time_taken_ms",
        "created_at",
        "reviewed_at",
    )
    list_filter = ("outcome", "question__topic")
    search_fields = ("user__username", "question__stem")
    raw_id_fields = ("user", "session", "question")
    list_select_related = ("user", "question")


@admin.register(QuestionProgress)
class QuestionProgressAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "question",
        "last_outcome",
        "pattern_state",
        "due_at",
        "review_stage",
        "last_attempted_at",
    )
    list_filter = ("pattern_state", "last_outcome", "topic")
    search_fields = ("user__username", "question__stem")
    raw_id_fields = ("user", "topic", "question", "last_attempt")
    list_select_related = ("user", "question")


@admin.register(LearnerSettings)
class LearnerSettingsAdmin(admin.ModelAdmin):
    list_display = ("user", "desired_retention")
    raw_id_fields = ("user",)


@admin.register(ExamPlan)
class ExamPlanAdmin(admin.ModelAdmin):
    list_display = ("user", "topic", "exam_date", "daily_size")
    list_filter = ("exam_date",)
    raw_id_fields = ("user", "topic")


class DocumentChunkInline(admin.TabularInline):
    model = DocumentChunk
    fields = ("ordinal", "citation", "section", "text", "embedding_model")
    readonly_fields = fields
    extra = 0
    max_num = 0
    show_change_link = False


@admin.register(Document)
class DocumentAdmin(AsciiNumbersAdmin):
    list_display = (
        "title",
        "owner",
        "material_type",
        "jurisdiction",
        "year",
        "status",
        "chunk_count",
        "effective_date",
        "in_force",
        "created_at",
    )
    list_filter = ("status", "material_type", "in_force", "topics")
    search_fields = ("title", "text")
    filter_horizontal = ("topics",)
    readonly_fields = (
        "file_kind",
        "status",
        "error",
        "chunk_count",
        "pieces_total",
        "pieces_done",
        "attempts",
        "started_at",
        "processed_at",
        "promulgated_on",
        "effective_on",
        "source_url",
        "annexes",
        "act_key",
        "effective_date",
        "promulgation_no",
        "in_force",
    )
    exclude = (
        "text",
        "front_matter",
        "heartbeat_at",
        "error_code",
        "error_params",
        "content_digest",
    )
    inlines = (DocumentChunkInline,)
    actions = ("reprocess",)
    form = DocumentAdminForm

    def get_queryset(self, request):
        """Documents of the topics this staff user may manage, and their own."""
        documents = super().get_queryset(request)
        if may_manage_all_topics(request.user):
            return documents
        topics = Topic.objects.editable_by(request.user)
        mine_or_managed = Q(owner=request.user) | Q(topics__in=topics)
        return documents.filter(pk__in=documents.filter(mine_or_managed).values("pk"))

    def get_readonly_fields(self, request, obj=None):
        # The uploader owns what they upload, as on the web.
        return ("owner", *super().get_readonly_fields(request, obj))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"uploader": request.user})

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "topics":
            kwargs["queryset"] = Topic.objects.editable_by(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            # Through the service, as the topic page: caps, quotas, the owner.
            document = document_create(
                owner=request.user,
                topics=list(form.cleaned_data.get("topics") or []),
                title=obj.title,
                upload=form.cleaned_data["file"],
                material_type=obj.material_type,
                jurisdiction=obj.jurisdiction,
                year=obj.year,
                enqueue=False,  # save_related enqueues once the topics are set
            )
            obj.pk, obj.owner, obj.file = document.pk, document.owner, document.file
            obj.file_kind = document.file_kind
            obj._state.adding = False
            return
        # Through the service: a new file or title is processed again.
        document_update(
            document=obj,
            data={
                name: getattr(obj, name)
                for name in form.changed_data
                if name in DOCUMENT_EDITABLE_FIELDS
            },
        )
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            transaction.on_commit(lambda: document_ingest_enqueue(form.instance.pk))

    @admin.action(description=_("다시 처리 (텍스트 추출·임베딩)"))
    def reprocess(self, request, queryset):
        count = documents_reprocess(
            document_ids=list(queryset.values_list("id", flat=True))
        )
        self.message_user(
            request,
            ngettext(
                "%(n)d개 자료를 다시 처리합니다.",
                "%(n)d개 자료를 다시 처리합니다.",
                count,
            )
            % {"n": count},
        )


@admin.register(SubjectNote)
class SubjectNoteAdmin(admin.ModelAdmin):
    list_display = ("topic", "subject", "scope", "status", "generated_at")
    list_filter = ("status", "topic")
    search_fields = ("subject", "scope", "text")
