import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from benchmarks.explanation_replies import (
    labels_report,
    replies_generate,
    sample_questions,
)
from study.documents.retrieval_eval import QuestionNotFound, question_by_round_id
from study.llm.client import llm_configured
from study.models import Topic


class Command(BaseCommand):
    help = (
        "설정된 LLM에게 앱과 똑같이 묻고(독립 확인 + 해설) 원문 답을 JSON Lines로 "
        "저장합니다 — 해설 guard의 라벨 세트를 만드는 데 씁니다 (docs/explanations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--topic", help="토픽 이름 (답을 받을 때)")
        parser.add_argument(
            "--report",
            action="store_true",
            help="LLM 없이, 라벨이 붙은 --out 파일의 수치만 출력 "
            "(guard, 독립 확인, 시간)",
        )
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--count", type=int, default=48)
        parser.add_argument("--per-round", type=int, default=4)
        parser.add_argument(
            "--question", action="append", default=[], help="연도-회차-번호 (반복 가능)"
        )
        parser.add_argument(
            "--no-check",
            action="store_true",
            help="독립 확인을 묻지 않음 (근거가 있으면 guard가 쓰지 않음)",
        )

    def handle(self, *args, **options):
        if options["report"]:
            report = labels_report(options["out"])
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return
        if not options["topic"]:
            raise CommandError("--topic 이 필요합니다.")
        if not llm_configured():
            raise CommandError("LLM_BASE_URL 이 설정되지 않았습니다.")
        topic = Topic.objects.filter(name=options["topic"]).order_by("id").first()
        if topic is None:
            raise CommandError(f"토픽이 없습니다: {options['topic']}")
        try:
            questions = [
                question_by_round_id(topic=topic, question_id=qid)
                for qid in options["question"]
            ]
        except QuestionNotFound as exc:
            raise CommandError(str(exc)) from exc
        if not questions:
            questions = sample_questions(
                topic, count=options["count"], per_round=options["per_round"]
            )
        written = replies_generate(
            topic=topic,
            questions=questions,
            out=options["out"],
            log=lambda line: self.stdout.write(line),
            check=not options["no_check"],
        )
        self.stdout.write(f"{written} replies written to {options['out']}")
