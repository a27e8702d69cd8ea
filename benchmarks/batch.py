"""Batch work: import throughput, embedding throughput, relations of a topic."""

from __future__ import annotations

import csv
import random
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from benchmarks.texts import TextGenerator
from study.imports.services import questions_import
from study.llm.embeddings import get_embedder
from study.models import EmbeddingStatus, Question, Topic
from study.related.embeddings import questions_embed
from study.related.services import topic_related_compute

CSV_HEADER = [
    "Test Name",
    "Year",
    "Session",
    "Subject",
    "Number",
    "Question",
    "Question_image",
    *(f"Option {i}" for i in range(1, 5)),
    "Answer",
]
ROUND_ROWS = 120  # 6 subjects × 20, as ../shared/data/exams
IMPORT_TOPIC = "벤치마크 가져오기"


# -- import --


def write_exam_files(directory: Path, files: int, seed: int) -> list[Path]:
    """CSV files shaped like ../shared/data/exams (one round of 120 rows each)."""
    rng = random.Random(seed)
    text = TextGenerator(rng, vocabulary=1500)
    paths = []
    for index in range(files):
        year, session = 2000 + index // 3, str(1 + index % 3)
        path = directory / f"bench-{year}-{session}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CSV_HEADER)
            for number in range(1, ROUND_ROWS + 1):
                subject = f"과목{(number - 1) // 20 + 1}"
                figure = "O" if rng.random() < 0.02 else ""
                choices = [text.choice() for _ in range(4)]
                writer.writerow(
                    [
                        "벤치마크기사",
                        year,
                        session,
                        subject,
                        number,
                        text.stem(),
                        figure,
                    ]
                    + choices
                    + [rng.randint(1, 4)]
                )
        paths.append(path)
    return paths


def measure_import(*, scale, meta: dict, workdir: Path, log) -> dict:
    directory = workdir / "import"
    directory.mkdir(exist_ok=True)
    paths = write_exam_files(directory, scale.import_files, scale.seed)
    owner = get_user_model().objects.get(pk=meta["owner_id"])
    topic = Topic.objects.create(name=IMPORT_TOPIC, owner=owner)
    try:
        started = time.perf_counter()
        report = questions_import(topic=topic, paths=paths)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        again = questions_import(topic=topic, paths=paths)
        second_s = time.perf_counter() - started
    finally:
        topic.delete()
    log(
        f"  import: {report.rows} rows in {first_s:.2f} s "
        f"(re-import {second_s:.2f} s, {again.unchanged} unchanged)"
    )
    return {
        "import_rows_per_s": round(report.rows / first_s, 1),
        "import": {
            "files": report.files,
            "rows": report.rows,
            "imported": report.imported,
            "rejected": report.rejected_count,
            "seconds": round(first_s, 3),
            "reimport_unchanged_rows_per_s": round(again.rows / second_s, 1),
        },
    }


# -- embedding --


def question_text(question: Question) -> str:
    return "\n".join([question.stem, *question.choices])


def measure_embedding(*, scale, meta: dict, log) -> dict:
    questions = list(
        Question.objects.filter(topic_id=meta["big_topic_id"]).order_by("pk")[
            : scale.embed_questions + 8
        ]
    )
    texts = [question_text(q) for q in questions]
    started = time.perf_counter()
    embedder = get_embedder()
    embedder.embed_passages(texts[:8])  # loads the model; not counted
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    embedder.embed_passages(texts[8:])
    seconds = time.perf_counter() - started
    count = len(texts) - 8
    log(f"  embedding: {count} questions in {seconds:.2f} s ({embedder.name})")
    return {
        "embed_questions_per_s": round(count / seconds, 1),
        "embedding": {
            "embedder": embedder.name,
            "questions": count,
            "seconds": round(seconds, 3),
            "warmup_s": round(load_s, 3),
            "mean_chars": round(sum(map(len, texts[8:])) / count),
        },
    }


# -- relations of a topic (issue 6) --


def measure_related(
    *, meta: dict, log, embed_limit: int | None = None
) -> tuple[dict, str]:
    """The relations of the largest topic: computed from ready embeddings, then
    as for a topic imported fresh (every question embedded first, as
    `compute_related` does). With `embed_limit`, only that many questions are
    embedded and the embedding time is projected to the whole topic."""
    function = topic_related_compute
    topic = Topic.objects.get(pk=meta["big_topic_id"])
    since = timezone.now()
    started = time.perf_counter()
    report = function(topic_id=topic.pk)
    seconds = time.perf_counter() - started
    embedded = Question.objects.filter(topic=topic, embedded_at__gte=since).count()
    log(f"  relations: {function.__module__}.{function.__qualname__} {seconds:.2f} s")
    fresh = _related_with_embeddings(topic, embed_limit, relations_s=seconds, log=log)
    return {
        "related_7000_s": round(seconds, 2),
        "related_7000_with_embeddings_s": fresh["total_s"],
        "related": {
            "function": f"{function.__module__}.{function.__qualname__}",
            "topic_questions": Question.objects.filter(topic=topic).count(),
            "embedded_during_call": embedded,
            "with_repeat": report.with_repeat,
            "with_similar": report.with_similar,
            "with_embeddings": fresh,
        },
    }, ""


def _related_with_embeddings(
    topic: Topic, embed_limit: int | None, *, relations_s: float, log
) -> dict:
    ids = list(
        Question.objects.alive()
        .filter(topic=topic)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Question.objects.filter(pk__in=ids).update(
        embedding=None, embedding_model="", embedding_status=EmbeddingStatus.PENDING
    )
    chosen = ids[:embed_limit] if embed_limit else ids
    started = time.perf_counter()
    stored = questions_embed(question_ids=chosen, compute_relations=False)
    embed_s = time.perf_counter() - started
    figures: dict[str, Any] = {
        "questions": len(ids),
        "embedded": stored,
        "embed_s": round(embed_s, 2),
        "embed_per_s": round(stored / embed_s, 1) if embed_s else None,
        "projected": len(chosen) < len(ids),
    }
    if figures["projected"]:
        # The rest at the measured rate; the relations as measured above.
        total = embed_s * len(ids) / max(1, len(chosen)) + relations_s
    else:
        started = time.perf_counter()
        topic_related_compute(topic_id=topic.pk)
        figures["relations_s"] = round(time.perf_counter() - started, 2)
        total = embed_s + figures["relations_s"]
    figures["total_s"] = round(total, 1)
    log(
        f"  relations with embeddings: {stored} embedded in {embed_s:.1f} s"
        f" ({figures['embed_per_s']}/s), total {total:.1f} s"
        + (" (projected)" if figures["projected"] else "")
    )
    return figures
