"""Questions without a subject: one stand-in label, shown on pages and used
as the tally key, never mistaken for a subject of the bank."""

from django.urls import reverse
from django.utils import translation

from study.selectors.exam_spec import topic_subject_names
from study.selectors.scores import paper_score
from study.subjects import NO_SUBJECT
from tests.conftest import make_question


def test_questions_without_a_subject_are_grouped_under_one_label(client, user, topic):
    make_question(topic, 1, subject="")
    make_question(topic, 2, subject="안전관리론")
    client.force_login(user)

    topic_page = client.get(reverse("study:topic", args=[topic.pk])).content.decode()
    round_page = client.get(
        reverse("study:round", args=[topic.pk, "2020-1"])
    ).content.decode()

    assert f"<td>{NO_SUBJECT}</td>" in topic_page
    assert f"<h2>{NO_SUBJECT}</h2>" in round_page
    assert topic_subject_names(topic=topic) == ["안전관리론"]


def test_the_tally_key_is_the_same_in_every_language():
    with translation.override("en"):
        score = paper_score([("", True), ("", False), ("안전관리론", True)])
    assert [s.subject for s in score.subjects] == [NO_SUBJECT, "안전관리론"]
