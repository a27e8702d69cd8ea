import csv
import json
from pathlib import Path

from django.core.management.base import BaseCommand

from study import rounds
from study.exports.cells import spreadsheet_safe
from study.management.topic_option import topic_from_options
from study.models import AIExplanationStatus, Question
from study.related.selectors import topic_export_rows

CSV_COLUMNS = [
    "key",
    "exam_year",
    "exam_session",
    "round",
    "number",
    "subject",
    "stem",
    "choice_1",
    "choice_2",
    "choice_3",
    "choice_4",
    "answer",
    "answers",
    "repeat",
    "similar",
    "round_count",
    "grade",
    "explanation_status",
    "explanation",
    "source_explanation",
]


class Command(BaseCommand):
    help = (
        "토픽의 문제은행을 분석 결과와 함께 내보냅니다 (한 줄에 한 문제): 키 "
        "YEAR-SESSION-NUMBER, 과목, 문제, 보기, 정답, 반복 출제·유사 유형 키, "
        "출제 회차 수, 등급, AI 해설 상태(준비됐으면 본문)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--topic", required=True, help="토픽 이름")
        parser.add_argument("--owner", help="토픽 소유자 username")
        parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
        parser.add_argument("--output", type=Path, help="파일 경로 (기본: 표준 출력)")

    def handle(self, *args, **options):
        topic = topic_from_options(options)
        records = (export_record(q) for q in topic_export_rows(topic=topic))
        writer = _write_csv if options["format"] == "csv" else _write_jsonl
        if options["output"]:
            with options["output"].open("w", encoding="utf-8", newline="") as out:
                count = writer(records, out)
            self.stderr.write(f"{count}문제를 {options['output']} 에 썼습니다.")
        else:
            writer(records, self.stdout)


def export_record(question: Question) -> dict:
    ready = question.ai_explanation_status == AIExplanationStatus.READY
    return {
        "key": question.key,
        "exam_year": question.exam_year,
        "exam_session": question.exam_session,
        "round": question.round_label_site,
        "number": question.number,
        "subject": question.subject,
        "stem": question.stem,
        "choices": question.choices,
        "answer": question.correct_choice,
        "answers": sorted(question.accepted_set),
        "repeat": [_key(entry) for entry in question.related_repeat],
        "similar": [_key(entry) for entry in question.related_similar],
        "round_count": question.round_count,
        "grade": question.related_grade,
        "explanation_status": question.ai_explanation_status,
        "explanation": question.ai_explanation if ready else "",
        "source_explanation": question.explanation,
    }


def _key(entry: dict) -> str:
    return rounds.question_key(
        entry.get("year"), entry.get("session") or "", entry.get("number"), entry["id"]
    )


def _write_jsonl(records, out) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def _write_csv(records, out) -> int:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    count = 0
    for record in records:
        choices = record.pop("choices")
        row = {
            **record,
            **{f"choice_{i}": text for i, text in enumerate(choices, start=1)},
            "answers": ",".join(str(a) for a in record["answers"]),
            "repeat": ";".join(record["repeat"]),
            "similar": ";".join(record["similar"]),
        }
        writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
        count += 1
    return count
