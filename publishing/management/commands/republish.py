from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from publishing.services import publish_questions_bulk
from study.management.topic_option import topic_from_options
from study.models import Question


class Command(BaseCommand):
    help = (
        "토픽의 모든 문항(삭제된 문항은 삭제 표시)을 현재 상태 그대로 "
        "뷰어에 다시 발행합니다."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--topic", required=True, help="토픽 이름")
        parser.add_argument(
            "--owner", help="같은 이름의 토픽이 여럿일 때 소유자 username"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.STUDY_PUBLISH_ENABLED:
            raise CommandError("STUDY_PUBLISH_ENABLED 가 꺼져 있습니다.")
        topic = topic_from_options(options)
        if not topic.is_published:
            raise CommandError(
                f"'{topic.name}' 토픽은 발행 대상이 아닙니다 "
                "(토픽 설정의 ‘뷰어에 발행’)."
            )
        with transaction.atomic():
            questions = Question.objects.filter(topic=topic).only("id")
            count = publish_questions_bulk(questions=questions)
        self.stdout.write(
            f"topic={topic.name!r} questions={questions.count()} events={count}"
        )
