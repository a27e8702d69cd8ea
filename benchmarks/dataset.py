"""A synthetic but realistic dataset, written with COPY.

Topics hold past rounds of 6 subjects × 20 questions; questions recur across
rounds in families (repeats share the text, similar ones differ a little), so
round counts, grades and the embeddings' neighbourhoods look like real banks.
Learners answer 20-question sessions over half a year, leaning on what they
got wrong; their progress rows, FSRS cards and review marks follow from the
attempts. Secondary indexes are dropped before each COPY and rebuilt after,
and foreign-key triggers are skipped (the generator keeps the references
consistent), which is what makes `full` a matter of minutes.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import models
from psycopg import sql

from benchmarks.scales import Scale
from benchmarks.texts import (
    TextGenerator,
    VectorWriter,
    near,
    unit_vectors,
    words,
)
from study.llm.embeddings import embedder_name
from study.models import (
    Attempt,
    Document,
    DocumentChunk,
    LearnerSettings,
    QuestionJob,
    QuestionProgress,
    QuizSession,
    SessionAnalysis,
    SessionJob,
    Topic,
)
from study.models import Question as QuestionModel
from study.related.grades import grade_for
from study.related.thresholds import current_thresholds
from study.services import scheduling
from study.services.patterns import History, pattern_classify

ROUND_SUBJECTS = 6
PER_SUBJECT = 20
SESSION_SIZE = 20
HISTORY_DAYS = 180
TOPIC_NAMES = words(
    "산업안전기사 건설안전기사 전기기사 가스기사 소방설비기사 위험물산업기사 "
    "화공안전기사 기계안전기사 인간공학기사 산업위생관리기사 대기환경기사 "
    "수질환경기사 건축기사 토목기사 전기산업기사 정보처리기사"
)
SUBJECT_NAMES = (
    "안전관리론",
    "인간공학 및 시스템안전공학",
    "기계위험방지기술",
    "전기위험방지기술",
    "화학설비위험방지기술",
    "건설안전기술",
    "산업심리 및 교육",
    "관계법규",
    "설비관리",
    "재료역학",
    "유체역학",
    "측정 및 분석",
)
C, W, U = "correct", "wrong", "unsure"


def relations_version() -> str:
    """The related-questions cache version the app expects, so that the cached
    relations count as fresh and no recompute storm starts mid-benchmark."""
    return current_thresholds().version


# -- COPY with dropped secondary indexes -------------------------------------


class Loader:
    def __init__(self, conn: psycopg.Connection, now: datetime, log) -> None:
        self.conn = conn
        self.now = now
        self.log = log
        self.counts: dict[str, int] = {}

    def load(
        self, model: type[models.Model], columns: Sequence[str], rows: Iterable
    ) -> int:
        """COPY rows (tuples in `columns` order); other columns get defaults."""
        table = model._meta.db_table
        fields = {f.column: f for f in model._meta.concrete_fields if f.column}
        unknown = set(columns) - set(fields)
        if unknown:
            raise ValueError(f"{table}: unknown columns {sorted(unknown)}")
        extra = [column for column in fields if column not in columns]
        defaults = tuple(self._default(fields[column]) for column in extra)
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table),
            sql.SQL(", ").join([sql.Identifier(c) for c in [*columns, *extra]]),
        )
        started = time.monotonic()
        indexes = self._drop_secondary_indexes(table)
        count = 0
        with self.conn.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row + defaults if defaults else row)
                count += 1
        self._recreate(indexes)
        self.counts[table] = self.counts.get(table, 0) + count
        self.log(f"  {table}: {count:,} rows in {time.monotonic() - started:.1f} s")
        return count

    def _default(self, f: models.Field):
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            return self.now
        value = f.get_default()
        if value is None:
            return None
        if isinstance(f, models.JSONField):
            return json.dumps(value)
        return value

    def _drop_secondary_indexes(self, table: str) -> list[str]:
        rows = self.conn.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = %s AND NOT EXISTS (
                SELECT 1 FROM pg_constraint c
                WHERE c.conindid = x.indexrelid AND c.conrelid = t.oid
                  AND c.contype IN ('p', 'u', 'x'))
            """,
            [table],
        ).fetchall()
        for name, _definition in rows:
            self.conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        return [definition for _name, definition in rows]

    def _recreate(self, definitions: list[str]) -> None:
        for definition in definitions:
            self.conn.execute(definition)

    def reset_sequences(self, tables: Iterable[str]) -> None:
        for table in tables:
            self.conn.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                    "coalesce((SELECT max(id) FROM {}), 0) + 1, false)"
                ).format(sql.Identifier(table)),
                [table],
            )


# -- the generated world -----------------------------------------------------


@dataclass
class TopicPlan:
    id: int
    name: str
    size: int
    subjects: list[str]
    question_ids: list[int] = field(default_factory=list)
    quizzable: list[int] = field(default_factory=list)
    latest_year: int = 0


@dataclass
class QuestionFacts:
    topic_id: int
    correct: int
    quizzable: bool


@dataclass
class Progress:
    topic_id: int
    outcomes: list[str] = field(default_factory=list)
    correct_count: int = 0
    last_at: datetime | None = None
    last_attempt_id: int = 0


class DatasetBuilder:
    def __init__(
        self, scale: Scale, conn: psycopg.Connection, log: Callable[[str], None]
    ) -> None:
        self.scale = scale
        self.conn = conn
        self.log = log
        self.rng = random.Random(scale.seed)
        self.np = np.random.default_rng(scale.seed)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.loader = Loader(conn, self.now, log)
        self.text = TextGenerator(self.rng)
        self.vectors = VectorWriter(settings.EMBEDDING_DIM)
        self.embedder = embedder_name()
        self.relations_version = relations_version()
        self.topics: list[TopicPlan] = []
        self.questions: dict[int, QuestionFacts] = {}
        self.ready_questions: list[int] = []
        self.owner_id = 1
        self.learner_ids: list[int] = []
        self.learner_topics: dict[int, list[int]] = {}

    def build(self) -> dict:
        started = time.monotonic()
        try:
            self.conn.execute("SET session_replication_role = replica")
        except psycopg.Error:  # not a superuser: foreign keys are checked
            self.conn.rollback()
        self.conn.execute("SET maintenance_work_mem = '1GB'")
        self.conn.execute("SET max_parallel_maintenance_workers = 2")
        self._users()
        self._topics()
        self._questions()
        self._documents()
        sessions = self._activity()
        self._jobs_and_analyses(sessions)
        self.loader.reset_sequences(self.loader.counts)
        self.log("  VACUUM ANALYZE …")
        self.conn.execute("VACUUM (ANALYZE)")
        return {
            "big_topic_id": self.topics[0].id,
            "big_topic_questions": self.topics[0].size,
            "learner_id": self.learner_ids[0],
            "owner_id": self.owner_id,
            "learner_topics": {
                str(u): self.learner_topics[u][0] for u in self.learner_ids[:128]
            },
            "rows": self.loader.counts,
            "build_s": round(time.monotonic() - started, 1),
        }

    # -- users and topics --

    def _users(self) -> None:
        password = make_password("bench-learner-password")
        joined = self.now - timedelta(days=HISTORY_DAYS + 30)
        self.learner_ids = list(range(2, self.scale.learners + 2))
        rows = [(1, password, "bench-owner", "", False, False, True, joined)]
        rows += [
            (uid, password, f"learner{uid - 1:05d}", "", False, False, True, joined)
            for uid in self.learner_ids
        ]
        columns = words(
            "id password username email is_superuser is_staff is_active date_joined"
        )
        self.loader.load(get_user_model(), columns, rows)
        settings_rows = [
            (uid, uid, round(self.rng.uniform(0.8, 0.95), 2))
            for uid in self.learner_ids
            if self.rng.random() < 0.2
        ]
        self.loader.load(
            LearnerSettings, ["id", "user_id", "desired_retention"], settings_rows
        )

    def _topics(self) -> None:
        scale = self.scale
        rest = scale.questions - scale.big_topic_questions
        others = scale.topics - 1
        sizes = [scale.big_topic_questions] + [
            rest // others + (1 if i < rest % others else 0) for i in range(others)
        ]
        for index, size in enumerate(sizes):
            base = TOPIC_NAMES[index % len(TOPIC_NAMES)]
            name = base if index < len(TOPIC_NAMES) else f"{base} {index + 1}"
            subjects = self.rng.sample(SUBJECT_NAMES, ROUND_SUBJECTS)
            self.topics.append(TopicPlan(index + 1, name, size, subjects))
        rows = [
            (t.id, t.name, f"{t.name} 기출 문제은행", self.owner_id, True)
            for t in self.topics
        ]
        self.loader.load(
            Topic, ["id", "name", "description", "owner_id", "is_shared"], rows
        )

    # -- questions --

    def _questions(self) -> None:
        rows: list[tuple] = []
        next_id = 1
        for topic in self.topics:
            next_id = self._topic_questions(topic, next_id, rows)
        columns = words(
            "id topic_id exam_name exam_year exam_session number subject stem "
            "choice_1 choice_2 choice_3 choice_4 correct_choice accepted_choices "
            "needs_figure explanation ai_explanation ai_explanation_status "
            "ai_explanation_generated_at ai_explanation_model ai_explanation_evidence "
            "embedding embedding_model embedding_status embedded_at related_repeat "
            "related_similar repeat_count similar_count round_count related_grade "
            "related_computed_at related_threshold_version created_at updated_at "
            "deleted_at"
        )
        self.loader.load(QuestionModel, columns, rows)

    def _rounds(self, count: int) -> list[tuple[int, str]]:
        rounds: list[tuple[int, str]] = []
        year = self.now.year - 1
        while len(rounds) < count:
            sessions = ("1,2", "3", "4") if year == 2020 else ("1", "2", "3")
            rounds += [(year, s) for s in reversed(sessions)]
            year -= 1
        return list(reversed(rounds[:count]))  # oldest first

    def _topic_questions(self, topic: TopicPlan, next_id: int, rows: list) -> int:
        per_round = ROUND_SUBJECTS * PER_SUBJECT
        rounds = self._rounds(-(-topic.size // per_round))
        topic.latest_year = rounds[-1][0]
        families: list[dict] = []  # {"members": [plan index], "rounds": {round}}
        by_subject: dict[str, list[int]] = {s: [] for s in topic.subjects}
        plan: list[dict[str, Any]] = []
        for round_index, (year, session) in enumerate(rounds):
            for slot in range(min(per_round, topic.size - len(plan))):
                subject = topic.subjects[slot // PER_SUBJECT]
                item: dict[str, Any] = {
                    "year": year,
                    "session": session,
                    "round": round_index,
                    "number": slot + 1,
                    "subject": subject,
                }
                self._place(item, by_subject[subject], plan, families)
                family = families[item["family"]]
                family["members"].append(len(plan))
                family["rounds"].add(round_index)
                by_subject[subject].append(len(plan))
                plan.append(item)
        vectors = self._family_vectors(plan, len(families))
        for index, item in enumerate(plan):
            item["id"] = next_id + index
        for index, item in enumerate(plan):
            members = [
                plan[i] for i in families[item["family"]]["members"] if i != index
            ]
            rows.append(self._question_row(topic, item, members, vectors[index]))
        return next_id + len(plan)

    def _place(self, item: dict, pool: list[int], plan: list, families: list) -> None:
        """Join an earlier question's family (as a repeat or a similar one), or
        start a family."""
        rng = self.rng
        draw = rng.random()
        if pool and draw < 0.42:
            for _ in range(3):
                source = plan[rng.choice(pool)]
                if item["round"] in families[source["family"]]["rounds"]:
                    continue
                item["family"] = source["family"]
                item["kind"] = "repeat" if draw < 0.30 else "similar"
                item["stem"], item["choices"] = self._variant(source, item["kind"])
                answer = source["choices"][source["correct"] - 1]
                item["correct"] = item["choices"].index(answer) + 1
                return
        item["family"] = len(families)
        families.append({"members": [], "rounds": set()})
        item["kind"] = "original"
        item["stem"] = self.text.stem()
        item["choices"] = self._distinct_choices()
        item["correct"] = rng.randint(1, 4)

    def _distinct_choices(self) -> list[str]:
        choices: list[str] = []
        while len(choices) < 4:
            choice = self.text.choice()
            if choice not in choices:
                choices.append(choice)
        return choices

    def _variant(self, source: dict, kind: str) -> tuple[str, list[str]]:
        choices = list(source["choices"])
        self.rng.shuffle(choices)  # rounds reorder the choices
        stem = source["stem"]
        if kind == "similar":
            words = stem.split(" ")
            words[self.rng.randrange(len(words))] = self.text.words(1)[0]
            stem = " ".join(words)
        return stem, choices

    def _family_vectors(self, plan: list[dict], family_count: int) -> list[str]:
        dim = settings.EMBEDDING_DIM
        bases = unit_vectors(self.np, family_count, dim)
        noise = {"original": 0.05, "repeat": 0.15, "similar": 0.35}
        matrix = np.stack(
            [near(self.np, bases[item["family"]], noise[item["kind"]]) for item in plan]
        )
        return self.vectors.text(matrix)

    def _question_row(self, topic, item, members, vector) -> tuple:
        rng = self.rng
        repeats: list[dict] = []
        similars: list[dict] = []
        for other in members:
            both_same_text = "similar" not in (item["kind"], other["kind"])
            target = repeats if both_same_text else similars
            similarity = round(
                rng.uniform(0.95, 0.99) if both_same_text else rng.uniform(0.86, 0.94),
                3,
            )
            target.append({"id": other["id"], "similarity": similarity})
        round_count = len(members) + 1 if members else 0
        latest = max([item["year"], *(m["year"] for m in members)])
        grade = self._grade(round_count, latest, topic.latest_year)
        needs_figure = rng.random() < 0.03
        deleted = self.now - timedelta(days=3) if rng.random() < 0.005 else None
        created = self.now - timedelta(days=HISTORY_DAYS + 20)
        ai = self._ai_explanation()
        accepted = ""
        if rng.random() < 0.01:
            other = rng.choice([c for c in range(1, 5) if c != item["correct"]])
            accepted = ",".join(map(str, sorted({item["correct"], other})))
        self.questions[item["id"]] = QuestionFacts(
            topic.id, item["correct"], not needs_figure and deleted is None
        )
        topic.question_ids.append(item["id"])
        if not needs_figure and deleted is None:
            topic.quizzable.append(item["id"])
            if ai[1] == "ready":
                self.ready_questions.append(item["id"])
        return (
            item["id"],
            topic.id,
            topic.name,
            item["year"],
            item["session"],
            item["number"],
            item["subject"],
            item["stem"],
            *item["choices"],
            item["correct"],
            accepted,
            needs_figure,
            self.text.paragraph(120) if rng.random() < 0.15 else "",
            *ai,
            vector,
            self.embedder,
            "ready",
            created,
            json.dumps(repeats[:20], ensure_ascii=False),
            json.dumps(similars[:20], ensure_ascii=False),
            len(repeats),
            len(similars),
            round_count,
            grade,
            created,
            self.relations_version,
            created,
            created,
            deleted,
        )

    def _grade(self, round_count: int, latest_year: int, topic_latest: int) -> str:
        # The dataset's recent years are its topic's last two.
        return grade_for(
            round_count=round_count,
            latest_year=latest_year,
            recent_floor=topic_latest - 1,
        )

    def _ai_explanation(self) -> tuple:
        draw = self.rng.random()
        status = (
            "ready"
            if draw < 0.40
            else "stale"
            if draw < 0.42
            else "failed"
            if draw < 0.44
            else "skipped"
            if draw < 0.45
            else "none"
        )
        if status in ("ready", "stale"):
            evidence = [
                {
                    "kind": "document",
                    "source": "D1",
                    "title": "교재",
                    "quote": self.text.sentence(),
                }
            ]
            generated = self.now - timedelta(days=self.rng.randint(1, HISTORY_DAYS))
            return (
                self.text.markdown(600),
                status,
                generated,
                "bench-llm",
                json.dumps(evidence, ensure_ascii=False),
            )
        return ("", status, None, "", "[]")

    # -- documents and chunks --

    def _documents(self) -> None:
        scale = self.scale
        per_document = scale.chunks_per_document
        documents = max(len(self.topics), scale.chunks // per_document)
        doc_rows: list[tuple] = []
        link_rows: list[tuple] = []
        chunk_rows: list[tuple] = []
        created = self.now - timedelta(days=HISTORY_DAYS)
        materials = ("textbook", "law", "standard", "notes", "other")
        chunks_left = scale.chunks
        for doc_id in range(1, documents + 1):
            topic = self.topics[(doc_id - 1) % len(self.topics)]
            count = min(per_document, chunks_left - (documents - doc_id))
            chunks_left -= count
            doc_rows.append(
                (
                    doc_id,
                    self.owner_id,
                    f"{topic.name} 자료 {doc_id}",
                    "text",
                    self.rng.choice(materials),
                    "ready",
                    count,
                    created,
                    created,
                    self.text.paragraph(80),
                )
            )
            link_rows.append((len(link_rows) + 1, doc_id, topic.id))
            if self.rng.random() < 0.1 and len(self.topics) > 1:
                other = self.rng.choice([t for t in self.topics if t is not topic])
                link_rows.append((len(link_rows) + 1, doc_id, other.id))
            chunk_rows += [(doc_id, ordinal) for ordinal in range(count)]
        self.loader.load(
            Document,
            words(
                "id owner_id title file_kind material_type status chunk_count "
                "created_at processed_at summary"
            ),
            doc_rows,
        )
        self.loader.load(
            Document.topics.through, ["id", "document_id", "topic_id"], link_rows
        )
        self.loader.load(
            DocumentChunk,
            ["id", "document_id", "ordinal", "text", "embedding", "embedding_model"],
            self._chunk_rows(chunk_rows),
        )

    def _chunk_rows(self, keys: list[tuple[int, int]]) -> Iterable[tuple]:
        batch = 2000
        dim = settings.EMBEDDING_DIM
        for start in range(0, len(keys), batch):
            part = keys[start : start + batch]
            vectors = self.vectors.text(unit_vectors(self.np, len(part), dim))
            for offset, ((doc_id, ordinal), vector) in enumerate(
                zip(part, vectors, strict=True)
            ):
                yield (
                    start + offset + 1,
                    doc_id,
                    ordinal,
                    self.text.paragraph(self.rng.randint(250, 450)),
                    vector,
                    self.embedder,
                )

    # -- learners' activity --

    def _activity(self) -> list[tuple]:
        rng = self.rng
        big = self.topics[0]
        target = self.scale.attempts
        # Abandoned and unfinished sessions hold fewer than 20 answers.
        total_sessions = max(len(self.learner_ids), round(target / 19.7))
        weights = [rng.lognormvariate(0, 0.8) for _ in self.learner_ids]
        weights[0] = self._heavy_weight(weights, total_sessions)
        scale_by = total_sessions / sum(weights)
        plans = []
        for index, uid in enumerate(self.learner_ids):
            others = [t.id for t in self.topics[1:]]
            if index == 0 or not others:
                topics = [big.id]
            else:
                topics = rng.sample(others, min(len(others), rng.randint(1, 2)))
                if rng.random() < 0.5:
                    topics.insert(0, big.id)
            self.learner_topics[uid] = topics
            plans.append((uid, topics, max(1, round(weights[index] * scale_by))))
        session_rows: list[tuple] = []
        attempt_rows: list[tuple] = []
        progress: dict[tuple[int, int], Progress] = {}
        reviewed: dict[int, datetime] = {}
        for index, (uid, topics, count) in enumerate(plans):
            left = target - len(attempt_rows)
            if index == len(plans) - 1:  # the last learner makes the count exact
                count = max(0, -(-left // SESSION_SIZE))
            else:
                later = len(plans) - index - 1
                count = max(1, min(count, left // SESSION_SIZE - later))
            self._learner_sessions(
                uid,
                topics,
                count,
                session_rows,
                attempt_rows,
                progress,
                stop_at=target if index == len(plans) - 1 else None,
            )
        progress_rows = self._progress_rows(progress, reviewed)
        self.loader.load(
            QuizSession,
            words(
                "id user_id topic_id mode stage params question_ids answered_count "
                "status started_at last_activity_at finished_at"
            ),
            session_rows,
        )
        self.loader.load(
            Attempt,
            words(
                "id user_id session_id question_id position outcome selected_choice "
                "time_taken_ms created_at reviewed_at"
            ),
            (
                row[:-1] + (reviewed[row[0]],) if row[0] in reviewed else row
                for row in attempt_rows
            ),
        )
        self.loader.load(
            QuestionProgress,
            words(
                "id user_id topic_id question_id last_outcome last_attempted_at "
                "last_attempt_id last_reviewed_at attempt_count correct_count "
                "pattern_state pattern_updated_at pattern_window "
                "had_correct_before_window had_wrong_before_window due_at review_stage "
                "fsrs_card"
            ),
            progress_rows,
        )
        return session_rows

    def _heavy_weight(self, weights: list[float], total_sessions: int) -> float:
        """The measured learner's weight: heavy_learner_attempts answers (or
        3× the mean learner's when the scale sets none)."""
        others = sum(weights[1:])
        wanted = self.scale.heavy_learner_attempts / 19.7
        if not wanted or len(weights) < 2:
            return 3 * sum(weights) / len(weights)
        return wanted * others / max(1.0, total_sessions - wanted)

    def _learner_sessions(
        self, uid, topics, count, session_rows, attempt_rows, progress, stop_at=None
    ):
        rng = self.rng
        skill = rng.uniform(0.45, 0.8)
        start = self.now - timedelta(days=HISTORY_DAYS)
        span = HISTORY_DAYS * 86400 - 3600
        times = sorted(rng.uniform(0, span) for _ in range(count))
        wrong: dict[int, list[int]] = {t: [] for t in topics}
        for number, offset in enumerate(times):
            topic_id = topics[0] if rng.random() < 0.7 else rng.choice(topics)
            topic = self.topics[topic_id - 1]
            picked = self._pick(topic, wrong[topic_id])
            started = start + timedelta(seconds=offset)
            last = number == count - 1
            answered = SESSION_SIZE
            status = "finished"
            if stop_at is not None:
                answered = min(SESSION_SIZE, stop_at - len(attempt_rows))
                status = "finished" if answered == SESSION_SIZE else "active"
            elif last and rng.random() < 0.15:
                status, answered = "active", rng.randint(0, SESSION_SIZE - 1)
            elif rng.random() < 0.03:
                status, answered = "abandoned", rng.randint(5, SESSION_SIZE - 1)
            session_id = len(session_rows) + 1
            at = started
            for position, qid in enumerate(picked[:answered]):
                at += timedelta(seconds=rng.uniform(15, 90))
                outcome, choice = self._answer(qid, skill, progress.get((uid, qid)))
                attempt_id = len(attempt_rows) + 1
                attempt_rows.append(
                    (
                        attempt_id,
                        uid,
                        session_id,
                        qid,
                        position,
                        outcome,
                        choice,
                        rng.randint(4000, 90000),
                        at,
                        None,
                    )
                )
                if status != "active":
                    self._fold(
                        uid,
                        topic_id,
                        qid,
                        outcome,
                        at,
                        attempt_id,
                        progress,
                        wrong[topic_id],
                    )
            stage = rng.choice(("intro", "learning", "pre_exam"))
            session_rows.append(
                (
                    session_id,
                    uid,
                    topic_id,
                    "stage",
                    stage,
                    json.dumps({"size": SESSION_SIZE}),
                    picked,
                    answered,
                    status,
                    started,
                    at,
                    at if status != "active" else None,
                )
            )

    def _pick(self, topic: TopicPlan, wrong: list[int]) -> list[int]:
        rng = self.rng
        again = rng.sample(wrong, min(len(wrong), rng.randint(0, 8)))
        chosen = set(again)
        picked = list(again)
        while len(picked) < SESSION_SIZE:
            qid = rng.choice(topic.quizzable)
            if qid not in chosen:
                chosen.add(qid)
                picked.append(qid)
        rng.shuffle(picked)
        return picked

    def _answer(
        self, qid: int, skill: float, seen: Progress | None
    ) -> tuple[str, int | None]:
        rng = self.rng
        facts = self.questions[qid]
        chance = skill + (0.12 if seen else 0.0)
        if rng.random() < chance:
            return C, facts.correct
        if rng.random() < 0.25:
            return U, None
        return W, rng.choice([c for c in (1, 2, 3, 4) if c != facts.correct])

    def _fold(self, uid, topic_id, qid, outcome, at, attempt_id, progress, wrong):
        row = progress.get((uid, qid))
        if row is None:
            row = progress[(uid, qid)] = Progress(topic_id)
        row.outcomes.append(outcome)
        row.correct_count += outcome == C
        row.last_at, row.last_attempt_id = at, attempt_id
        if outcome == C:
            if qid in wrong:
                wrong.remove(qid)
        elif qid not in wrong:
            wrong.append(qid)

    def _progress_rows(self, progress: dict, reviewed: dict) -> list[tuple]:
        rng = self.rng
        card = scheduling.card_start(
            scheduler=scheduling.scheduler_for(0.9), at=self.now
        ).to_dict()
        rows = []
        for row_id, ((uid, qid), p) in enumerate(progress.items(), start=1):
            window = p.outcomes[-3:]
            earlier = p.outcomes[:-3]
            history = History(tuple(window), C in earlier, W in earlier)
            pattern = pattern_classify(history).value
            last = p.outcomes[-1]
            reviewed_at, due, stage, card_json = None, None, 0, None
            if rng.random() < 0.5:
                reviewed_at = min(
                    self.now, p.last_at + timedelta(minutes=rng.uniform(1, 600))
                )
                if last != C or rng.random() < 0.3:
                    due = reviewed_at + timedelta(days=rng.uniform(0.5, 25))
                    stage = 0 if last != C else rng.randint(1, 4)
                    card_json = json.dumps(
                        {
                            **card,
                            "card_id": row_id,
                            "due": due.isoformat(),
                            "last_review": reviewed_at.isoformat(),
                        }
                    )
                reviewed[p.last_attempt_id] = reviewed_at
            rows.append(
                (
                    row_id,
                    uid,
                    p.topic_id,
                    qid,
                    last,
                    p.last_at,
                    p.last_attempt_id,
                    reviewed_at,
                    len(p.outcomes),
                    p.correct_count,
                    pattern,
                    p.last_at,
                    json.dumps(window),
                    C in earlier,
                    W in earlier,
                    due,
                    stage,
                    card_json,
                )
            )
        return rows

    # -- job history and analyses --

    def _jobs_and_analyses(self, sessions: list[tuple]) -> None:
        rng = self.rng
        job_rows: list[tuple] = []
        for qid in self.ready_questions:
            at = self.now - timedelta(days=rng.randint(1, HISTORY_DAYS))
            job_rows.append(
                (
                    len(job_rows) + 1,
                    rng.choice(self.learner_ids),
                    qid,
                    "explanation",
                    "completed",
                    1,
                    json.dumps({"latency_s": round(rng.uniform(3, 20), 2)}),
                    at,
                    at,
                    at + timedelta(seconds=rng.uniform(3, 20)),
                )
            )
        self.loader.load(
            QuestionJob,
            words(
                "id user_id question_id kind status attempts payload created_at "
                "started_at completed_at"
            ),
            job_rows,
        )
        analysis_rows: list[tuple] = []
        session_job_rows: list[tuple] = []
        for row in sessions:
            if row[8] == "active" or rng.random() >= 0.3:
                continue
            session_id, uid, finished = row[0], row[1], row[11]
            analysis_rows.append(
                (
                    len(analysis_rows) + 1,
                    session_id,
                    self.text.paragraph(300),
                    json.dumps(self.text.words(2), ensure_ascii=False),
                    json.dumps([self.text.sentence()], ensure_ascii=False),
                    json.dumps(
                        [self.text.sentence(), self.text.sentence()], ensure_ascii=False
                    ),
                    rng.choice(("high", "medium", "low")),
                    "bench-llm",
                    finished,
                )
            )
            session_job_rows.append(
                (
                    len(session_job_rows) + 1,
                    uid,
                    session_id,
                    "completed",
                    1,
                    finished,
                    finished,
                    finished + timedelta(seconds=10),
                )
            )
        self.loader.load(
            SessionAnalysis,
            words(
                "id session_id summary_md weak_subjects patterns next_steps "
                "confidence model created_at"
            ),
            analysis_rows,
        )
        self.loader.load(
            SessionJob,
            words(
                "id user_id session_id status attempts created_at started_at "
                "completed_at"
            ),
            session_job_rows,
        )
