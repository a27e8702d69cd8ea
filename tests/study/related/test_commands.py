"""compute_related, calibrate_related and export_questions."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from study.models import AIExplanationStatus, EmbeddingStatus, Question, Topic
from study.related.services import topic_related_compute
from study.related.thresholds import current_thresholds
from tests.conftest import make_question
from tests.study.related.test_support import REPEATED, near, repeated_at


def run(command, *args, **options) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_compute_related_embeds_what_is_missing_and_relates_the_topic(topic, capsys):
    for year in (2018, 2019, 2020):
        make_question(topic, 1, year=year, **REPEATED)
    make_question(topic, 2, year=2020, stem="교류 아크용접기의 허용사용률(%)은?")

    output = run("compute_related", topic=topic.name)

    assert "questions=4 embedded=4/4 with_repeat=3" in output
    assert "반복 출제 3" in output  # the grade counts
    progress = capsys.readouterr().err
    assert "embed" in progress and "related" in progress and "100%" in progress
    repeated = Question.objects.filter(number=1)
    assert {q.embedding_status for q in repeated} == {EmbeddingStatus.READY}
    assert {(q.repeat_count, q.round_count) for q in repeated} == {(2, 3)}
    assert Question.objects.get(number=2).round_count == 0


def test_compute_related_needs_one_known_topic(topic, other_user):
    with pytest.raises(CommandError, match="토픽이 없습니다"):
        run("compute_related", topic="없는 토픽")
    Topic.objects.create(name=topic.name, owner=other_user)
    with pytest.raises(CommandError, match="--owner"):
        run("compute_related", topic=topic.name)
    assert "questions=0" in run("compute_related", topic=topic.name, owner="other")


def test_calibrate_related_prints_the_distribution_of_other_round_pairs(topic):
    for year in (2018, 2019, 2020):
        repeated_at(topic, 1, year=year)
    repeated_at(topic, 2, year=2017, vec=near(0.952, private=2), stem="다른 문제?")

    output = run("calibrate_related", topic=topic.name, no_embed=True)

    thresholds = current_thresholds()
    assert f"반복 출제 ≥ {thresholds.repeat}" in output
    lines = {line.split()[0]: line.split()[1:4] for line in output.splitlines()[4:]}
    assert lines["0.995–1.000"] == ["3", "3", "0"]  # three rounds, three pairs
    assert lines["0.950–0.955"] == ["1", "0", "3"]  # nearest to the odd one
    assert "← 반복 임계값" in output and "← 유사 임계값" in output


@pytest.fixture
def analysed(topic):
    made = [repeated_at(topic, 1, year=year) for year in (2018, 2019, 2020)]
    Question.objects.filter(pk=made[2].pk).update(
        ai_explanation="정답은 2번입니다.",
        ai_explanation_status=AIExplanationStatus.READY,
    )
    make_question(topic, 5, year=2020, ai_explanation="쓰다 만 해설")
    topic_related_compute(topic_id=topic.pk)
    return made


def test_export_questions_writes_jsonl_with_the_analysis(topic, analysed):
    records = [
        json.loads(line)
        for line in run("export_questions", topic=topic.name).splitlines()
    ]
    by_key = {r["key"]: r for r in records}
    assert list(by_key) == ["2018-1-1", "2019-1-1", "2020-1-1", "2020-1-5"]
    latest = by_key["2020-1-1"]
    assert latest["repeat"] == ["2018-1-1", "2019-1-1"]
    assert (latest["round_count"], latest["grade"]) == (3, "반복 출제")
    assert latest["choices"][1] == "사전준비의 원칙" and latest["answers"] == [2]
    assert latest["explanation_status"] == "ready"
    assert latest["explanation"] == "정답은 2번입니다."
    assert by_key["2020-1-5"]["explanation"] == ""  # not ready: no text


def test_export_questions_writes_csv_to_a_file(topic, analysed, tmp_path):
    target = tmp_path / "bank.csv"
    run("export_questions", topic=topic.name, format="csv", output=target)
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["key"] for r in rows] == ["2018-1-1", "2019-1-1", "2020-1-1", "2020-1-5"]
    assert rows[0]["repeat"] == "2019-1-1;2020-1-1"
    assert rows[0]["choice_2"] == "사전준비의 원칙"
    assert rows[0]["grade"] == "반복 출제" and rows[0]["round_count"] == "3"
