"""Anki decks: a topic, a round, a review-queue tab; valid .apkg read back
with SQLite; figures included; the question's 근거 카드 (citation, passage,
verdict, every choice's mark) on the back when it has one; from the topic
page, the review queue and `manage.py export_anki`."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from study.documents.services import document_remove_from_topic
from study.models import AIExplanationStatus, Document, Topic
from study.services.progress import question_review_complete
from tests.conftest import make_question
from tests.study.exports.helpers import (
    CITATION,
    give_evidence,
    give_figure,
    read_apkg,
)
from tests.study.learner_helpers import answer_all, make_bank, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(topic, user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    questions = make_bank(topic)  # 2 rounds × 15, key always 2
    give_figure(questions[0])
    give_evidence(questions[0], user)
    questions[1].stem = '<script>alert("x")</script> 다음 중\n옳은 것은?'
    questions[1].accepted_choices = "2,4"
    questions[1].explanation = "해설 본문"
    questions[1].save()
    return questions


def download(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response
    assert response["Content-Disposition"].startswith("attachment")
    return b"".join(response.streaming_content)


def test_it_exports_the_topic_as_a_valid_deck_with_figures_and_evidence(
    client, user, topic, bank
):
    client.force_login(user)
    deck = read_apkg(download(client, reverse("study:topic_anki", args=[topic.pk])))

    assert len(deck["notes"]) == deck["cards"] == 30
    assert topic.name in deck["decks"]
    first = next(n for n in deck["notes"] if n["Key"] == bank[0].key)
    # The figure travels in the package and the card names it.
    figure_name = f"gichul-q{bank[0].pk}.png"
    assert first["Figure"] == f'<img src="{figure_name}">'
    assert deck["media"][figure_name] == bank[0].figure.open("rb").read()
    # The back: the key, then the 근거 카드: the passage that decides it, the
    # verdict and every choice's mark.
    assert first["Answer"] == "정답: ② 사다리식 통로의 기울기는 60°이하로 할 것"
    assert first["Citation"] == CITATION
    passage, marks = first["Passage"].split('<div class="marks">')
    assert "사다리식 통로의 기울기는 75도 이하로 할 것" in passage
    assert "<br>" in passage  # the article's lines
    assert marks == (
        "조문에 따르면 2번<br>"
        "① 조문과 일치 · ② 조문과 다름 · ③ 조문과 일치 · ④ 조문과 일치</div>"
    )
    assert "round::2022-1" in first["_tags"]
    template = deck["models"][str(1_700_250_025)]["tmpls"][0]
    assert "{{Citation}}" in template["afmt"] and "{{Citation}}" not in template["qfmt"]


def test_question_text_is_escaped_and_every_accepted_answer_shown(
    client, user, topic, bank
):
    client.force_login(user)
    deck = read_apkg(download(client, reverse("study:topic_anki", args=[topic.pk])))
    second = next(n for n in deck["notes"] if n["Key"] == bank[1].key)

    assert "<script>" not in second["Question"]
    assert "&lt;script&gt;" in second["Question"] and "<br>" in second["Question"]
    assert second["Answer"] == "정답: ② 보기 나, ④ 보기 라"
    assert second["Citation"] == second["Passage"] == ""
    assert second["Explanation"] == "해설 본문"
    assert second["Choices"].count("<li>") == 4


def test_a_round_deck_holds_that_round_only_and_keeps_note_ids(
    client, user, topic, bank
):
    client.force_login(user)
    url = reverse("study:topic_anki", args=[topic.pk])
    whole = read_apkg(download(client, url))
    round_deck = read_apkg(download(client, url + "?round=2023-1"))

    assert len(round_deck["notes"]) == 15
    assert {n["Key"][:6] for n in round_deck["notes"]} == {"2023-1"}
    assert round_deck["decks"] == ["Default", "산업안전기사 · 2023년 1회"]
    # The same question is the same note in both decks (Anki updates it).
    guids = {n["Key"]: n["_guid"] for n in whole["notes"]}
    assert all(guids[n["Key"]] == n["_guid"] for n in round_deck["notes"])
    assert client.get(url + "?round=nonsense").status_code == 404


def test_the_review_queue_deck_holds_the_learners_tab(client, user, topic, bank):
    session = start(user, topic, size=6, rng=__import__("random").Random(4))
    answer_all(session, lambda position, qid: 1 if position < 3 else 2)  # 3 wrong
    client.force_login(user)
    url = reverse("study:review_anki", args=[topic.pk]) + "?tab=pending_review"
    deck = read_apkg(download(client, url))

    wrong = set(session.question_ids[:3])
    assert {n["Key"] for n in deck["notes"]} == {
        q.key for q in topic.questions.filter(pk__in=wrong)
    }
    question_review_complete(user=user, question_ids=list(wrong))
    assert read_apkg(download(client, url))["notes"] == []
    assert client.get(url.replace("pending_review", "bogus")).status_code == 404


def test_another_learners_private_topic_is_not_exported(client, other_user, bank):
    client.force_login(other_user)
    topic = bank[0].topic
    assert client.get(reverse("study:topic_anki", args=[topic.pk])).status_code == 404
    assert client.get(reverse("study:review_anki", args=[topic.pk])).status_code == 404


def test_the_command_writes_the_deck(topic, bank, tmp_path, user, capsys):
    make_question(Topic.objects.create(name="산업안전기사", owner=_other()), 1)
    out = tmp_path / "deck.apkg"
    call_command(
        "export_anki", str(out), "--topic", topic.name, "--owner", user.username
    )

    deck = read_apkg(out.read_bytes())
    assert len(deck["notes"]) == 30
    assert "카드 30장, 그림 1개, 근거 본문 1장" in capsys.readouterr().out


def test_the_back_shows_the_card_not_an_ai_quote_and_only_a_fresh_card(
    client, user, topic, bank, django_assert_max_num_queries
):
    """The export reads the cached 근거 카드: an AI explanation's quote is not
    evidence, a card gone stale (its statute left the topic) is not shown,
    and the lookup costs the same for one card or thirty."""
    ai_only = bank[2]
    ai_only.ai_explanation = "안전난간을 설치해야 하므로 정답은 2번이다."
    ai_only.ai_explanation_status = AIExplanationStatus.READY
    ai_only.ai_explanation_evidence = [
        {
            "kind": "document",
            "ref": "doc:1#3",
            "title": "어느 규칙 제1조",
            "quote": "본문",
        }
    ]
    ai_only.save()
    client.force_login(user)
    url = reverse("study:topic_anki", args=[topic.pk])
    with django_assert_max_num_queries(12):
        notes = {n["Key"]: n for n in read_apkg(download(client, url))["notes"]}
    assert notes[bank[0].key]["Citation"] == CITATION
    assert notes[ai_only.key]["Citation"] == notes[ai_only.key]["Passage"] == ""

    statute = Document.objects.get(title="시험안전규칙")
    document_remove_from_topic(document=statute, topic=topic)
    notes = {n["Key"]: n for n in read_apkg(download(client, url))["notes"]}
    assert notes[bank[0].key]["Citation"] == notes[bank[0].key]["Passage"] == ""


def _other():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username="another", password="pw-x-123456"
    )
