"""`manage.py measure_amendments`: the 개정 flag against the labelled set
(benchmarks/amendments.py; issue 26). Needs ../shared/data (or --documents
and --exams); no database."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from benchmarks.amendments import LABELS, measure_amendments, table
from benchmarks.ingest import default_documents_dir


class Command(BaseCommand):
    help = (
        "Precision and recall of the 개정 flag (개정됨+삭제됨 against 변경 없음) "
        "on the labelled 2016–2020 questions, and how many fall to 판단 불가."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--documents", type=Path, help="folder holding history/")
        parser.add_argument("--exams", type=Path, help="folder of the round CSVs")
        parser.add_argument("--labels", type=Path, default=LABELS)
        parser.add_argument("--json", type=Path, help="write the figures as JSON")

    def handle(self, *args: object, **options: Any) -> None:
        documents = options["documents"] or default_documents_dir()
        if documents is None or not (documents / "history").is_dir():
            raise CommandError("no history folder: pass --documents DIR")
        exams = options["exams"] or documents.parent / "exams"
        if not exams.is_dir():
            raise CommandError("no exam rounds: pass --exams DIR")
        figures = measure_amendments(
            documents_dir=documents,
            exams_dir=exams,
            labels=options["labels"],
            log=lambda line: self.stderr.write(line),
        )
        self.stdout.write("\n".join(table(figures)))
        if options["json"]:
            options["json"].write_text(
                json.dumps(figures, ensure_ascii=False, indent=2) + "\n", "utf-8"
            )
