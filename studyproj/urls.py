from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from study.views.health import jobs_health_page
from study.views.language import set_language
from studyproj.accounts import (
    LoginView,
    ThrottledPasswordChangeView,
    ThrottledPasswordResetView,
)

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
    path("accounts/login/", LoginView.as_view(), name="login"),
    path(
        "accounts/password_change/",
        ThrottledPasswordChangeView.as_view(),
        name="password_change",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    # Same name as django.conf.urls.i18n's, so {% url 'set_language' %} finds it.
    path("i18n/setlang/", set_language, name="set_language"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("study.urls")),
]
