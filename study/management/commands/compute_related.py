from django.core.management.base import BaseCommand
from tqdm import tqdm

from study.management.topic_option import topic_from_options
from study.related.embeddings import (
    questions_embed,
    topic_questions_missing_embedding,
)
from study.related.grades import GRADES
from study.related.services import topic_related_compute
from study.related.thresholds import current_thresholds


class Command(BaseCommand):
    help = (
        "토픽에서 빠진 임베딩을 만들고 모든 문제의 반복 출제·유사 유형, 출제 회차 수와 "
        "등급을 계산합니다."
    )

    def add_arguments(self, parser):
        parser.add_argument("--topic", required=True, help="토픽 이름")
        parser.add_argument("--owner", help="토픽 소유자 username (이름이 겹칠 때)")

    def handle(self, *args, **options):
        topic = topic_from_options(options)
        quiet = options["verbosity"] < 1
        missing = topic_questions_missing_embedding(topic_id=topic.pk)
        embedded = 0
        if missing:
            with tqdm(total=len(missing), desc="embed", unit="q", disable=quiet) as bar:
                embedded = questions_embed(
                    question_ids=missing,
                    compute_relations=False,
                    on_progress=bar.update,
                )
        with tqdm(desc="related", unit="q", disable=quiet) as bar:
            report = topic_related_compute(
                topic_id=topic.pk, on_progress=lambda n, total: _advance(bar, n, total)
            )
        self._print_summary(topic, report, embedded=embedded, missing=len(missing))

    def _print_summary(self, topic, report, *, embedded: int, missing: int) -> None:
        thresholds = current_thresholds()
        grades = ", ".join(f"{g} {report.grades[g]}" for g in GRADES)
        self.stdout.write(
            f"topic={topic.name!r} questions={report.questions} "
            f"embedded={embedded}/{missing} "
            f"with_repeat={report.with_repeat} with_similar={report.with_similar} "
            f"seconds={report.seconds:.2f}\n"
            f"등급: {grades}\n"
            f"임계값: 반복 {thresholds.repeat} · 유사 {thresholds.similar} "
            f"({thresholds.model}, {thresholds.version})"
        )
        if embedded < missing:
            self.stdout.write(
                f"임베딩하지 못한 문제 {missing - embedded}개는 계산에서 빠졌습니다."
            )


def _advance(bar, n: int, total: int) -> None:
    bar.total = total
    bar.update(n)
