"""Batch work: import throughput, embedding throughput, relations of a topic."""

from __future__ import annotations

import csv
import importlib
import inspect
import pkgutil
import random
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import get_commands
from django.utils import timezone

from benchmarks.texts import TextGenerator
from study.models import Question, Topic

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
    from study.services.question_import import questions_import

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
            "rejected": len(report.rejected),
            "seconds": round(first_s, 3),
            "reimport_unchanged_rows_per_s": round(again.rows / second_s, 1),
        },
    }


# -- embedding --


def question_text(question: Question) -> str:
    return "\n".join([question.stem, *question.choices])


def measure_embedding(*, scale, meta: dict, log) -> dict:
    from study.llm.embeddings import get_embedder

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


# -- relations of a topic (issue 6), when they exist --


def find_topic_relations() -> tuple[object | None, str]:
    """A function of study.services.related* that computes a topic's relations."""
    import study.services as services

    modules = [m.name for m in pkgutil.iter_modules(services.__path__)]
    related = [name for name in modules if name.startswith("related")]
    if not related:
        return None, "study/services/related*.py does not exist yet (issue 6)"
    candidates = []
    for name in related:
        module = importlib.import_module(f"study.services.{name}")
        for attr, obj in vars(module).items():
            if not inspect.isfunction(obj) or obj.__module__ != module.__name__:
                continue
            if attr.startswith("_") or "topic" not in attr:
                continue
            params = inspect.signature(obj).parameters
            if "topic" in params or "topic_id" in params:
                score = ("compute" in attr) * 2 + ("relat" in attr)
                candidates.append((score, attr, obj))
    if not candidates:
        return None, (
            f"no function taking a topic in study.services.{', '.join(related)}"
        )
    candidates.sort(key=lambda item: -item[0])
    return candidates[0][2], ""


def measure_related(*, meta: dict, log) -> tuple[dict, str]:
    function, reason = find_topic_relations()
    if function is None:
        if "compute_related" in get_commands():
            reason += "; only the compute_related command exists (it embeds too)"
        return {}, reason
    topic = Topic.objects.get(pk=meta["big_topic_id"])
    params = inspect.signature(function).parameters
    required = [
        name
        for name, p in params.items()
        if p.default is inspect.Parameter.empty
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        and name not in ("topic", "topic_id")
    ]
    if required:
        return {}, f"{function.__qualname__} needs {required}; cannot call it"
    kwargs = {"topic": topic} if "topic" in params else {"topic_id": topic.pk}
    since = timezone.now()
    started = time.perf_counter()
    function(**kwargs)
    seconds = time.perf_counter() - started
    embedded = Question.objects.filter(topic=topic, embedded_at__gte=since).count()
    log(f"  relations: {function.__module__}.{function.__qualname__} {seconds:.2f} s")
    return {
        "related_7000_s": round(seconds, 2),
        "related": {
            "function": f"{function.__module__}.{function.__qualname__}",
            "topic_questions": Question.objects.filter(topic=topic).count(),
            "embedded_during_call": embedded,
        },
    }, ""
