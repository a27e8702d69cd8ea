from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from study.management.topic_option import topic_from_options
from study.related.calibration import topic_similarity_distribution
from study.related.embeddings import (
    questions_embed,
    topic_questions_missing_embedding,
)

BAR_WIDTH = 40


class Command(BaseCommand):
    help = (
        "다른 회차 문제와의 유사도 분포를 보여 줍니다: 문제마다 가장 가까운 다른 회차 "
        "문제의 유사도, 그리고 그 구간의 쌍 중 정답을 가르는 차이(부정·숫자·정답)가 "
        "없는 쌍과 있는 쌍의 수. 반복 출제 임계값은 차이 없는 쌍이 드문 자연스러운 "
        "틈에 둡니다."
    )

    def add_arguments(self, parser):
        parser.add_argument("--topic", required=True, help="토픽 이름")
        parser.add_argument("--owner", help="토픽 소유자 username")
        parser.add_argument("--start", type=float, default=0.9, help="첫 구간 (0.9)")
        parser.add_argument("--step", type=float, default=0.005, help="구간 폭")
        parser.add_argument(
            "--no-embed", action="store_true", help="빠진 임베딩을 만들지 않음"
        )

    def handle(self, *args, **options):
        if not 0 < options["step"] < 1 or not 0 <= options["start"] < 1:
            raise CommandError("--start 는 0 이상 1 미만, --step 은 0과 1 사이입니다.")
        topic = topic_from_options(options)
        if not options["no_embed"]:
            self._embed_missing(topic, quiet=options["verbosity"] < 1)
        report = topic_similarity_distribution(
            topic_id=topic.pk, start=options["start"], step=options["step"]
        )
        self._print(topic, report)

    def _embed_missing(self, topic, *, quiet: bool) -> None:
        missing = topic_questions_missing_embedding(topic_id=topic.pk)
        if missing:
            with tqdm(total=len(missing), desc="embed", unit="q", disable=quiet) as bar:
                questions_embed(
                    question_ids=missing,
                    compute_relations=False,
                    on_progress=bar.update,
                )

    def _print(self, topic, report) -> None:
        th = report.thresholds
        self.stdout.write(
            f"topic={topic.name!r} questions={report.questions} model={th.model}\n"
            f"현재 임계값: 반복 출제 ≥ {th.repeat} · 유사 유형 ≥ {th.similar} "
            f"({th.version})\n"
            f"nearest = 가장 가까운 다른 회차 문제의 유사도 (문제 수), "
            f"same = 정답을 가르는 차이가 없는 쌍, differ = 차이가 있는 쌍\n"
            f"{'구간':>13}  {'nearest':>7} {'same':>5} {'differ':>6}"
        )
        peak = max((b.nearest for b in report.bins), default=0) or 1
        for b in report.bins:
            bar = "█" * round(BAR_WIDTH * b.nearest / peak)
            marks = _marks(b, th)
            self.stdout.write(
                f"{b.low:.3f}–{b.high:.3f}  {b.nearest:7d} {b.same_answer:5d} "
                f"{b.different:6d} {bar}{marks}"
            )
        self.stdout.write(
            f"가장 가까운 다른 회차 문제가 {report.bins[0].low:.3f} 미만 "
            f"(또는 없음): {report.nearest_below}문제"
            if report.bins
            else "구간이 없습니다."
        )


def _marks(b, th) -> str:
    marks = [
        label
        for label, value in (("반복", th.repeat), ("유사", th.similar))
        if b.low <= value < b.high
    ]
    return f"  ← {'/'.join(marks)} 임계값" if marks else ""
