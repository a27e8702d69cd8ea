import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from study.evidence import selectors as esel
from study.evidence.services import topic_cards_compute
from study.management.topic_option import OWNER_HELP, topic_from_options


class Command(BaseCommand):
    help = (
        "정답 확인 필요 목록: 근거 카드가 정답과 다른 보기를 조문에서 가려냈거나, "
        "같은 문제의 다른 회차가 다른 정답을 적은 문제 (--compute 로 모든 문제의 "
        "근거 카드를 먼저 만듭니다)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--topic", required=True)
        parser.add_argument("--owner", help=OWNER_HELP)
        parser.add_argument(
            "--compute",
            action="store_true",
            help="근거 카드가 없거나 오래된 문제의 카드를 먼저 만듭니다 (LLM 없이)",
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: object, **options: Any) -> None:
        topic = topic_from_options(options)
        if options["compute"]:
            report = topic_cards_compute(
                topic=topic,
                on_progress=lambda done, total: self.stderr.write(
                    f"\r근거 카드 {done}/{total}", ending=""
                ),
            )
            self.stderr.write(f"\n새로 만든 카드 {report.computed}개")
        items = esel.topic_answer_review(topic=topic)
        with_card, questions = esel.topic_card_counts(topic=topic)
        rows: list[dict] = [
            {
                "question": item.question.key,
                "question_id": item.question.pk,
                "stem": item.question.stem,
                "key": sorted(item.question.accepted_set),
                "verdict": item.card.verdict,
                "citation": item.card.lead_citation,
                "key_conflict": item.card.key_conflict,
                "history_conflict": item.card.history_conflict,
                "history": [
                    h
                    for h in item.card.as_dict()["history"]
                    if h["agreement"] == "different"
                ],
            }
            for item in items
        ]
        if options["json"]:
            payload = {"cards": with_card, "questions": questions, "items": rows}
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"근거 카드가 있는 문제 {with_card} / {questions}")
        for row in rows:
            reasons = []
            if row["key_conflict"]:
                reasons.append(
                    f"조문({row['citation']})에 따르면 {row['verdict']}번, "
                    f"정답 {','.join(map(str, row['key']))}번"
                )
            for h in row["history"]:
                key = ",".join(map(str, h["key"]))
                reasons.append(f"{h['round']} {h['number']}번의 정답 {key}번")
            self.stdout.write(f"{row['question']:>14} {' · '.join(reasons)}")
        self.stdout.write(f"정답 확인 필요 {len(rows)}문제")
