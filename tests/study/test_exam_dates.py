"""An exam date for every question: a round's own date, else the usual date
of its 회차 in the topic's exam spec, else the 기사 필기 defaults."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from study.exam_dates import (
    DEFAULT_SESSION_DATES,
    ExamDateError,
    exam_date,
    session_dates_parse,
)
from study.models import ExamRound, ExamSpec
from study.selectors.exam_dates import question_exam_dates
from study.selectors.exam_spec import exam_paper_for_topic
from study.services.exam_specs import exam_dates_save, exam_spec_clear, exam_spec_save
from tests.conftest import make_question

USUAL = DEFAULT_SESSION_DATES


def test_it_reads_a_round_at_the_usual_date_of_its_sitting() -> None:
    assert exam_date(2016, "1", usual=USUAL) == datetime.date(2016, 3, 5)
    assert exam_date(2019, "2", usual=USUAL) == datetime.date(2019, 5, 15)
    assert exam_date(2018, "3", usual=USUAL) == datetime.date(2018, 8, 15)
    # A merged round was held at the later sitting's time; an extra sitting
    # and a booklet form at their sitting's.
    assert exam_date(2020, "1,2", usual=USUAL) == datetime.date(2020, 5, 15)
    assert exam_date(2005, "1추가", usual=USUAL) == datetime.date(2005, 3, 5)
    assert exam_date(2019, "2_A", usual=USUAL) == datetime.date(2019, 5, 15)


def test_a_round_with_its_own_date_and_rounds_without_one() -> None:
    held = {(2020, "1,2"): datetime.date(2020, 6, 6)}
    assert exam_date(2020, "1,2", usual=USUAL, held=held) == datetime.date(2020, 6, 6)
    assert exam_date(2020, "1,2_A", usual=USUAL, held=held) == datetime.date(2020, 6, 6)
    assert exam_date(None, "1", usual=USUAL) is None
    assert exam_date(2019, "", usual=USUAL) is None
    assert exam_date(2019, "A", usual=USUAL) is None  # a form, no sitting
    assert exam_date(2019, "9", usual=USUAL) is None  # no usual date for 9회


def test_usual_dates_are_read_from_lines_and_bad_lines_are_named() -> None:
    assert session_dates_parse("1회 3월 2일\n\n2: 04-27\n3 8/4") == {
        1: (3, 2),
        2: (4, 27),
        3: (8, 4),
    }
    with pytest.raises(ExamDateError, match="^2:"):
        session_dates_parse("1회 03-02\n2회 13-40")
    with pytest.raises(ExamDateError):
        session_dates_parse("언젠가")


@pytest.mark.django_db
def test_every_question_gets_a_date_from_the_topic_calendar(topic) -> None:
    early = make_question(topic, 1, year=2016, session="1")
    merged = make_question(topic, 2, year=2020, session="1,2")
    loose = make_question(topic, 3, year=None, session="")
    exam_dates_save(
        topic=topic,
        session_dates={1: (3, 6)},
        round_dates={(2020, "1,2"): datetime.date(2020, 6, 6)},
    )
    dates = question_exam_dates([early, merged, loose])
    assert dates == {
        early.pk: datetime.date(2016, 3, 6),
        merged.pk: datetime.date(2020, 6, 6),
        loose.pk: None,
    }
    # A spec kept for its dates leaves the paper the bank's.
    assert exam_paper_for_topic(topic=topic).is_set is False
    exam_dates_save(topic=topic, session_dates={}, round_dates={})
    assert not ExamRound.objects.exists()
    assert question_exam_dates([early])[early.pk] == datetime.date(2016, 3, 5)


@pytest.mark.django_db
def test_clearing_the_paper_keeps_the_dates(topic) -> None:
    make_question(topic, 1)
    exam_spec_save(
        topic=topic,
        subjects=["안전관리론"],
        questions_per_subject=20,
        time_limit_minutes=30,
    )
    exam_dates_save(topic=topic, session_dates={3: (8, 20)}, round_dates={})
    exam_spec_clear(topic=topic)
    spec = ExamSpec.objects.get(topic=topic)
    assert spec.subjects == [] and spec.session_dates == {"3": "08-20"}
    assert exam_paper_for_topic(topic=topic).is_set is False


@pytest.mark.django_db
def test_the_owner_edits_the_dates_on_the_settings_page(client, user, topic) -> None:
    question = make_question(topic, 1, year=2020, session="1,2")
    client.force_login(user)
    page = client.get(reverse("study:topic_edit", args=[topic.pk]))
    assert page.status_code == 200
    assert 'id="exam-dates"' in page.content.decode()
    url = reverse("study:exam_dates_edit", args=[topic.pk])
    bad = client.post(url, {"session_dates": "1회 03-05", "round_dates": "2020 1,2회"})
    assert bad.status_code == 400
    assert "1번째 줄을 읽을 수 없습니다" in bad.content.decode()
    assert not ExamRound.objects.exists()
    done = client.post(
        url,
        {
            "session_dates": "1회 03-05\n2회 05-20",
            "round_dates": "2020년 1·2회 2020-06-06",
        },
    )
    assert done.status_code == 302
    assert question_exam_dates([question])[question.pk] == datetime.date(2020, 6, 6)
    again = client.get(reverse("study:topic_edit", args=[topic.pk])).content.decode()
    assert "2020 1,2 2020-06-06" in again and "2회 05-20" in again


@pytest.mark.django_db
def test_another_user_cannot_edit_the_dates(client, other_user, topic) -> None:
    client.force_login(other_user)
    response = client.post(
        reverse("study:exam_dates_edit", args=[topic.pk]), {"session_dates": ""}
    )
    assert response.status_code == 404
    assert not ExamSpec.objects.exists()
