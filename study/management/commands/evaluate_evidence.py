import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from study.documents.retrieval_eval import read_labels
from study.evidence.evaluation import SPLITS, evaluate_evidence
from study.management.commands.evaluate_retrieval import DEFAULT_LABELS
from study.management.topic_option import OWNER_HELP, topic_from_options


class Command(BaseCommand):
    help = (
        "라벨 세트로 근거 카드를 잽니다: 결정 조문 인용률, 관련 조문이 없는 "
        "문제에 조문이 붙지 않는 비율, 판정 비율과 정확도, 보기별 표시 정확도."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--topic", required=True)
        parser.add_argument("--owner", help=OWNER_HELP)
        parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
        parser.add_argument(
            "--split",
            choices=SPLITS,
            default="all",
            help="dev: 보정에 쓴 라벨, holdout: 검사기를 만들기 전에 읽어 둔 라벨",
        )
        parser.add_argument(
            "--json", action="store_true", help="행별 결과까지 JSON으로"
        )

    def handle(self, *args: object, **options: Any) -> None:
        topic = topic_from_options(options)
        if not options["labels"].is_file():
            raise CommandError(f"라벨 파일이 없습니다: {options['labels']}")
        report = evaluate_evidence(
            topic=topic, labels=read_labels(options["labels"]), split=options["split"]
        )
        figures = report.as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(figures, ensure_ascii=False, indent=2))
            return
        for row in figures["rows"]:
            if row["kind"] != "article":
                self.stdout.write(
                    f"{row['question']:>12} {row['kind']:12} "
                    f"조문 {len(row['citations'])}개"
                )
                continue
            marks = "".join(m[0] for m in row["marks"])
            labelled = "".join(m[0] for m in row["labelled_marks"])
            cited = "인용" if row["citation_found"] else "MISS"
            self.stdout.write(
                f"{row['question']:>12} {cited:4} 판정={row['verdict'] or '-'} "
                f"(조문상 {row['decided'] or '-'}) 표시={marks} 라벨={labelled}"
            )
        figures.pop("rows")
        for name, value in figures.items():
            self.stdout.write(f"{name}={value}")
