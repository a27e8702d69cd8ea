from django.contrib import admin
from django.utils import timezone

from study.models import Question, Topic


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "is_shared", "created_at")
    list_filter = ("is_shared",)
    search_fields = ("name", "description", "owner__username")
    autocomplete_fields = ("owner",)


class DeletedFilter(admin.SimpleListFilter):
    title = "삭제 여부"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return (("no", "살아 있음"), ("yes", "삭제됨"))

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
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
    )
    search_fields = ("stem", "choice_1", "choice_2", "choice_3", "choice_4", "subject")
    list_select_related = ("topic",)
    readonly_fields = ("created_at", "updated_at", "ai_explanation_generated_at")
    actions = ("soft_delete", "restore")
    list_per_page = 50
    fieldsets = (
        (
            None,
            {"fields": ("topic", "exam_name", ("exam_year", "exam_session", "number"))},
        ),
        (
            "문제",
            {
                "fields": (
                    "subject",
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
            "AI 해설",
            {
                "fields": (
                    "ai_explanation_status",
                    "ai_explanation",
                    "ai_explanation_model",
                    "ai_explanation_generated_at",
                )
            },
        ),
        ("기록", {"fields": ("created_at", "updated_at", "deleted_at")}),
    )

    @admin.display(description="문제")
    def short_stem(self, obj: Question) -> str:
        return obj.stem[:50]

    def save_model(self, request, obj, form, change):
        from publishing.services import publish_question

        if change:
            obj.mark_explanation_stale_if_needed(set(form.changed_data))
        super().save_model(request, obj, form, change)
        # changeform_view's transaction holds the edit and its events together.
        publish_question(question=obj)

    @admin.action(description="선택한 문항 삭제(소프트)")
    def soft_delete(self, request, queryset):
        from django.db import transaction

        from publishing.services import publish_questions_bulk

        with transaction.atomic():
            ids = list(
                queryset.filter(deleted_at__isnull=True).values_list("pk", flat=True)
            )
            n = Question.objects.filter(pk__in=ids, deleted_at__isnull=True).update(
                deleted_at=timezone.now()
            )
            publish_questions_bulk(questions=Question.objects.filter(pk__in=ids))
        self.message_user(request, f"{n}개 문항을 삭제했습니다.")

    @admin.action(description="선택한 문항 되살리기")
    def restore(self, request, queryset):
        from django.db import transaction

        from publishing.services import publish_questions_bulk

        with transaction.atomic():
            ids = list(
                queryset.filter(deleted_at__isnull=False).values_list("pk", flat=True)
            )
            n = Question.objects.filter(pk__in=ids, deleted_at__isnull=False).update(
                deleted_at=None
            )
            publish_questions_bulk(questions=Question.objects.filter(pk__in=ids))
        self.message_user(request, f"{n}개 문항을 되살렸습니다.")
