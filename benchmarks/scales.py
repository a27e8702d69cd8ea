"""Dataset and measurement sizes for each --scale."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

BUILDER_VERSION = 5  # bump when the generated data changes shape


@dataclass(frozen=True)
class Scale:
    name: str
    # Dataset: one large topic (issue 8's 7,000-question topic at full) and
    # the rest spread over the other topics.
    topics: int
    questions: int
    big_topic_questions: int
    learners: int
    attempts: int
    chunks: int
    # The measured learner's answers, all in the largest topic (issue 30: a
    # learner with ≥ 20,000 answers at full).
    heavy_learner_attempts: int = 0
    chunks_per_document: int = 100
    # Measurements.
    warmup: int = 10
    requests: int = 100
    pickup_rounds: int = 3
    pickup_warmup_rounds: int = 2
    import_files: int = 10
    # Each hostile question upload (issue 24): 100 MB is the upload cap.
    hostile_upload_mb: int = 100
    embed_questions: int = 64
    # The relations-with-embeddings figure embeds this many of the largest
    # topic's questions and projects the rest (None: all of them).
    related_embed_limit: int | None = None
    load_learners: int = 4
    load_requests: int = 400
    seed: int = 20240801

    def dataset_params(self) -> dict:
        keep = (
            "topics",
            "questions",
            "big_topic_questions",
            "learners",
            "attempts",
            "chunks",
            "chunks_per_document",
            "heavy_learner_attempts",
            "seed",
        )
        return {key: getattr(self, key) for key in keep}

    def fingerprint(self, migrations: list[str], relations_version: str = "") -> str:
        payload = {
            "builder": BUILDER_VERSION,
            "params": self.dataset_params(),
            "migrations": sorted(migrations),
            "relations_version": relations_version,
        }
        text = json.dumps(payload, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def with_overrides(self, **changes) -> Scale:
        return dataclasses.replace(
            self, **{k: v for k, v in changes.items() if v is not None}
        )


SCALES: dict[str, Scale] = {
    # For the test suite: every figure, in well under a minute.
    "tiny": Scale(
        name="tiny",
        topics=3,
        questions=900,
        big_topic_questions=480,
        learners=12,
        attempts=6_000,
        chunks=600,
        chunks_per_document=50,
        heavy_learner_attempts=1_500,
        warmup=3,
        requests=20,
        pickup_rounds=1,
        pickup_warmup_rounds=1,
        import_files=2,
        hostile_upload_mb=1,
        embed_questions=16,
        related_embed_limit=32,
        load_learners=2,
        load_requests=80,
    ),
    "small": Scale(
        name="small",
        topics=5,
        questions=3_000,
        big_topic_questions=840,
        learners=50,
        attempts=50_000,
        chunks=5_000,
        heavy_learner_attempts=5_000,
    ),
    "full": Scale(
        name="full",
        topics=50,
        questions=100_000,
        big_topic_questions=7_000,
        learners=1_000,
        attempts=1_000_000,
        chunks=200_000,
        heavy_learner_attempts=20_000,
        warmup=30,
        requests=500,
        pickup_rounds=5,
        import_files=60,
        embed_questions=256,
        load_learners=8,
        load_requests=4_000,
    ),
}
