from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from study.exports.transfer import topic_export_write
from study.management.topic_option import OWNER_HELP, topic_from_options


class Command(BaseCommand):
    help = (
        "토픽의 문제, 그림, 학습 자료를 zip 하나로 내보냅니다 (다른 기출 서버에서 "
        "import_topic 이나 웹의 '토픽 가져오기'로 가져옵니다)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="만들 .zip 파일")
        parser.add_argument("--topic", required=True, help="토픽 이름")
        parser.add_argument("--owner", help=OWNER_HELP)

    def handle(self, *args: Any, **options: Any) -> None:
        topic = topic_from_options(options)
        summary = topic_export_write(topic=topic, out=options["out"])
        self.stdout.write(
            f"{options['out']}: 문제 {summary.questions}개, 그림 {summary.figures}개, "
            f"학습 자료 {summary.documents}개"
        )
