"""The 개정 flag measured against the labelled set (issue 26): 119
statute-decided questions of the 2016–2020 rounds, each read by hand against
the text in force on its exam date and today's (unchanged / changed / gone,
tests/study/data/amendment_labels.jsonl).

The detector runs as the product runs it (study/amendments/detect.py) on
articles read from the shared history folder through the product's chunker:
for each question, every act's version in force on its exam date and the
version in force today. Reported: precision and recall of 개정됨+삭제됨
against 변경 없음, the unchanged questions flagged, and how many fall to
판단 불가. Needs no database."""

from __future__ import annotations

import csv
import json
import os
import re
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from study.amendments.compare import UNKNOWN, Article
from study.amendments.detect import Detection, Pool, articles_of, detect
from study.documents.chunking import chunk_text, split_front_matter
from study.documents.versions import act_key, act_version, in_force_on
from study.evidence.check import QuestionText

LABELS = (
    Path(__file__).resolve().parents[1]
    / "tests"
    / "study"
    / "data"
    / "amendment_labels.jsonl"
)
TARGET_PRECISION = 0.8
TARGET_RECALL = 0.8
TARGET_UNCHANGED_FLAGGED = 0.1
_QUESTION = re.compile(r"^(\d{4})-(\d+)-(\d+)$")


class _Version:
    def __init__(self, pk: int, path: Path) -> None:
        text = path.read_text("utf-8")
        front, body = split_front_matter(text)
        version = act_version(front.fields, title=front.title)
        self.pk = pk
        self.path = path
        self.act = act_key(front.fields, title=front.title)
        self.title = front.title
        self.effective = version.effective if version else None
        self.number = version.number if version else None
        self._body = body
        self._articles: list[Article] | None = None

    @property
    def articles(self) -> list[Article]:
        if self._articles is None:
            chunks = [
                (c.article, c.citation, c.text)
                for c in chunk_text(self._body)
                if c.article
            ]
            self._articles = articles_of(self.pk, self.title, chunks)
        return self._articles


def _versions(history: Path) -> dict[str, list[_Version]]:
    acts: dict[str, list[_Version]] = {}
    files = sorted(p for p in history.rglob("*.md") if p.name != "README.md")
    for pk, path in enumerate(files, 1):
        version = _Version(pk, path)
        acts.setdefault(version.act, []).append(version)
    return acts


def _pool(
    acts: dict[str, list[_Version]], on: date, cache: dict[tuple, Pool]
) -> Pool | None:
    chosen = []
    for versions in acts.values():
        pk = in_force_on([(v.pk, v.effective, v.number) for v in versions], on)
        chosen += [v for v in versions if v.pk == pk]
    if not chosen:
        return None
    key = tuple(sorted(v.pk for v in chosen))
    if key not in cache:
        cache[key] = Pool([a for v in chosen for a in v.articles])
    return cache[key]


def _questions(exams: Path) -> dict[str, QuestionText]:
    questions = {}
    for path in sorted(exams.glob("*.csv")):
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                answer = int(row["Answer"])
                questions[f"{row['Year']}-{row['Session']}-{row['Number']}"] = (
                    QuestionText(
                        stem=row["Question"],
                        choices=tuple(row[f"Option {n}"] for n in range(1, 5)),
                        accepted=frozenset({answer}),
                    )
                )
    return questions


def measure_amendments(
    *,
    documents_dir: Path,
    exams_dir: Path,
    labels: Path = LABELS,
    today: date | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    today = today or date.today()
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    acts = _versions(documents_dir / "history")
    questions = _questions(exams_dir)
    rows = [json.loads(line) for line in labels.read_text("utf-8").splitlines()]
    pools: dict[tuple, Pool] = {}
    now = _pool(acts, today, pools)
    assert now is not None
    results = []
    for row in rows:
        q = questions[row["question"]]
        then = _pool(acts, date.fromisoformat(row["exam_date"]), pools)
        found = (
            detect(q, then=then, now=now)
            if then is not None
            else Detection(UNKNOWN, "no_version")
        )
        results.append(_result(row, found))
        log(
            f"  {row['question']}: {row['label']} → {found.status} ({found.reason})"
            f"{'' if results[-1]['agrees'] else '  ✗'}"
        )
    figures = scores(results)
    figures.update(
        {
            "seconds": round(time.perf_counter() - started, 1),
            "today": today.isoformat(),
            "loadavg_before": load_before,
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "per_question": results,
        }
    )
    return figures


def _result(row: dict, found: Detection) -> dict:
    flagged_label = row["label"] != "unchanged"
    return {
        "question": row["question"],
        "label": row["label"],
        "status": found.status,
        "reason": found.reason,
        "then": found.then.heading if found.then else "",
        "now": found.now.heading if found.now else "",
        "key_then": found.key_then,
        "key_now": found.key_now,
        "marks_then": "".join(m[0] for m in found.marks_then),
        "marks_now": "".join(m[0] for m in found.marks_now),
        "agrees": found.status != UNKNOWN and found.flagged == flagged_label,
    }


def scores(results: list[dict]) -> dict:
    """Precision and recall of 개정됨+삭제됨 against 변경 없음 over the
    questions the detector judged (판단 불가 counted apart)."""
    judged = [r for r in results if r["status"] != UNKNOWN]
    flagged = {"changed", "gone"}
    tp = sum(r["status"] in flagged and r["label"] != "unchanged" for r in judged)
    fp = sum(r["status"] in flagged and r["label"] == "unchanged" for r in judged)
    fn = sum(r["status"] not in flagged and r["label"] != "unchanged" for r in judged)
    unchanged = [r for r in judged if r["label"] == "unchanged"]
    positives = sum(r["label"] != "unchanged" for r in results)
    return {
        "questions": len(results),
        "labelled_flagged": positives,
        "unknown": len(results) - len(judged),
        "unknown_of_flagged": sum(
            r["status"] == UNKNOWN and r["label"] != "unchanged" for r in results
        ),
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        # Over all the flagged labels: those left to 판단 불가 count as missed.
        "recall_all": round(tp / positives, 3) if positives else None,
        "unchanged_flagged": round(fp / len(unchanged), 3) if unchanged else None,
        "status_matches_label": sum(r["status"] == r["label"] for r in results),
    }


def table(figures: dict) -> list[str]:
    return [
        f"amendments: {figures['questions']} labelled questions "
        f"({figures['labelled_flagged']} changed or gone), "
        f"{figures['unknown']} 판단 불가; precision {figures['precision']}, "
        f"recall {figures['recall']} (of all flagged labels {figures['recall_all']}), "
        f"unchanged flagged {figures['unchanged_flagged']}; "
        f"{figures['seconds']} s, load {figures['loadavg_before']} → "
        f"{figures['loadavg_after']}"
    ]
