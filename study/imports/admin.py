"""Admin: import question files with the same steps and code as the topic page
(upload, dry run, import, report). Imported by study.admin."""

from typing import Any, cast

from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from study.imports.forms import AdminQuestionImportForm
from study.imports.http import import_step, report_download
from study.imports.reports import report_rejected_count
from study.imports.runs import ImportRejected, question_import_create
from study.imports.selectors import import_summary
from study.models import QuestionImport, Topic


@admin.register(QuestionImport)
class QuestionImportAdmin(admin.ModelAdmin):
    list_display = ("id", "topic", "created_by", "status", "rows", "created_at")
    list_filter = ("status",)
    list_select_related = ("topic", "created_by")
    search_fields = ("topic__name", "created_by__username")

    @admin.display(description=_("행 (추가/고침/그대로/거부)"))
    def rows(self, obj: QuestionImport) -> str:
        report = obj.report or obj.dry_run_report
        if not report:
            return "-"
        return (
            f"{report['rows']} ({report['imported']}/{report['updated']}/"
            f"{report['unchanged']}/{report_rejected_count(report)})"
        )

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<int:import_id>/confirm/",
                self.admin_site.admin_view(require_POST(self.confirm_view)),
                name="study_questionimport_confirm",
            ),
            path(
                "<int:import_id>/retry/",
                self.admin_site.admin_view(require_POST(self.retry_view)),
                name="study_questionimport_retry",
            ),
            path(
                "<int:import_id>/report/",
                self.admin_site.admin_view(self.report_view),
                name="study_questionimport_report",
            ),
        ]
        return own + super().get_urls()

    def get_queryset(self, request: HttpRequest) -> QuerySet[QuestionImport]:
        """Imports into the topics this staff user may manage, as on the web."""
        topics = Topic.objects.editable_by(request.user)
        return super().get_queryset(request).filter(topic__in=topics)

    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        user = cast(User, request.user)  # the admin site lets only staff in
        post = request.method == "POST"
        form = (
            AdminQuestionImportForm(request.POST, request.FILES, user=user)
            if post
            else AdminQuestionImportForm(user=user)
        )
        if post and form.is_valid():
            try:
                run = question_import_create(
                    topic=form.cleaned_data["topic"],
                    user=user,
                    uploads=form.cleaned_data["files"],
                )
            except ImportRejected as exc:
                form.add_error("files", str(exc))
            else:
                return redirect("admin:study_questionimport_change", run.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("문제 가져오기"),
            "form": form,
        }
        return render(request, "admin/study/questionimport/upload.html", context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        run = self._get_run(request, object_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("문제 가져오기 #%(id)s · %(topic)s")
            % {"id": run.pk, "topic": run.topic.name},
            **import_summary(run=run, urls=self._urls(run)),
        }
        if request.htmx:  # type: ignore[attr-defined]  # set by HtmxMiddleware
            return render(request, "study/_import_status.html", context)
        return render(request, "admin/study/questionimport/detail.html", context)

    def confirm_view(self, request: HttpRequest, import_id: int) -> HttpResponse:
        return self._step(request, import_id, confirm=True)

    def retry_view(self, request: HttpRequest, import_id: int) -> HttpResponse:
        return self._step(request, import_id, confirm=False)

    def _step(
        self, request: HttpRequest, import_id: int, *, confirm: bool
    ) -> HttpResponse:
        run = self._get_run(request, import_id)
        if not self.has_change_permission(request, run):
            raise PermissionDenied
        import_step(request, run, confirm=confirm)
        return redirect("admin:study_questionimport_change", run.pk)

    def report_view(self, request: HttpRequest, import_id: int) -> HttpResponse:
        return report_download(self._get_run(request, import_id))

    def _get_run(self, request: HttpRequest, import_id: int | str) -> QuestionImport:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(
            self.get_queryset(request).select_related("topic"), pk=import_id
        )

    def _urls(self, run: QuestionImport) -> dict:
        return {
            "status": reverse("admin:study_questionimport_change", args=[run.pk]),
            "confirm": reverse("admin:study_questionimport_confirm", args=[run.pk]),
            "retry": reverse("admin:study_questionimport_retry", args=[run.pk]),
            "report": reverse("admin:study_questionimport_report", args=[run.pk]),
            "again": reverse("admin:study_questionimport_add"),
            "topic": reverse("study:topic", args=[run.topic_id]),
        }
