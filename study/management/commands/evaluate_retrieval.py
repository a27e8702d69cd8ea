import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from study.documents.retrieval_eval import evaluate_retrieval, read_labels
from study.management.topic_option import OWNER_HELP, topic_from_options

DEFAULT_LABELS = (
    Path(settings.BASE_DIR)
    / "tests"
    / "study"
    / "data"
    / "statute_retrieval_labels.jsonl"
)


class Command(BaseCommand):
    help = (
        "라벨 세트로 자료 검색 품질을 잽니다: 결정 조문이 상위 5개 근거에 "
        "드는 비율 "
        "(recall@5), MRR, 관련 조문이 없는 문제(계산·이론·별표)에 "
        "근거가 붙지 않는 비율."
    )

    def add_arguments(self, parser):
        parser.add_argument("--topic", required=True)
        parser.add_argument("--owner", help=OWNER_HELP)
        parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
        parser.add_argument(
            "--json", action="store_true", help="행별 결과까지 JSON으로"
        )
        parser.add_argument(
            "--no-cut", action="store_true", help="관련도 컷 없이 (보정용)"
        )

    def handle(self, *args, **options):
        topic = topic_from_options(options)
        if not options["labels"].is_file():
            raise CommandError(f"라벨 파일이 없습니다: {options['labels']}")
        report = evaluate_retrieval(
            topic=topic,
            labels=read_labels(options["labels"]),
            cut=not options["no_cut"],
        )
        if options["json"]:
            self.stdout.write(
                json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
            )
            return
        for row in report.rows:
            if row["kind"] == "article":
                mark = f"rank={row['rank']}" if row["rank"] else "MISS"
                self.stdout.write(f"{row['question']:>12} {mark:8} {row['expected']}")
            else:
                self.stdout.write(
                    f"{row['question']:>12} {row['kind']:8} "
                    f"근거 {len(row['evidence'])}개"
                )
        self.stdout.write(
            f"positives={report.positives} recall@5={report.recall_at_5:.3f} "
            f"MRR={report.mrr:.3f} negatives={report.negatives} "
            f"negatives_without_evidence="
            f"{report.negatives - report.negatives_with_evidence} "
            f"missing={len(report.missing_questions)}"
        )
