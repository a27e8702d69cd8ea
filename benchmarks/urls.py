"""The app's URLs plus the baselines: bare views behind the same middleware."""

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path

BASELINE_PATH = "/__bench__/baseline"
BASELINE_USER_PATH = "/__bench__/baseline-user"
BASELINE_WRITE_PATH = "/__bench__/baseline-write"
WRITE_TABLE = "benchmark_write"


def baseline(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


def baseline_user(request):
    """The same, after loading the session and the user as login_required does."""
    return HttpResponse(
        "ok" if request.user.is_authenticated else "anonymous",
        content_type="text/plain; charset=utf-8",
    )


def baseline_write(request):
    """A bare write: the authenticated view plus one durable INSERT (its own
    commit, as an answer's), the floor under any path that records something."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {WRITE_TABLE} (user_id, at) VALUES (%s, now())",
            [request.user.pk],
        )
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


def baseline_write_table_create() -> None:
    """The bare write's table, in the benchmark's own database."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {WRITE_TABLE} "
            "(id bigserial PRIMARY KEY, user_id bigint, at timestamptz NOT NULL)"
        )


urlpatterns = [
    path(BASELINE_PATH.lstrip("/"), baseline, name="bench_baseline"),
    path(BASELINE_USER_PATH.lstrip("/"), baseline_user, name="bench_baseline_user"),
    path(BASELINE_WRITE_PATH.lstrip("/"), baseline_write, name="bench_baseline_write"),
    path("", include("studyproj.urls")),
]
