"""`manage.py measure_repeat_kinds FILE…`: how completely repeats are found
in copies of real questions changed in issue 30's ways (benchmarks/
repeat_kinds.py). Embeds with the configured embedder; no database."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from benchmarks.repeat_kinds import measure_repeat_kinds, questions_from, table


class Command(BaseCommand):
    help = (
        "Recall of REPEAT, per kind of change, on copies of a seeded sample of "
        "the questions in these round files (CSV or JSON Lines)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--sample", type=int, default=150)
        parser.add_argument("--seed", type=int, default=2)
        parser.add_argument(
            "--misses", type=int, default=3, help="misses shown per kind"
        )

    def handle(self, *args: object, **options: Any) -> None:
        missing = [str(p) for p in options["files"] if not p.is_file()]
        if missing:
            raise CommandError(f"no such file: {', '.join(missing)}")
        questions = questions_from(options["files"])
        if len(questions) < 10:
            raise CommandError(f"{len(questions)} usable questions: too few to sample")
        figures, misses = measure_repeat_kinds(
            questions, sample=options["sample"], seed=options["seed"]
        )
        self.stdout.write(
            f"{min(options['sample'], len(questions))} of {len(questions)} "
            f"questions, seed {options['seed']}"
        )
        self.stdout.write("\n".join(table(figures)))
        shown: dict[str, int] = {}
        for miss in misses:
            if shown.get(miss.kind, 0) >= options["misses"]:
                continue
            shown[miss.kind] = shown.get(miss.kind, 0) + 1
            self.stdout.write(
                f"\n{miss.kind} {miss.original.key} cos {miss.similarity:.3f} "
                f"-> {miss.verdict}\n  {miss.original.stem}\n  {miss.changed.stem}"
            )
