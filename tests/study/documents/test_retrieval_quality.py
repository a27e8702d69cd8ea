"""The labelled statute retrieval set (tests/study/data/statute_retrieval_labels.jsonl)
and the quality it measures on the real shared statutes and exam rounds."""

import csv
import json
from pathlib import Path

import pytest

from study.documents.chunking import chunk_text, split_front_matter
from tests.shared_data import SHARED_DOCUMENTS, SHARED_EXAMS, needs_shared

LABELS = Path(__file__).resolve().parents[1] / "data" / "statute_retrieval_labels.jsonl"


def labels() -> list[dict]:
    return [json.loads(line) for line in LABELS.read_text("utf-8").splitlines() if line]


def test_the_set_has_enough_positives_and_negatives_of_each_kind():
    rows = labels()
    kinds = [r["kind"] for r in rows]
    assert kinds.count("article") >= 60
    assert kinds.count("calculation") >= 10 and kinds.count("theory") >= 5
    assert kinds.count("annex") >= 5
    assert len({r["question"] for r in rows}) == len(rows)
    for row in rows:
        if row["kind"] == "article":
            assert row["document"] and row["article"].startswith("제")
            assert len(row["quote"]) >= 4


@needs_shared
def test_every_quote_is_verbatim_in_its_labelled_article():
    articles: dict[tuple[str, str], str] = {}
    for path in SHARED_DOCUMENTS.glob("*.md"):
        if path.name == "README.md":
            continue
        meta, body = split_front_matter(path.read_text("utf-8"))
        for chunk in chunk_text(body):
            key = (meta.title, chunk.article)
            articles[key] = articles.get(key, "") + "\n" + chunk.text
    for row in labels():
        if row["kind"] != "article":
            continue
        text = articles.get((row["document"], row["article"]))
        assert text, (row["question"], row["document"], row["article"])
        assert row["quote"] in text, row["question"]
        assert row["heading"].split("(")[0] == row["article"]


@needs_shared
def test_every_labelled_question_exists_in_the_rounds():
    keys = set()
    for path in SHARED_EXAMS.glob("ind-safety-*.csv"):
        with path.open(encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                keys.add(f"{row['Year']}-{row['Session']}-{row['Number']}")
    assert {r["question"] for r in labels()} <= keys


@needs_shared
@pytest.mark.django_db
def test_recall_at_5_on_the_shared_statutes_and_no_evidence_for_calculations(
    user, settings, tmp_path
):
    """End to end with the real embedder: import the rounds, ingest the six
    statutes, evaluate. The figure itself is reported by `evaluate_retrieval`
    (docs/documents.md); this guards the target."""
    from django.core.management import call_command

    from study.documents.retrieval_eval import evaluate_retrieval
    from study.models import Topic

    settings.MEDIA_ROOT = tmp_path
    user.is_superuser = True
    user.save()
    exams = sorted(SHARED_EXAMS.glob("ind-safety-*.csv"))
    call_command("import_questions", *map(str, exams), "--topic", "법령", verbosity=0)
    documents = sorted(
        p for p in SHARED_DOCUMENTS.glob("*.md") if p.name != "README.md"
    )
    call_command(
        "add_documents",
        *map(str, documents),
        "--topic",
        "법령",
        "--material-type",
        "law",
        verbosity=0,
    )
    report = evaluate_retrieval(topic=Topic.objects.get(name="법령"), labels=labels())
    assert not report.missing_questions
    assert report.recall_at_5 >= 0.85, report.as_dict()
    for row in report.rows:
        if row["kind"] in ("calculation", "theory"):
            assert row["evidence"] == [], row
