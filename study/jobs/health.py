"""The operational health report of the background AI jobs (seed phase4_health.sql):
one set of queries behind both the admin page and `manage.py jobs_health`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy

from study.models import JobError, JobKind, JobStatus
from study.models.jobs import TERMINAL

SECTIONS = (
    ("question_jobs_by_status", gettext_lazy("1. 문항 작업 status × error_code")),
    ("session_jobs_by_status", gettext_lazy("2. 세션 분석 작업 status × error_code")),
    ("confidence_distribution", gettext_lazy("3. 세션 분석 신뢰도 분포 (보정 후)")),
    ("confidence_raw_vs_calibrated", gettext_lazy("4. 모델 신뢰도 vs 보정 신뢰도")),
    ("latency_7d", gettext_lazy("5. 최근 7일 처리 지연 (초)")),
    ("skipped_reasons", gettext_lazy("6. 건너뜀 사유")),
    ("failure_rates", gettext_lazy("7. guard_fail / parse_fail / llm_timeout 비율")),
    ("guard_reasons", gettext_lazy("8. guard_fail 사유 (해설 작업, 분야 설명)")),
    (
        "independent_check",
        gettext_lazy("9. 독립 확인: AI가 정답 없이 고른 답 vs 정답"),
    ),
    (
        "ai_spend_by_user",
        gettext_lazy("10. 사용자별 AI 사용량 (LLM 호출, 최근 24시간 / 7일)"),
    ),
)
SPEND_USERS_SHOWN = 50


def _rows(
    sql: str, params: Mapping[str, Any] | Sequence[Any] = ()
) -> tuple[list[str], list[tuple[Any, ...]]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [c.name for c in cursor.description], cursor.fetchall()


# Every code and state below is a parameter from the one vocabulary
# (JobStatus, JobError, JobKind), never a literal in the SQL.
LATENCY = """
    SELECT %(kind)s AS kind, count(*) AS jobs,
      round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s)::numeric, 2) AS p50_s,
      round(percentile_cont(0.95) WITHIN GROUP (ORDER BY s)::numeric, 2) AS p95_s,
      round(max(s)::numeric, 2) AS max_s, round(avg(s)::numeric, 2) AS avg_s,
      round(avg(wait)::numeric, 2) AS avg_pickup_s
    FROM (SELECT extract(epoch FROM completed_at - created_at) AS s,
                 extract(epoch FROM started_at - created_at) AS wait
          FROM {table} WHERE completed_at >= %(since)s AND status = %(completed)s
          AND {where}) t"""
RATES = """
    SELECT %(kind)s AS kind, count(*) AS terminal,
      round(100.0 * count(*) FILTER (WHERE error_code = %(guard_fail)s)
            / greatest(count(*), 1), 1) AS guard_fail_pct,
      round(100.0 * count(*) FILTER (WHERE error_code = %(parse_fail)s)
            / greatest(count(*), 1), 1) AS parse_fail_pct,
      round(100.0 * count(*) FILTER (WHERE error_code = %(llm_timeout)s)
            / greatest(count(*), 1), 1) AS llm_timeout_pct
    FROM {table} WHERE status = ANY(%(terminal)s) AND {where}"""
BY_STATUS = (
    "SELECT status, coalesce(nullif(error_code, ''), '-') AS error_code, count(*) "
    "FROM {table} GROUP BY 1, 2 ORDER BY 1, 2"
)
# (label, table, rows of that kind): what the per-kind sections cover.
KINDS = (
    (JobKind.EXPLANATION, "study_questionjob", "kind = %(explanation)s"),
    (JobKind.SUBJECT_NOTE, "study_questionjob", "kind = %(subject_note)s"),
    (JobKind.SESSION_SUMMARY, "study_sessionjob", "true"),
)


def _vocabulary() -> dict[str, Any]:
    return {
        "completed": JobStatus.COMPLETED.value,
        "failed": JobStatus.FAILED.value,
        "skipped": JobStatus.SKIPPED.value,
        "terminal": [s.value for s in TERMINAL],
        "guard_fail": JobError.GUARD_FAIL.value,
        "parse_fail": JobError.PARSE_FAIL.value,
        "llm_timeout": JobError.LLM_TIMEOUT.value,
        "explanation": JobKind.EXPLANATION.value,
        "subject_note": JobKind.SUBJECT_NOTE.value,
        "session_summary": JobKind.SESSION_SUMMARY.value,
    }


def _per_kind(
    sql: str, params: dict[str, Any]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    columns: list[str] = []
    rows: list[tuple[Any, ...]] = []
    for kind, table, where in KINDS:
        columns, found = _rows(
            sql.format(table=table, where=where), {**params, "kind": kind.value}
        )
        rows += found
    return columns, rows


def jobs_health() -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    params = {**_vocabulary(), "since": timezone.now() - timedelta(days=7)}
    return {
        "question_jobs_by_status": _rows(BY_STATUS.format(table="study_questionjob")),
        "session_jobs_by_status": _rows(BY_STATUS.format(table="study_sessionjob")),
        "confidence_distribution": _rows(
            "SELECT confidence, count(*) FROM study_sessionanalysis "
            "GROUP BY 1 ORDER BY 1"
        ),
        "confidence_raw_vs_calibrated": _rows(
            "SELECT coalesce(payload->>'model_confidence_raw', '-') AS raw, "
            "payload->>'calibrated_confidence' AS calibrated, count(*), "
            "bool_or(coalesce(payload->>'model_confidence_raw', '') "
            "    <> payload->>'calibrated_confidence') AS capped "
            "FROM study_sessionjob WHERE status = %(completed)s "
            "GROUP BY 1, 2 ORDER BY 1, 2",
            params,
        ),
        "latency_7d": _per_kind(LATENCY, params),
        "skipped_reasons": _rows(
            "SELECT kind, error_code, count(*) FROM study_questionjob "
            "WHERE status = %(skipped)s GROUP BY 1, 2 UNION ALL "
            "SELECT %(session_summary)s, error_code, count(*) FROM study_sessionjob "
            "WHERE status = %(skipped)s GROUP BY 2 ORDER BY 1, 2",
            params,
        ),
        "failure_rates": _per_kind(RATES, params),
        "guard_reasons": _rows(
            "SELECT %(explanation)s AS kind, "
            "coalesce(payload->>'guard_reason', '-') AS reason, count(*) "
            "FROM study_questionjob WHERE error_code = %(guard_fail)s "
            "AND kind = %(explanation)s GROUP BY 2 "
            "UNION ALL "
            "SELECT %(subject_note)s, "
            "coalesce(error_params->>'guard_reason', '-'), count(*) "
            "FROM study_subjectnote "
            "WHERE status = %(failed)s AND error_code = %(guard_fail)s "
            "GROUP BY 2 "
            "ORDER BY 1, 2",
            params,
        ),
        "ai_spend_by_user": _spend_by_user(),
        "independent_check": _rows(
            "SELECT payload->>'check' AS outcome, count(*), "
            "round(avg((payload->>'check_latency_s')::numeric), 2) AS avg_check_s, "
            "count(*) FILTER (WHERE status = %(completed)s) AS shown "
            "FROM study_questionjob WHERE payload->>'check' IS NOT NULL "
            "GROUP BY 1 ORDER BY 1",
            params,
        ),
    }


def _spend_by_user() -> tuple[list[str], list[tuple[Any, ...]]]:
    """LLM calls charged to each user (study.services.ai_budget), the most
    spending first, with the background jobs their budget held back."""
    users = get_user_model()._meta.db_table
    return _rows(
        f"""
        WITH spend AS (
          SELECT user_id,
            count(*) FILTER (WHERE created_at >= now() - interval '1 day') AS calls_24h,
            count(*) AS calls_7d, sum(tokens) AS tokens_7d,
            max(created_at) AS last_call
          FROM study_aispend WHERE created_at >= now() - interval '7 days'
          GROUP BY user_id),
        held AS (
          SELECT user_id, count(*) AS held_7d FROM (
            SELECT user_id FROM study_questionjob WHERE error_code = %s
              AND created_at >= now() - interval '7 days'
            UNION ALL
            SELECT user_id FROM study_sessionjob WHERE error_code = %s
              AND created_at >= now() - interval '7 days') j
          GROUP BY user_id)
        SELECT u.username AS "user", coalesce(s.calls_24h, 0) AS calls_24h,
          coalesce(s.calls_7d, 0) AS calls_7d, coalesce(s.tokens_7d, 0) AS tokens_7d,
          coalesce(h.held_7d, 0) AS over_budget_jobs_7d, %s AS budget,
          s.last_call
        FROM spend s FULL JOIN held h ON h.user_id = s.user_id
        JOIN {users} u ON u.id = coalesce(s.user_id, h.user_id)
        ORDER BY calls_7d DESC, over_budget_jobs_7d DESC, u.username
        LIMIT {SPEND_USERS_SHOWN}""",
        [
            JobError.BUDGET_EXCEEDED.value,
            JobError.BUDGET_EXCEEDED.value,
            settings.AI_BUDGET_PER_USER,
        ],
    )
