"""The forecast snapshot (issue 30): the forecast, plan and calibration pages
read one row computed in the background, show what a live computation
shows, and never show what a later answer or exam date has made untrue."""

import dataclasses
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from django_q.models import OrmQ

from study.forecast import codec, model, snapshots
from study.forecast import plan as daily
from study.forecast import selectors as fsel
from study.models import ExamPlan, ForecastSnapshot, QuizMode
from study.services.exam_plans import exam_plan_delete, exam_plan_set
from tests.study.learner_helpers import (
    answer_all,
    make_bank,
    pretend_answered_days_ago,
    start,
)


@pytest.fixture
def studied(user, topic):
    make_bank(topic, subjects=3, per_subject=8)
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 2)
    pretend_answered_days_ago(user, days=3)
    answer_all(
        start(user, topic, mode=QuizMode.ROUND, round_key="2023-1"),
        lambda p, q: 2 if p % 3 else 5,
    )
    exam_plan_set(
        user=user,
        topic=topic,
        exam_date=timezone.localdate() + timedelta(days=30),
        daily_size=10,
    )
    return user


def refresh(user, topic, now=None) -> bool:
    return snapshots.forecast_snapshot_refresh(
        user_id=user.pk, topic_id=topic.pk, now=now
    )


def row(user, topic) -> ForecastSnapshot:
    return ForecastSnapshot.objects.get(user=user, topic=topic)


# -- the codec --


@dataclasses.dataclass
class Inner:
    day: date
    values: list[float]


@dataclasses.dataclass
class Outer:
    name: str
    inner: list[Inner]
    by_name: dict[str, int] = dataclasses.field(default_factory=dict)


def test_the_codec_rebuilds_dataclasses_dates_and_lists():
    value = Outer("과목1", [Inner(date(2026, 3, 1), [0.25, 1.0])], {"과목1": 3})
    stored = codec.encode(value)
    assert codec.decode(stored, (Outer, Inner)) == value


def test_the_codec_refuses_classes_it_was_not_given_and_other_shapes():
    stored = codec.encode(Outer("x", []))
    with pytest.raises(codec.ShapeError):
        codec.decode(stored, (Inner,))
    stored["unknown_field"] = 1
    with pytest.raises(codec.ShapeError):
        codec.decode(stored, (Outer, Inner))


def test_a_new_field_changes_the_shape_version():
    @dataclasses.dataclass
    class Outer:  # noqa: F811 - the same name with one more field
        name: str
        inner: list
        by_name: dict
        share_new: float = 0.0

    assert codec.shape_version([Outer]) != codec.shape_version([globals()["Outer"]])


# -- the snapshot --


@pytest.mark.django_db
def test_the_pages_show_from_the_snapshot_what_they_compute_live(studied, topic):
    now = timezone.now()
    live = fsel.topic_forecast(user=studied, topic=topic, now=now, with_curve=True)
    live_plan = fsel.daily_plan(user=studied, topic=topic, now=now)
    live_calibration = fsel.calibration_compute(user=studied, topic=topic)
    live_track = fsel.forecast_track_record(user=studied, topic=topic)
    assert refresh(studied, topic, now=now)
    cached = fsel.topic_forecast(user=studied, topic=topic, with_curve=True)
    assert cached.forecast == live.forecast
    # The latest whole round (its times too) and the new-question line.
    assert live.latest_sitting is not None
    assert cached.latest_sitting == live.latest_sitting
    assert cached.latest_sitting.finished_at.tzinfo is not None
    assert cached.new_share_measured == live.new_share_measured
    assert cached.curve == live.curve and cached.idle_curve == live.idle_curve
    assert isinstance(cached.forecast, model.Forecast)
    plan = fsel.daily_plan(user=studied, topic=topic)
    assert isinstance(plan.plan, daily.Plan)
    assert plan.plan == live_plan.plan
    assert [q.pk for q in plan.new_questions] == [q.pk for q in live_plan.new_questions]
    assert [r.pk for r in plan.reviews] == [r.pk for r in live_plan.reviews]
    assert fsel.calibration_for(user=studied, topic=topic) == live_calibration
    assert row(studied, topic).track is not None
    assert fsel.forecast_track_record(user=studied, topic=topic) == live_track


@pytest.mark.django_db
def test_the_track_record_is_recomputed_once_the_exam_date_has_passed(studied, topic):
    refresh(studied, topic)
    snapshot = row(studied, topic)
    plan = fsel.exam_plan_get(user=studied, topic=topic)
    today = timezone.localdate()
    assert fsel.snapshot_is_fresh(snapshot, "track", now=timezone.now(), exam_plan=plan)
    # The same row read on the day after the exam: the record now names the
    # exam date (sittings near it), so the stored one is not used.
    after_exam = timezone.now() + timedelta(days=(plan.exam_date - today).days + 1)
    assert not fsel.snapshot_is_fresh(snapshot, "track", now=after_exam, exam_plan=plan)


@pytest.mark.django_db
def test_a_fresh_snapshot_spares_the_page_every_answer(client, studied, topic):
    refresh(studied, topic)
    client.force_login(studied)
    url = reverse("study:forecast", args=[topic.pk])
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url)
    assert page.status_code == 200
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "study_attempt" not in sql  # no answer is read
    assert "합격" in page.content.decode()


@pytest.mark.django_db
def test_a_finished_session_makes_it_stale_and_queues_its_refresh(
    studied, topic, django_capture_on_commit_callbacks
):
    refresh(studied, topic)
    before = row(studied, topic).generation
    with django_capture_on_commit_callbacks(execute=True):
        answer_all(start(studied, topic, size=4), 1)
    snapshot = row(studied, topic)
    assert snapshot.stale and snapshot.generation == before + 1
    queued = [
        task for task in OrmQ.objects.all() if task.func() == snapshots.REFRESH_TASK
    ]
    assert queued and queued[-1].args() == (studied.pk, topic.pk)
    # Until it is refreshed, the pages compute what they show themselves.
    assert (
        fsel.snapshot_part(
            snapshot, "forecast", now=timezone.now(), exam_plan=ExamPlan.objects.get()
        )
        is None
    )
    assert refresh(studied, topic) and not row(studied, topic).stale


@pytest.mark.django_db
def test_an_exam_date_or_plan_size_change_is_never_answered_from_the_old_one(
    client, studied, topic
):
    refresh(studied, topic)
    client.force_login(studied)
    plan = ExamPlan.objects.get()
    exam_plan_set(user=studied, topic=topic, exam_date=plan.exam_date, daily_size=20)
    page = client.get(reverse("study:plan", args=[topic.pk])).content.decode()
    assert "하루 20문제" in page
    snapshot = row(studied, topic)
    assert snapshot.stale
    # Even a row nobody marked stale is not read for another exam date.
    refresh(studied, topic)
    ExamPlan.objects.update(exam_date=plan.exam_date + timedelta(days=7))
    new = ExamPlan.objects.get()
    assert not fsel.snapshot_is_fresh(
        row(studied, topic), "forecast", now=timezone.now(), exam_plan=new
    )
    exam_plan_delete(plan=new)
    refresh(studied, topic)
    snapshot = row(studied, topic)
    assert snapshot.forecast is None and snapshot.plan is None
    assert snapshot.calibration is not None  # calibration needs no exam date


@pytest.mark.django_db
def test_a_refresh_overtaken_by_an_answer_does_not_store(studied, topic, monkeypatch):
    compute = snapshots._compute

    def answered_meanwhile(**kwargs):
        values = compute(**kwargs)
        snapshots.forecast_snapshots_invalidate(user_id=studied.pk, topic_id=topic.pk)
        return values

    monkeypatch.setattr(snapshots, "_compute", answered_meanwhile)
    assert not refresh(studied, topic)
    assert row(studied, topic).stale
    monkeypatch.undo()
    assert refresh(studied, topic) and not row(studied, topic).stale


@pytest.mark.django_db
def test_the_schedule_refreshes_stale_rows_and_yesterdays_forecasts(
    studied, topic, other_user
):
    refresh(studied, topic)
    assert not refresh(studied, topic)  # fresh: nothing to do
    tomorrow = timezone.now() + timedelta(days=1)
    assert snapshots.forecast_snapshots_refresh_due(now=tomorrow) == 1
    assert row(studied, topic).computed_for == timezone.localdate(tomorrow)
    # A learner without an exam date: only what a session makes stale.
    answer_all(start(other_user, topic, size=3), 2)
    assert snapshots.forecast_snapshots_refresh_due(now=tomorrow) == 1
    assert snapshots.forecast_snapshots_refresh_due(now=tomorrow) == 0


@pytest.mark.django_db
def test_a_snapshot_computed_in_korean_reads_in_english(client, studied, topic):
    with override("ko"):
        refresh(studied, topic)
    client.force_login(studied)
    page = client.get(
        reverse("study:calibration", args=[topic.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    text = page.content.decode()
    assert "자신 있게" not in text and "chosen" in text.lower()


@pytest.mark.django_db
def test_reading_a_stale_snapshot_writes_nothing(client, studied, topic):
    client.force_login(studied)
    before = list(ForecastSnapshot.objects.values())
    for name in ("forecast", "plan", "calibration"):
        assert client.get(reverse(f"study:{name}", args=[topic.pk])).status_code == 200
    assert client.get(reverse("study:home")).status_code == 200
    assert list(ForecastSnapshot.objects.values()) == before
