"""Where learners see relations: JSON endpoints, the question page, badges."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from study.models import EmbeddingStatus, QuizMode, Topic
from study.related.services import topic_related_compute
from study.services.questions import question_soft_delete
from tests.conftest import make_question
from tests.study.learner_helpers import answer_all, start
from tests.study.related.test_support import near, question_at, repeated_at

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def bank(topic):
    """The REPEATED question in 2020·2019·2018 1회, and an unrelated one."""
    made = {
        "hub": repeated_at(topic, 1, year=2020),
        "r2019": repeated_at(topic, 7, year=2019),
        "r2018": repeated_at(topic, 3, year=2018),
        "lonely": question_at(topic, 2, year=2020, vec=near(0.2, private=8)),
    }
    topic_related_compute(topic_id=topic.pk)
    return made


def bulk(client, topic, ids):
    return client.post(
        reverse("study:related_types_bulk", args=[topic.pk]),
        data=json.dumps({"ids": ids}),
        content_type="application/json",
    )


def test_related_types_lists_repeats_with_round_number_preview_and_similarity(
    client, user, bank
):
    client.force_login(user)
    response = client.get(reverse("study:related_types", args=[bank["hub"].pk]))
    data = response.json()
    assert response.status_code == 200
    assert (data["round_count"], data["related_count"]) == (3, 2)
    assert data["grade"] == "반복 출제"
    assert [(i["round"], i["number"]) for i in data["repeat"]] == [
        ("2019년 1회", 7),
        ("2018년 1회", 3),
    ]
    first = data["repeat"][0]
    assert first["stem"] == "재해예방의 4원칙이 아닌 것은?"
    assert first["similarity"] == pytest.approx(1.0)
    assert first["url"] == reverse("study:question", args=[bank["r2019"].pk])
    assert data["similar"] == []


def test_another_learners_question_is_not_found(client, other_user, bank):
    client.force_login(other_user)
    url = reverse("study:related_types", args=[bank["hub"].pk])
    assert client.get(url).status_code == 404
    bank["hub"].topic.is_shared = True
    bank["hub"].topic.save()
    assert client.get(url).status_code == 200


def test_a_question_still_being_embedded_says_so(client, user, topic):
    waiting = make_question(topic, 1, embedding_status=EmbeddingStatus.PENDING)
    client.force_login(user)
    data = client.get(reverse("study:related_types", args=[waiting.pk])).json()
    assert data["status"] == "pending"
    assert (data["round_count"], data["repeat"], data["similar"]) == (0, [], [])
    panel = client.get(reverse("study:related_panel", args=[waiting.pk]), **HTMX)
    assert "분석하는 중" in panel.content.decode()


def count_queries(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = func()
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_the_bulk_endpoint_answers_a_page_of_cards_in_constant_queries(
    client, user, topic
):
    cards = [repeated_at(topic, n, year=2000 + n) for n in range(1, 21)]
    topic_related_compute(topic_id=topic.pk)
    client.force_login(user)
    ids = [q.pk for q in cards]
    few = count_queries(lambda: bulk(client, topic, ids[:3]))
    page = count_queries(lambda: bulk(client, topic, ids))
    assert page == few <= 4  # session, user, topic, questions
    results = bulk(client, topic, ids).json()["results"]
    assert len(results) == 20
    assert {r["round_count"] for r in results.values()} == {20}
    assert {r["grade"] for r in results.values()} == {"단골"}


def test_ids_that_are_foreign_unready_deleted_or_unknown_answer_zeros(
    client, user, other_user, bank, topic
):
    elsewhere = Topic.objects.create(name="남의 토픽", owner=other_user)
    foreign = repeated_at(elsewhere, 1, year=2019)
    topic_related_compute(topic_id=elsewhere.pk)
    waiting = make_question(topic, 40, embedding_status=EmbeddingStatus.PENDING)
    question_soft_delete(question=bank["r2018"])
    client.force_login(user)
    ids = [bank["hub"].pk, foreign.pk, waiting.pk, bank["r2018"].pk, 999999]
    results = bulk(client, topic, ids).json()["results"]
    assert list(results) == [str(i) for i in ids]  # every key kept, in order
    assert results[str(bank["hub"].pk)]["round_count"] == 3
    zero = {"repeat_count": 0, "similar_count": 0, "round_count": 0, "grade": ""}
    for pk in ids[1:]:
        assert {k: results[str(pk)][k] for k in zero} == zero


def test_the_bulk_endpoint_guards_its_topic_and_body(client, other_user, bank, topic):
    client.force_login(other_user)
    assert bulk(client, topic, [bank["hub"].pk]).status_code == 404
    topic.is_shared = True
    topic.save()
    assert bulk(client, topic, [bank["hub"].pk]).status_code == 200
    url = reverse("study:related_types_bulk", args=[topic.pk])
    assert (
        client.post(url, data="{}", content_type="application/json").status_code == 400
    )
    bad = json.dumps({"ids": ["1; DROP"]})
    assert (
        client.post(url, data=bad, content_type="application/json").status_code == 400
    )
    assert client.get(url).status_code == 405


def test_the_bulk_endpoint_needs_the_csrf_token(user, bank, topic):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert bulk(strict, topic, [bank["hub"].pk]).status_code == 403


def test_the_raw_similar_endpoint_is_for_staff_only(client, user, staff_user, bank):
    url = reverse("study:question_similar_raw", args=[bank["hub"].pk])
    client.force_login(user)
    assert client.get(url).status_code == 404
    client.force_login(staff_user)
    data = client.get(url).json()
    neighbours = {n["id"]: n for n in data["neighbours"]}
    assert neighbours[bank["r2019"].pk]["kind"] == "repeat"
    same_round = neighbours[bank["lonely"].pk]
    assert same_round["same_round"] is True and same_round["kind"] is None
    assert data["repeat_threshold"] > data["similar_threshold"]


def test_the_question_page_shows_repeat_and_similar_sections(client, user, bank):
    flipped = repeated_at(
        bank["hub"].topic, 9, year=2017, stem="재해예방의 4원칙에 해당하는 것은?"
    )
    topic_related_compute(topic_id=bank["hub"].topic_id)
    client.force_login(user)
    hub = bank["hub"]
    page = client.get(reverse("study:question", args=[hub.pk])).content.decode()
    assert reverse("study:related_panel", args=[hub.pk]) in page

    panel = client.get(reverse("study:related_panel", args=[hub.pk]), **HTMX)
    html = panel.content.decode()
    assert "4개 회차" in html and "관련 3문제" in html and "반복 출제" in html
    assert "🔥 반복 출제" in html and "🧩 유사 유형" in html
    assert "2019년 1회 7번" in html
    assert reverse("study:question", args=[flipped.pk]) in html


def test_result_cards_and_round_pages_load_badges_in_one_bulk_call(
    client, user, topic, bank
):
    session = answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"), 1)
    client.force_login(user)
    page = client.get(reverse("study:results", args=[session.pk])).content.decode()
    bulk_url = reverse("study:related_types_bulk", args=[topic.pk])
    assert f'data-related-bulk-url="{bulk_url}"' in page
    assert f'class="repeat-badge-slot" data-question-id="{bank["hub"].pk}"' in page
    results = bulk(client, topic, list(session.question_ids)).json()["results"]
    badges = {pk for pk, r in results.items() if r["round_count"] >= 2}
    assert badges == {str(bank["hub"].pk)}  # the lonely one gets no badge

    round_page = client.get(reverse("study:round", args=[topic.pk, "2019-1"]))
    html = round_page.content.decode()
    assert f'data-related-bulk-url="{bulk_url}"' in html
    assert f'data-question-id="{bank["r2019"].pk}"' in html
