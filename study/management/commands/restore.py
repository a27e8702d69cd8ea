from pathlib import Path
from typing import Any

import environ
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from study.backup import BackupError, backup_read_manifest, backup_restore


class Command(BaseCommand):
    help = (
        "backup 이 만든 .tar 로 데이터베이스와 올린 파일을 되살립니다. 대상 "
        "데이터베이스의 내용은 백업의 것으로 바뀝니다 (한 트랜잭션)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--database-url", help="다른 데이터베이스로 (기본: 설정된 데이터베이스)"
        )
        parser.add_argument(
            "--database-name", help="같은 서버의 다른 데이터베이스 이름으로"
        )
        parser.add_argument("--media-root", type=Path, help="기본: MEDIA_ROOT")
        parser.add_argument(
            "--create", action="store_true", help="데이터베이스가 없으면 만듭니다"
        )
        parser.add_argument("--yes", action="store_true", help="묻지 않고 진행")

    def handle(self, *args: Any, **options: Any) -> None:
        database = dict(settings.DATABASES["default"])
        if options["database_url"]:
            database = environ.Env.db_url_config(options["database_url"])
        if options["database_name"]:
            database["NAME"] = options["database_name"]
        media_root = options["media_root"] or Path(settings.MEDIA_ROOT)
        try:
            manifest = backup_read_manifest(options["archive"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"백업 {manifest['created_at']} "
            f"(마이그레이션 {manifest['study_migration']}, "
            f"파일 {manifest['media_files']}개) → 데이터베이스 {database['NAME']}, "
            f"파일 {media_root}"
        )
        if (
            not options["yes"]
            and input("대상의 내용을 바꿉니다. 계속할까요? [y/N] ") != "y"
        ):
            raise CommandError("취소했습니다.")
        try:
            backup_restore(
                archive_path=options["archive"],
                database=database,
                media_root=media_root,
                create=options["create"],
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            "되살렸습니다. 코드가 더 새 것이면 manage.py migrate 를 실행하세요."
        )
