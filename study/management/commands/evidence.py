import json

from django.core.management.base import BaseCommand, CommandError

from study.ai.explanations import SYSTEM_PROMPT, explanation_prompt
from study.documents.retrieval import explanation_evidence
from study.documents.retrieval_eval import QuestionNotFound, question_by_round_id
from study.llm.budget import estimate_tokens, prompt_budget
from study.management.topic_option import OWNER_HELP, topic_from_options


class Command(BaseCommand):
    help = (
        "한 문제의 AI 해설 프롬프트에 실제로 들어갈 근거를 그대로 보여 줍니다 "
        "(종류, 인용, 점수, 본문; 토큰 예산 적용 후)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--topic", required=True, help="토픽 이름")
        parser.add_argument("--owner", help=OWNER_HELP)
        parser.add_argument(
            "--question",
            required=True,
            help="연도-회차-번호 (예: 2019-1-15, 2020-1,2-5)",
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        topic = topic_from_options(options)
        try:
            question = question_by_round_id(
                topic=topic, question_id=options["question"]
            )
        except QuestionNotFound as exc:
            raise CommandError(str(exc)) from exc
        candidates = explanation_evidence(question=question)
        prompt, packed = explanation_prompt(question, candidates)
        tokens = estimate_tokens(SYSTEM_PROMPT) + estimate_tokens(prompt)
        items = [
            {
                "kind": e.kind,
                "citation": e.title,
                "score": e.score,
                "ref": e.ref,
                "text": e.text,
            }
            for e in packed
        ]
        if options["json"]:
            payload = {
                "question": options["question"],
                "stem": question.stem,
                "prompt_tokens_estimate": tokens,
                "prompt_budget": prompt_budget(),
                "dropped_for_budget": len(candidates) - len(packed),
                "evidence": items,
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"[{options['question']}] {question.stem[:120]}")
        if not items:
            self.stdout.write("근거 없음 (관련 자료가 없거나 관련도가 낮음)")
        for n, item in enumerate(items, start=1):
            self.stdout.write(
                f"\n#{n} {item['kind']} · {item['citation']} · "
                f"score={item['score']:.3f}"
            )
            self.stdout.write(str(item["text"]))
        self.stdout.write(
            f"\n프롬프트 약 {tokens} 토큰 (예산 {prompt_budget()}), "
            f"근거 {len(items)}개 (예산 때문에 뺀 것 {len(candidates) - len(items)}개)"
        )
