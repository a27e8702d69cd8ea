import json
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from benchmarks.llm_e2e import (
    llm_e2e_run,
    load_average,
    local_llm_start,
    local_llm_stop,
)

# ../shared next to the checkout (or next to the worktrees' parent).
SHARED = next(
    (
        base / "shared"
        for base in Path(settings.BASE_DIR).resolve().parents
        if (base / "shared" / "tools").is_dir()
    ),
    Path(settings.BASE_DIR).parent / "shared",
)
DOCUMENTS = SHARED / "data" / "documents"


class Command(BaseCommand):
    help = (
        "Opt-in end-to-end measurement with a real LLM: a 20-question session "
        "with 8 misses, prefetched by a real qcluster in a throwaway database; "
        "prints the time to the first explanation, the time until every card "
        "is resolved, silent failures, tasks killed and double generations, "
        "and per missed question its card, the gate's and the guard's "
        "decisions and the text shown."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--start-local-llm",
            action="store_true",
            help="start ../shared/tools/local-llm first (and stop it afterwards)",
        )
        parser.add_argument(
            "--local-llm", type=Path, default=SHARED / "tools" / "local-llm"
        )
        parser.add_argument("--base-url", default=settings.LLM_BASE_URL)
        parser.add_argument("--model", default=settings.LLM_MODEL)
        parser.add_argument(
            "--exam",
            type=Path,
            action="append",
            help="an exam round (CSV); repeat for several rounds "
            "(default: ind-safety-2020-1)",
        )
        parser.add_argument(
            "--document",
            type=Path,
            action="append",
            help="a statute document; repeat for several (default: 중대재해처벌법)",
        )
        parser.add_argument(
            "--all-documents",
            action="store_true",
            help=f"load every current statute in {DOCUMENTS}",
        )
        parser.add_argument("--size", type=int, default=20)
        parser.add_argument("--missed", type=int, default=8)
        parser.add_argument(
            "--statute-misses",
            type=int,
            default=0,
            help="of the misses, this many on questions whose stem names a "
            "loaded statute (as far as the session has them)",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=0,
            help="seeds the session's questions and the missed positions",
        )
        parser.add_argument("--timeout", type=float, default=3600)
        parser.add_argument("--json", type=Path, help="write the figures as JSON")

    def handle(self, *args, **options):
        exams = options["exam"] or [SHARED / "data/exams/ind-safety-2020-1.csv"]
        documents = list(options["document"] or [])
        if options["all_documents"]:
            documents += sorted(
                p for p in DOCUMENTS.glob("*.md") if p.name != "README.md"
            )
        documents = list(dict.fromkeys(documents or [DOCUMENTS / "중대재해처벌법.md"]))
        for key, paths in (("exam", exams), ("document", documents)):
            for path in paths:
                if not path.is_file():
                    raise CommandError(f"--{key} {path} is not a file")
        if options["statute_misses"] > options["missed"]:
            raise CommandError("--statute-misses cannot exceed --missed")
        started_llm = False
        base_url = options["base_url"]
        log = self.stderr.write
        workdir = Path(tempfile.mkdtemp(prefix="gichul-llm-e2e-"))
        try:
            if options["start_local_llm"]:
                base_url = local_llm_start(options["local_llm"], log)
                started_llm = True
            if not base_url:
                raise CommandError(
                    "no LLM: set LLM_BASE_URL, pass --base-url, or --start-local-llm"
                )
            log(f"load average before: {load_average()}")
            figures = llm_e2e_run(
                base_url=base_url,
                model=options["model"],
                exams=exams,
                documents=documents,
                missed=options["missed"],
                statute_misses=options["statute_misses"],
                seed=options["seed"],
                size=options["size"],
                timeout_s=options["timeout"],
                workdir=workdir,
                log=log,
            )
        finally:
            if started_llm:
                local_llm_stop(options["local_llm"], log)
            shutil.rmtree(workdir, ignore_errors=True)
        self.stdout.write(
            json.dumps(figures, ensure_ascii=False, indent=2, default=str)
        )
        if options["json"]:
            options["json"].write_text(
                json.dumps(figures, ensure_ascii=False, indent=2, default=str) + "\n",
                encoding="utf-8",
            )
