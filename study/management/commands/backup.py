from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from study.backup import BackupError, backup_write


class Command(BaseCommand):
    help = (
        "데이터베이스(pg_dump)와 올린 파일(MEDIA_ROOT: 그림, 학습 자료)을 .tar 하나로 "
        "백업합니다. 기본 위치: var/backups/gichul-날짜-시각.tar"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, help="만들 .tar 파일")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = backup_write(out=options["out"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{summary.path}: 데이터베이스 {summary.database_bytes:,} B, "
            f"파일 {summary.media_files}개 ({summary.media_bytes:,} B)"
        )
