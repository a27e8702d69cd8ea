"""Stems and choices render the Markdown their authors use, safely (issue 23,
item 5): a real round's table stem showed raw pipes on every page."""

import csv
import random
import re

import pytest
from django.urls import reverse

from study.imports.services import questions_import
from study.models import Question, QuizMode
from study.services.quiz_sessions import quiz_answer_record
from study.templatetags.study_markdown import (
    plain_question_text,
    render_question_markdown,
    render_question_text,
)
from tests.conftest import make_question
from tests.shared_data import SHARED_EXAMS, needs_shared
from tests.study.learner_helpers import start, submit_mock

REAL_TEXT_COLUMNS = ("Question", "Option 1", "Option 2", "Option 3", "Option 4")
RAW_TABLE = re.compile(r"\|\s*-{3,}\s*\|")
HOSTILE = (
    '<img src=x onerror="alert(1)"> <script>alert(2)</script> '
    "[link](javascript:alert(3)) **굵게**"
)


def _answer_up_to(session, position: int) -> None:
    for p in range(session.answered_count, position):
        quiz_answer_record(
            session=session,
            position=p,
            question_id=session.question_ids[p],
            choice=2,
            time_taken_ms=1000,
        )
    session.refresh_from_db()


@needs_shared
def test_a_real_table_stem_renders_as_a_table_everywhere(client, user, topic):
    questions_import(topic=topic, paths=[SHARED_EXAMS / "ind-safety-2016-1.csv"])
    table = Question.objects.get(topic=topic, stem__contains="| 가동시간(hour) |")
    client.force_login(user)
    session = start(user, topic, mode=QuizMode.ROUND, round_key="2016-1")
    _answer_up_to(session, session.question_ids.index(table.pk))
    pages = {
        "quiz": client.get(reverse("study:quiz", args=[session.pk])),
        "question": client.get(reverse("study:question", args=[table.pk])),
        "round": client.get(reverse("study:round", args=[topic.pk, "2016-1"])),
    }
    _answer_up_to(session, session.size)
    attempt = session.attempts.get(question=table)
    pages["results card"] = client.get(
        reverse("study:result_card", args=[session.pk, attempt.pk]),
        HTTP_HX_REQUEST="true",
    )
    for name, response in pages.items():
        html = response.content.decode()
        stem = html.split(f'id="stem-{table.pk}"')[-1] if name == "quiz" else html
        assert "<table>" in stem and "<th>가동시간(hour)</th>" in stem, name
        assert not RAW_TABLE.search(html), name


def test_the_mock_renders_stems_and_choices(client, user, topic):
    for subject in ("과목1", "과목2"):
        for n in range(1, 3):
            make_question(
                topic,
                n + (10 if subject == "과목2" else 0),
                subject=subject,
                stem="표를 보고 답하시오.\n| 항목 | 값 |\n| --- | --- |\n| 가 | 1 |",
                choice_1="**굵은** 보기",
            )
    session = start(user, topic, mode=QuizMode.MOCK, per_subject=2)
    client.force_login(user)

    html = client.get(reverse("study:quiz", args=[session.pk])).content.decode()

    assert html.count("<table>") == 4 and not RAW_TABLE.search(html)
    assert '<span class="answer-text"><strong>굵은</strong> 보기</span>' in html
    submit_mock(session, 2)


@pytest.mark.parametrize("where", ["stem", "choice_1"])
def test_hostile_question_text_is_shown_not_obeyed(client, user, topic, where):
    question = make_question(topic, 1, **{where: HOSTILE})
    client.force_login(user)

    html = client.get(reverse("study:question", args=[question.pk])).content.decode()

    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert not re.search(r"<[^<>]*onerror", html)
    assert "<img src=x" not in html and 'href="javascript' not in html
    assert "<strong>굵게</strong>" in html


def test_plain_text_keeps_its_line_breaks_and_math():
    html = render_question_text("첫 줄\n둘째 줄 X$_2$ 와 $a<b$")

    assert html == (
        '<p>첫 줄<br>\n둘째 줄 X<span class="math">$_2$</span> 와 '
        '<span class="math">$a&lt;b$</span></p>'
    )
    assert render_question_text("보기 *하나*", inline=True) == "보기 <em>하나</em>"
    # Exam text indents and underlines freely: no code blocks, no headings.
    assert "<pre>" not in render_question_text("    들여 쓴 줄")
    assert "<h" not in render_question_text("제목\n===\n# 둘")


def _shortcut_agrees(text: str) -> bool:
    return all(
        render_question_text(text, inline=inline)
        == render_question_markdown(text, inline=inline)
        for inline in (False, True)
    )


def test_plain_text_renders_as_the_parser_would_render_it():
    """Plain prose skips the Markdown parser; what it gets must be what the
    parser, the math and the sanitiser give, for every text (generated from
    the characters that matter, seeded)."""
    rng = random.Random(30)
    alphabet = (
        "가나다 \u3000\u2003\u200b\ufeff㉠①.,?()%/:;'\"#=-+0123456789ab"
        "*_`\\[]!<>&|$~^{}\n\t\u00a0\u2028·…〈〉×≤"
    )
    texts = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 16)))
        for _ in range(20000)
    ]
    texts += ["1. 목록", "- 목록", "+ 목록", "# 제목", "=== 밑줄", " 앞 공백", "a  b"]
    plain = [t for t in texts if plain_question_text(t)]
    assert len(plain) > 2000  # the shortcut is exercised, not only refused
    assert not plain_question_text("1. 목록") and not plain_question_text("a *b*")
    assert [t for t in texts if not _shortcut_agrees(t)] == []


@needs_shared
def test_real_rounds_render_the_same_with_the_shortcut():
    texts = []
    for path in sorted(SHARED_EXAMS.glob("*.csv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts += [row.get(k) or "" for k in REAL_TEXT_COLUMNS]
    texts = [t for t in texts if t]
    assert len(texts) > 1000
    assert sum(map(plain_question_text, texts)) > len(texts) // 2
    assert [t for t in texts if not _shortcut_agrees(t)] == []
