"""The exam's words live in data (study/data/exam_vocabulary.json) and a topic
adds its own: the guard and the related-question rules read them from there."""

import pytest
from django.core.exceptions import ValidationError

from study.ai.envelope import CheckedQuotes
from study.ai.guard import QuestionView, is_negative_question, relevant_quotes
from study.exam_vocabulary import (
    default_vocabulary,
    is_negative_stem,
    vocabulary_errors,
)
from study.related.rules import QuestionText, decisive_difference
from tests.conftest import make_question

ODD_STEM = "작업장 안전수칙을 위반한 행동은?"


def test_the_shipped_polarity_words_come_from_the_data_file():
    assert is_negative_stem("다음 중 옳지 않은 것은?")
    assert is_negative_stem("구비조건과 가장 거리가 먼 것은?")
    assert not is_negative_stem("다음 중 옳은 것은?")
    assert not is_negative_stem(ODD_STEM)  # not a shipped marker


def test_a_topic_adds_a_polarity_word_the_guard_then_reads(topic):
    topic.exam_vocabulary = {"negative_stem": ["위반한"]}
    topic.full_clean()
    topic.save()
    question = make_question(topic, stem=ODD_STEM)
    view = QuestionView.of(question)
    assert is_negative_question(view.stem, view.vocabulary)
    assert not is_negative_question(view.stem)  # the shipped words alone


def test_a_topic_adds_field_words_that_no_longer_tie_a_quote(topic):
    question = make_question(
        topic, stem="전기설비 접지공사의 종류는?", choice_1="제1종 접지공사"
    )
    quote = CheckedQuotes(kept=[{"quote": "전기설비 기술기준은 다음과 같다"}])
    kept, _ = relevant_quotes(quote, QuestionView.of(question))
    assert len(kept.kept) == 1  # "전기설비" ties it to the question
    topic.exam_vocabulary = {"field_words": ["전기설비"]}
    topic.save()
    question.refresh_from_db()
    kept, irrelevant = relevant_quotes(quote, QuestionView.of(question))
    assert kept.kept == [] and irrelevant == 1


def test_related_rules_read_an_extended_vocabulary():
    a = QuestionText.build(
        stem="작업장 안전수칙을 지킨 행동은?",
        choices=["a", "b", "c", "d"],
        correct_choice=1,
    )
    b = QuestionText.build(
        stem=ODD_STEM, choices=["a", "b", "c", "d"], correct_choice=1
    )
    extended = default_vocabulary().extended({"negated_ask": ["위반한"]})
    assert decisive_difference(a, b, extended) == "negation"
    assert decisive_difference(a, b) != "negation"


@pytest.mark.parametrize(
    "value",
    [["x"], {"negative": ["x"]}, {"field_words": "x"}, {"negation": [""]}],
)
def test_a_malformed_topic_vocabulary_is_refused_with_a_reason(topic, value):
    assert vocabulary_errors(value)
    topic.exam_vocabulary = value
    with pytest.raises(ValidationError) as excinfo:
        topic.full_clean()
    assert "exam_vocabulary" in excinfo.value.message_dict
    with pytest.raises(ValueError):
        default_vocabulary().extended(value)
