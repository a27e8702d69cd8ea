from django.contrib import admin
from django.shortcuts import render
from django.utils.translation import gettext as _

from study.jobs.health import SECTIONS, jobs_health


def jobs_health_page(request):
    """Staff-only (wrapped by admin_view in the URLconf)."""
    report = jobs_health()
    sections = [(title, *report[key]) for key, title in SECTIONS]
    context = {
        **admin.site.each_context(request),
        "sections": sections,
        "title": _("AI 작업 점검"),
    }
    return render(request, "admin/jobs_health.html", context)
