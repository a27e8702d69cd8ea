"""A learner downloads their own history as JSON and as CSV tables."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date

import pytest
from django.urls import reverse

from study.models import ExamPlan, LearnerSettings
from tests.study.learner_helpers import answer_all, make_bank, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(user, other_user, topic):
    make_bank(topic)
    session = start(user, topic, size=6, rng=__import__("random").Random(2))
    answer_all(session, lambda position, qid: 1 if position % 2 else 2)
    LearnerSettings.objects.create(user=user, desired_retention=0.85, language="en")
    ExamPlan.objects.create(user=user, topic=topic, exam_date=date(2027, 3, 1))
    theirs = start(other_user, topic, size=3, rng=__import__("random").Random(1))
    answer_all(theirs, 2)
    return session


def test_the_json_holds_every_part_of_the_learners_own_history(client, user, history):
    client.force_login(user)
    response = client.get(reverse("study:my_data_json"))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["username"] == "learner"
    assert [s["id"] for s in data["sessions"]] == [history.pk]
    assert [a["position"] for a in data["answers"]] == list(range(6))
    assert [a["outcome"] for a in data["answers"]] == ["correct", "wrong"] * 3
    assert data["answers"][0]["question_key"].startswith("202")
    assert len(data["progress"]) == 6
    assert data["settings"] == {"desired_retention": 0.85, "language": "en"}
    assert data["exam_plans"][0]["exam_date"] == "2027-03-01"


def test_the_csv_zip_has_one_table_each_and_neutralises_formulas(client, user, history):
    stem_owner = history.topic
    stem_owner.name = '=HYPERLINK("x")'
    stem_owner.save()
    client.force_login(user)
    response = client.get(reverse("study:my_data_csv"))

    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        "answers.csv",
        "exam_plans.csv",
        "progress.csv",
        "sessions.csv",
        "settings.csv",
    ]
    answers = list(
        csv.DictReader(io.StringIO(archive.read("answers.csv").decode("utf-8-sig")))
    )
    assert len(answers) == 6
    assert answers[0]["topic"] == '\'=HYPERLINK("x")'
    assert answers[1]["selected_choice"] == "1"


def test_signed_out_visitors_get_the_login_page(client, history):
    response = client.get(reverse("study:my_data_json"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
