import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from benchmarks.report import markdown, table
from benchmarks.runner import MEASUREMENTS, benchmark_run
from benchmarks.scales import SCALES


class Command(BaseCommand):
    help = (
        "성능 벤치마크: 전용 데이터베이스에 합성 데이터를 만들고 핫 경로, 작업 "
        "파이프라인, 배치 명령, 부하 테스트를 측정합니다 (작업 데이터는 건드리지 않음)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=list(SCALES), default="small")
        parser.add_argument(
            "--only",
            action="append",
            metavar="NAME",
            help=f"measure only these (repeatable or comma-separated): "
            f"{', '.join(MEASUREMENTS)}",
        )
        parser.add_argument("--json", type=Path, help="write the results as JSON")
        parser.add_argument(
            "--markdown",
            type=Path,
            help="write the results as Markdown tables (targets and load beside "
            "every figure, for docs/benchmarks.md)",
        )
        parser.add_argument(
            "--render",
            type=Path,
            metavar="JSON",
            help="measure nothing: print the Markdown tables of an earlier run's "
            "--json file",
        )
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="rebuild the dataset even if reusable",
        )
        parser.add_argument("--requests", type=int, help="timed requests per path")
        parser.add_argument(
            "--hostile-mb",
            type=int,
            help="size of each hostile question upload (default 100; tiny: 1)",
        )
        parser.add_argument(
            "--llm-latency", type=float, default=0.5, help="fake LLM latency (s)"
        )
        parser.add_argument(
            "--keep-workdir", action="store_true", help="keep logs and files"
        )
        parser.add_argument(
            "--documents",
            type=Path,
            help="folder of .md statutes for the ingest figure "
            "(default ../shared/data/documents)",
        )
        parser.add_argument(
            "--embed-limit",
            type=int,
            help="embed only this many of the largest topic's questions for the "
            "related analysis with embeddings, and project the rest (default: all)",
        )
        parser.add_argument(
            "--drop-after",
            action="store_true",
            help="drop this run's database clone at the end (the dataset stays)",
        )

    def handle(self, *args, **options):
        if options["render"]:
            try:
                earlier = json.loads(options["render"].read_text(encoding="utf-8"))
                self.stdout.write(markdown(earlier), ending="")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise CommandError(f"cannot render {options['render']}: {exc}") from exc
            return
        only = set(MEASUREMENTS)
        if options["only"]:
            only = {n.strip() for value in options["only"] for n in value.split(",")}
            unknown = only - set(MEASUREMENTS)
            if unknown:
                raise CommandError(
                    f"unknown measurement(s): {', '.join(sorted(unknown))}"
                )
        scale = SCALES[options["scale"]].with_overrides(
            requests=options["requests"], hostile_upload_mb=options["hostile_mb"]
        )
        result = benchmark_run(
            scale=scale,
            only=only,
            rebuild=options["rebuild"],
            llm_latency_s=options["llm_latency"],
            keep_workdir=options["keep_workdir"],
            drop_after=options["drop_after"],
            documents_dir=options["documents"],
            embed_limit=options["embed_limit"],
            log=lambda line: self.stderr.write(line),
        )
        self.stdout.write(table(result))
        if options["markdown"]:
            options["markdown"].write_text(markdown(result), encoding="utf-8")
        if options["json"]:
            options["json"].write_text(
                json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n",
                encoding="utf-8",
            )
