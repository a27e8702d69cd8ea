from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from study.exports.transfer import TopicImportError, topic_import


class Command(BaseCommand):
    help = "export_topic 으로 만든 zip 을 새 토픽으로 가져옵니다."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument("--owner", required=True, help="새 토픽 소유자 username")
        parser.add_argument("--name", default="", help="새 토픽 이름 (기본: 원래 이름)")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"사용자가 없습니다: {options['owner']}")
        if not options["archive"].is_file():
            raise CommandError(f"파일이 없습니다: {options['archive']}")
        try:
            summary = topic_import(
                owner=owner, archive=options["archive"], name=options["name"]
            )
        except TopicImportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"'{summary.topic.name}': 문제 {summary.questions}개, 그림 "
            f"{summary.figures}개, 학습 자료 {summary.documents}개"
        )
