"""The app's URLs plus the baseline: a bare view behind the same middleware."""

from django.http import HttpResponse
from django.urls import include, path

BASELINE_PATH = "/__bench__/baseline"
BASELINE_USER_PATH = "/__bench__/baseline-user"


def baseline(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


def baseline_user(request):
    """The same, after loading the session and the user as login_required does."""
    return HttpResponse(
        "ok" if request.user.is_authenticated else "anonymous",
        content_type="text/plain; charset=utf-8",
    )


urlpatterns = [
    path(BASELINE_PATH.lstrip("/"), baseline, name="bench_baseline"),
    path(BASELINE_USER_PATH.lstrip("/"), baseline_user, name="bench_baseline_user"),
    path("", include("studyproj.urls")),
]
