import time
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from study.documents.extraction import DocumentRejected
from study.documents.services import document_create, document_ingest
from study.management.files_and_topic import files_and_topic
from study.models import DocumentStatus, MaterialType


class Command(BaseCommand):
    help = (
        "학습 자료 파일(PDF, Markdown, 텍스트)을 토픽에 올리고 바로 처리합니다 "
        "(추출·조각내기·임베딩, 진행 막대 표시)."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--topic", required=True, help="토픽 이름 (없으면 생성)")
        parser.add_argument("--owner", help="토픽·자료 소유자 username")
        parser.add_argument(
            "--material-type",
            choices=MaterialType.values,
            default=MaterialType.OTHER,
            help="자료 종류 (법령이면 law)",
        )

    def handle(self, *args, **options):
        paths, topic = files_and_topic(options)
        quiet = options["verbosity"] < 1
        failed = 0
        started = time.perf_counter()
        for path in paths:
            t0 = time.perf_counter()
            with path.open("rb") as handle:
                try:
                    document = document_create(
                        owner=topic.owner,
                        topics=[topic],
                        title="",
                        upload=UploadedFile(
                            handle, name=path.name, size=path.stat().st_size
                        ),
                        material_type=options["material_type"],
                        enqueue=False,
                    )
                except DocumentRejected as exc:
                    failed += 1
                    self.stdout.write(f"{path.name}: 거부됨 — {exc}")
                    continue
            with tqdm(
                desc=path.name[:30],
                unit="조각",
                disable=quiet,
                leave=True,
                file=self.stderr,
            ) as bar:

                def progress(done: int, total: int, bar=bar) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                document = document_ingest(document_id=document.pk, progress=progress)
            seconds = time.perf_counter() - t0
            if document.status == DocumentStatus.READY:
                self.stdout.write(
                    f"{path.name}: {document.title} · {document.chunk_count}조각 · "
                    f"{len(document.text):,}자 · {seconds:.1f}s"
                )
            else:
                failed += 1
                self.stdout.write(f"{path.name}: 실패 — {document.error}")
        self.stdout.write(
            f"topic={topic.name!r} files={len(paths)} failed={failed} "
            f"seconds={time.perf_counter() - started:.1f}"
        )
        if failed:
            raise CommandError(f"{failed}개 파일을 처리하지 못했습니다.")
