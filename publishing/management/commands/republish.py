from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from publishing.services import publish_questions_bulk
from study.models import Question, Topic


class Command(BaseCommand):
    help = (
        "토픽의 모든 문항(삭제된 문항은 삭제 표시)을 현재 상태 그대로 "
        "뷰어에 다시 발행합니다."
    )

    def add_arguments(self, parser):
        parser.add_argument("--topic", required=True, help="토픽 이름")
        parser.add_argument(
            "--owner", help="같은 이름의 토픽이 여럿일 때 소유자 username"
        )

    def handle(self, *args, **options):
        if not settings.STUDY_PUBLISH_ENABLED:
            raise CommandError("STUDY_PUBLISH_ENABLED 가 꺼져 있습니다.")
        topic = self._topic(options["topic"], options["owner"])
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

    def _topic(self, name: str, owner: str | None) -> Topic:
        topics = Topic.objects.filter(name=name)
        if owner:
            topics = topics.filter(owner__username=owner)
        found = list(topics[:2])
        if not found:
            raise CommandError(f"'{name}' 토픽이 없습니다.")
        if len(found) > 1:
            raise CommandError(f"'{name}' 토픽이 여러 개입니다. --owner 로 지정하세요.")
        return found[0]
