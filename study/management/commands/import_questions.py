from pathlib import Path

from django.core.management.base import BaseCommand
from tqdm import tqdm

from study.imports.reports import report_json
from study.imports.services import ImportReport, ImportSource, questions_import
from study.management.files_and_topic import files_and_topic

SHOWN_REJECTIONS = 50


class Command(BaseCommand):
    help = (
        "기출 CSV / JSON Lines 파일을 토픽의 문제은행으로 가져옵니다 (재실행해도 안전)."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--topic", required=True, help="토픽 이름 (없으면 생성)")
        parser.add_argument("--owner", help="토픽 소유자 username")
        parser.add_argument("--dry-run", action="store_true", help="검사만, 저장 안 함")
        parser.add_argument("--report", type=Path, help="JSON 보고서 경로")

    def handle(self, *args, **options):
        paths, topic = files_and_topic(options)
        with tqdm(desc="import", unit="row", disable=options["verbosity"] < 1) as bar:
            report = questions_import(
                topic=topic,
                sources=[ImportSource.from_path(p) for p in paths],
                dry_run=options["dry_run"],
                on_row=lambda: bar.update(1),
            )
        self._print_summary(report, topic, dry_run=options["dry_run"])
        if options["report"]:
            options["report"].write_text(
                report_json(report.as_dict()), encoding="utf-8"
            )

    def _print_summary(self, report: ImportReport, topic, *, dry_run: bool) -> None:
        prefix = "[dry-run] " if dry_run else ""
        self.stdout.write(
            f"{prefix}topic={topic.name!r} files={report.files} rows={report.rows} "
            f"imported={report.imported} updated={report.updated} "
            f"unchanged={report.unchanged} rejected={report.rejected_count} "
            f"needs_figure={report.needs_figure}"
        )
        if report.needs_figure:
            self.stdout.write(
                f"  {report.needs_figure}문제는 그림이 필요합니다: 가져오지만 "
                "그림을 붙이기 전까지 퀴즈에 나오지 않습니다."
            )
        for rejection in report.rejected[:SHOWN_REJECTIONS]:
            self.stdout.write(
                f"  rejected {rejection.file}:{rejection.line}: {rejection.reason}"
            )
        if report.rejected_count > SHOWN_REJECTIONS:
            more = report.rejected_count - SHOWN_REJECTIONS
            self.stdout.write(f"  … {more} more (see --report)")
