from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from study.exports.anki import anki_deck_write
from study.exports.selectors import (
    review_questions_for_export,
    topic_questions_for_export,
)
from study.management.topic_option import OWNER_HELP, topic_from_options
from study.models import Question
from study.rounds import SessionLabelError
from study.selectors.review_queue import TABS


class Command(BaseCommand):
    help = (
        "토픽의 문제를 Anki 덱(.apkg)으로 내보냅니다: 앞면에 문제·보기·그림, 뒷면에 "
        "정답과 (있으면) 근거 조문·본문, 해설. --round 로 한 회차만, --review-of 로 "
        "한 학습자의 복습 목록만."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path, help="만들 .apkg 파일")
        parser.add_argument("--topic", required=True, help="토픽 이름")
        parser.add_argument("--owner", help=OWNER_HELP)
        parser.add_argument("--round", default="", help="회차 키, 예: 2022-1")
        parser.add_argument("--review-of", help="이 username 의 복습 목록")
        parser.add_argument(
            "--tab", choices=list(TABS), default="due_today", help="복습 목록의 탭"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        topic = topic_from_options(options)
        questions: Iterable[Question]
        title, key = topic.name, f"topic:{topic.pk}"
        if options["review_of"]:
            learner = get_user_model().objects.filter(username=options["review_of"])
            if not learner.exists():
                raise CommandError(f"사용자가 없습니다: {options['review_of']}")
            questions = review_questions_for_export(
                user=learner.get(), topic=topic, tab=options["tab"]
            )
            title = f"{topic.name} · {options['review_of']} · {TABS[options['tab']]}"
            key = f"review:{topic.pk}:{learner.get().pk}:{options['tab']}"
        else:
            try:
                questions = topic_questions_for_export(
                    topic=topic, round_key=options["round"]
                )
            except SessionLabelError as exc:
                raise CommandError(f"회차 키가 아닙니다: {options['round']}") from exc
            if options["round"]:
                title, key = (
                    f"{topic.name} · {options['round']}",
                    f"{key}:{options['round']}",
                )
        summary = anki_deck_write(
            title=title, deck_key=key, questions=questions, out=options["out"]
        )
        self.stdout.write(
            f"{options['out']}: 카드 {summary.notes}장, 그림 {summary.figures}개, "
            f"근거 본문 {summary.with_passage}장"
        )
