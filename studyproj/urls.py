from django.contrib import admin
from django.urls import include, path

from study.views.health import jobs_health_page
from studyproj.accounts import ThrottledPasswordResetView

urlpatterns = [
    path(
        "admin/jobs-health/",
        admin.site.admin_view(jobs_health_page),
        name="jobs_health",
    ),
    path("admin/", admin.site.urls),
    path(
        "accounts/password_reset/",
        ThrottledPasswordResetView.as_view(),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("study.urls")),
]
