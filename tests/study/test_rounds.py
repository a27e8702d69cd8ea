"""Rounds labelled by 형/책형 and 추가시험: pages, quiz by round, relations, export."""

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from study import rounds
from study.models import Question, QuizSession
from study.related.services import question_related_compute, topic_related_compute
from tests.conftest import make_question
from tests.study.related.test_support import repeated_at


@pytest.mark.parametrize(
    ("spelled", "canonical", "label"),
    [
        ("A", "A", "A형"),
        ("ｂ형", "B", "B형"),
        ("가", "가", "가책형"),
        ("책형 나", "나", "나책형"),
        ("추가시험", "1추가", "1회 추가시험"),
        ("1_추가시험", "1추가", "1회 추가시험"),
        ("1_extra", "1추가", "1회 추가시험"),
        ("1회 A형", "1_A", "1회 A형"),
        ("1A", "1_A", "1회 A형"),
        ("1·2회", "1,2", "1·2회"),
        ("2, 1", "1,2", "1·2회"),
        ("제3회", "3", "3회"),
    ],
)
def test_labels_normalise_and_read_back(spelled, canonical, label):
    session = rounds.session_parse(spelled)
    assert (session.canonical, session.label) == (canonical, label)
    assert rounds.session_from_canonical(canonical) == session
    assert rounds.round_key_parse(rounds.round_key(2005, canonical)) == (
        2005,
        canonical,
    )


@pytest.mark.parametrize(
    "garbage", ["B2", "AB", "2차", "0", "100", "상반기", "ì¶”ê°€", "異붽°€", "1;2"]
)
def test_garbage_labels_are_refused_with_a_reason(garbage):
    with pytest.raises(rounds.SessionLabelError, match="not a round label"):
        rounds.session_parse(garbage)


def test_malformed_round_keys_are_refused():
    for key in ("2020", "x-1", "2020-", "2020-1회", "2020-B형", "2020-1_추가"):
        with pytest.raises(rounds.SessionLabelError):
            rounds.round_key_parse(key)


def test_round_list_sorts_newest_sitting_first_and_forms_in_order(client, user, topic):
    for session in ["B", "A", "10", "9", "1추가", "1", "2_나", "2_가", "1,2"]:
        make_question(topic, 1, year=2005, session=session)
    make_question(topic, 1, year=2006, session="1")
    client.force_login(user)
    html = client.get(reverse("study:topic", args=[topic.pk])).content.decode()
    labels = [
        "2006년 1회",
        "2005년 10회",
        "2005년 9회",
        "2005년 2회 가책형",
        "2005년 2회 나책형",
        "2005년 1·2회",
        "2005년 1회 추가시험",
        "2005년 1회",
        "2005년 A형",
        "2005년 B형",
    ]
    positions = [html.index(f"<span>{label}</span>") for label in labels]
    assert positions == sorted(positions)
    # The quiz form's round menu has the same order and labels.
    menu = html[html.index('id="round-key"') :]
    menu_positions = [menu.index(f">{label} (") for label in labels]
    assert menu_positions == sorted(menu_positions)


def test_the_cached_round_list_follows_the_bank_and_the_language(client, user, topic):
    """The rounds' links and menu are cached fragments keyed by what they
    show: a new question, a new round and another language each show at
    once, while a second view reuses the fragment."""

    def rounds_html():
        html = client.get(reverse("study:topic", args=[topic.pk])).content.decode()
        section = html[html.index('id="rounds-h"') : html.index('id="subjects-h"')]
        menu = html[html.index('id="round-key"') : html.index("</select>")]
        return section, menu

    client.force_login(user)
    make_question(topic, 1, year=2021, session="1")
    section, menu = rounds_html()
    assert "2021년 1회" in section and "1문제" in section
    assert ">2021년 1회 (1문제)<" in menu
    assert rounds_html() == (section, menu)

    make_question(topic, 2, year=2021, session="1")
    make_question(topic, 1, year=2022, session="2")
    section, menu = rounds_html()
    assert "2문제" in section and "2022년 2회" in section
    assert ">2021년 1회 (2문제)<" in menu and ">2022년 2회 (1문제)<" in menu

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    section, menu = rounds_html()
    assert "2022년" not in section + menu
    assert "2 questions" in section and "(1 question)" in menu


def test_round_page_and_quiz_by_round_for_labelled_rounds(client, user, topic):
    for number in (2, 1):
        make_question(topic, number, year=2005, session="1추가")
        make_question(topic, number, year=2019, session="B")
    client.force_login(user)
    for key, label in (("2005-1추가", "2005년 1회 추가시험"), ("2019-B", "2019년 B형")):
        page = client.get(reverse("study:round", args=[topic.pk, key]))
        assert page.status_code == 200
        assert f"<h1>{label}</h1>" in page.content.decode()
        response = client.post(
            reverse("study:quiz_start", args=[topic.pk]),
            {"mode": "round", "round_key": key},
        )
        assert response.status_code == 302
    sessions = QuizSession.objects.filter(user=user).order_by("id")
    assert [s.question_ids for s in sessions] == [
        list(
            Question.objects.filter(exam_year=year)
            .order_by("number")
            .values_list("id", flat=True)
        )
        for year in (2005, 2019)
    ]
    bad = client.get(reverse("study:round", args=[topic.pk, "2019-B형"]))
    assert bad.status_code == 404


def test_forms_of_one_sitting_are_not_other_rounds(topic):
    hub = repeated_at(topic, 1, year=2019, session="A")
    same_sitting = repeated_at(topic, 7, year=2019, session="B")
    other_sitting = repeated_at(topic, 3, year=2018, session="가")
    extra = repeated_at(topic, 4, year=2019, session="1추가")
    numbered_a = repeated_at(topic, 5, year=2019, session="1_A")
    numbered_b = repeated_at(topic, 6, year=2019, session="1_B")
    question_related_compute(question=hub)
    hub.refresh_from_db()
    related = {e["id"] for e in hub.related_repeat}
    assert same_sitting.pk not in related
    assert related == {other_sitting.pk, extra.pk, numbered_a.pk, numbered_b.pk}
    # 2019 A형, 2018 가책형, 2019 1회 추가시험, 2019 1회 (A형 and B형 are one)
    assert hub.round_count == 4
    question_related_compute(question=numbered_a)
    numbered_a.refresh_from_db()
    assert numbered_b.pk not in {e["id"] for e in numbered_a.related_repeat}
    # The whole-topic computation agrees.
    before = {
        q.pk: (sorted(e["id"] for e in q.related_repeat), q.round_count)
        for q in Question.objects.filter(pk__in=[hub.pk, numbered_a.pk])
    }
    topic_related_compute(topic_id=topic.pk)
    after = {
        q.pk: (sorted(e["id"] for e in q.related_repeat), q.round_count)
        for q in Question.objects.filter(pk__in=[hub.pk, numbered_a.pk])
    }
    assert after == before


def test_export_carries_labelled_rounds(topic, capsys):
    repeated_at(topic, 1, year=2019, session="B")
    repeated_at(topic, 1, year=2005, session="1추가")
    make_question(topic, 2, year=2019, session="가")
    topic_related_compute(topic_id=topic.pk)
    call_command("export_questions", topic=topic.name)
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["key"], r["round"]) for r in records] == [
        ("2005-1추가-1", "2005년 1회 추가시험"),
        ("2019-B-1", "2019년 B형"),
        ("2019-가-2", "2019년 가책형"),
    ]
    assert records[0]["repeat"] == ["2019-B-1"]


def test_published_snapshots_carry_the_label(topic):
    from publishing.snapshots import question_snapshot

    question = make_question(topic, 1, year=2005, session="1추가")
    snapshot = question_snapshot(question)
    assert snapshot["exam_session"] == "1추가"
    assert snapshot["round_label"] == "2005년 1회 추가시험"
