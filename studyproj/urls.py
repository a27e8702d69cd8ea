from django.contrib import admin
from django.urls import include, path

from study.views.health import jobs_health_page

urlpatterns = [
    path(
        "admin/jobs-health/",
        admin.site.admin_view(jobs_health_page),
        name="jobs_health",
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("study.urls")),
]
