"""Question texts stored with an exporter's literal backslash-n (`\\n`) where
a line break was meant, mended as the importer now reads them.

Before, the importer kept `\\n` before a Latin letter everywhere (as LaTeX
such as `\\nu`), so "것은?\\n\\nO 심박동수" showed its `\\nO`. Re-importing the
file mends its questions too; this command mends those whose file is gone.
The edit goes through questions_bulk_update (its stale rule, re-embedding
and relation caches, the outbox), like any other edit.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q

from study.imports.parsing import clean_text
from study.management.topic_option import OWNER_HELP, topic_from_options
from study.models import Question
from study.services.questions import questions_bulk_update

TEXT_FIELDS = ("stem", "choice_1", "choice_2", "choice_3", "choice_4", "explanation")
BATCH = 500


class Command(BaseCommand):
    help = (
        "문제 본문·보기·해설에 글자 그대로 남은 \\n(줄바꿈)을 가져오기와 같은 "
        "규칙으로 고칩니다."
    )

    def add_arguments(self, parser):
        parser.add_argument("--topic", help="토픽 이름 (없으면 모든 토픽)")
        parser.add_argument("--owner", help=OWNER_HELP)
        parser.add_argument(
            "--dry-run", action="store_true", help="고칠 문제 수만 셉니다"
        )

    def handle(self, *args, **options):
        questions = Question.objects.alive()
        if options["topic"]:
            questions = questions.filter(topic=topic_from_options(options))
        literal = Q()
        for name in TEXT_FIELDS:
            literal |= Q(**{f"{name}__contains": "\\n"})
        ids = list(
            questions.filter(literal).order_by("pk").values_list("pk", flat=True)
        )
        mended = 0
        for start in range(0, len(ids), BATCH):
            rows = Question.objects.filter(pk__in=ids[start : start + BATCH])
            edits = []
            for question in rows.order_by("pk"):
                data = {name: _mended(getattr(question, name)) for name in TEXT_FIELDS}
                if any(data[n] != getattr(question, n) for n in TEXT_FIELDS):
                    edits.append((question, data))
            if options["dry_run"]:
                mended += len(edits)
                continue
            with transaction.atomic():
                mended += len(questions_bulk_update(edits=edits))
        verb = "고칠" if options["dry_run"] else "고친"
        self.stdout.write(f"{verb} 문제 {mended} / 살펴본 문제 {len(ids)}")


def _mended(text: str) -> str:
    """The text as the importer reads it now, if it holds a literal \\n."""
    return clean_text(text) if "\\n" in text else text
