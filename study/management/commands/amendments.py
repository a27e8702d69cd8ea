import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from study.amendments import selectors as asel
from study.amendments.services import topic_amendments_compute
from study.management.topic_option import OWNER_HELP, topic_from_options


class Command(BaseCommand):
    help = (
        "개정 판단: 시험일에 시행 중이던 법령과 현행 법령이 다르게 판단하는 문제 "
        "(개정됨) 와 판단한 조문이 사라진 문제 (삭제됨) 의 목록. 오래된 판단은 "
        "먼저 다시 계산합니다. 정답은 바꾸지 않습니다."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--topic", required=True)
        parser.add_argument("--owner", help=OWNER_HELP)
        parser.add_argument(
            "--force", action="store_true", help="모든 문제를 다시 판단합니다"
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: object, **options: Any) -> None:
        topic = topic_from_options(options)
        report = topic_amendments_compute(topic=topic, force=options["force"])
        counts = asel.topic_amendment_counts(topic=topic)
        items = asel.topic_flagged(topic=topic)
        rows: list[dict[str, Any]] = [
            {
                "question": item.label,
                "question_id": item.question_id,
                "stem": item.stem,
                "key": item.key,
                "status": item.view.status,
                "reason": item.reason,
                "key_now": item.view.key_now,
                "exam_date": item.view.exam_date,
                "then": {
                    "citation": item.view.then_citation,
                    "article": item.then_article,
                    "version": item.view.then_version,
                    "changed": item.view.changed_then,
                },
                "now": {
                    "citation": item.view.now_citation,
                    "article": item.now_article,
                    "version": item.view.now_version,
                    "changed": item.view.changed_now,
                },
            }
            for item in items
        ]
        if options["json"]:
            payload = {
                "questions": report.questions,
                "recomputed": report.computed,
                "counts": counts,
                "items": rows,
            }
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"문제 {report.questions}개 (다시 판단 {report.computed}개): "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )
        for row in rows:
            then, now = row["then"], row["now"]
            line = (
                f"{row['question']:>16} {row['status']:<8} 정답 "
                f"{','.join(map(str, row['key']))}"
                + (f" → 현행 {row['key_now']}" if row["key_now"] else "")
                + f" · {then['citation']} ({then['version']})"
                + (
                    f" → {now['citation']} ({now['version']})"
                    if now["citation"]
                    else ""
                )
                + f" · {row['reason']}"
            )
            self.stdout.write(line)
            if then["changed"] or now["changed"]:
                self.stdout.write(
                    f"{'':>18}「{then['changed'][:80]}」 → 「{now['changed'][:80]}」"
                )
        self.stdout.write(f"개정됨·삭제됨 {len(rows)}문제")
