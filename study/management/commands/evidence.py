import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from study.ai.explanations import SYSTEM_PROMPT, explanation_inputs
from study.documents.retrieval_eval import QuestionNotFound, question_by_round_id
from study.llm.budget import estimate_tokens, prompt_budget
from study.management.topic_option import OWNER_HELP, topic_from_options

MARK_LABELS = {"match": "조문과 일치", "differ": "조문과 다름", "absent": "조문에 없음"}


class Command(BaseCommand):
    help = (
        "한 문제의 근거 카드(결정 조문, 보기별 대조, 판정, 기출 이력)와 AI 해설 "
        "프롬프트에 실제로 들어갈 근거를 보여 줍니다."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--topic", required=True, help="토픽 이름")
        parser.add_argument("--owner", help=OWNER_HELP)
        parser.add_argument(
            "--question",
            required=True,
            help="연도-회차-번호 (예: 2019-1-15, 2020-1,2-5)",
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: object, **options: Any) -> None:
        topic = topic_from_options(options)
        try:
            question = question_by_round_id(
                topic=topic, question_id=options["question"]
            )
        except QuestionNotFound as exc:
            raise CommandError(str(exc)) from exc
        inputs = explanation_inputs(question)
        card, packed = inputs.card, inputs.evidence
        tokens = estimate_tokens(SYSTEM_PROMPT) + estimate_tokens(inputs.prompt)
        dropped = inputs.candidates - len(packed)
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
                **card.as_dict(),
                "prompt_tokens_estimate": tokens,
                "prompt_budget": prompt_budget(),
                "dropped_for_budget": dropped,
                "evidence": items,
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"[{options['question']}] {question.stem[:120]}")
        self._card(card)
        self.stdout.write("\n-- AI 해설 프롬프트의 근거 --")
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
            f"근거 {len(items)}개 (예산 때문에 뺀 것 {dropped}개)"
        )

    def _card(self, card) -> None:
        write = self.stdout.write
        if not card.passages:
            write("근거 카드: 판단할 조문이 자료에 없습니다.")
        for passage in card.passages:
            decides = " (판정 근거)" if passage.decides else ""
            write(f"  조문: {passage.citation}{decides}")
        for choice in card.choices:
            detail = f" — 조문: {choice.detail}" if choice.detail else ""
            key = " [정답]" if choice.is_key else ""
            write(f"  {choice.number}. {MARK_LABELS[choice.mark]}{key}{detail}")
        if card.verdict:
            same = "정답과 같음" if card.verdict_is_key else "정답과 다름"
            write(f"  판정: 조문에 따르면 {card.verdict}번 ({same})")
        else:
            write("  판정: 없음 (조문이 한 보기를 가려내지 못함)")
        for item in card.history:
            write(
                f"  이력: {item.year}-{item.session}-{item.number} 정답 "
                f"{','.join(map(str, item.key))} ({item.agreement})"
            )
