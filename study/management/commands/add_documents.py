import time
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from study.documents.extraction import DocumentRejected
from study.documents.files import document_files, newest_versions_first
from study.documents.services import DocumentAdded, document_add, document_ingest
from study.imports.services import topic_get_or_create_for_import
from study.models import Document, DocumentStatus, MaterialType, Topic


class Command(BaseCommand):
    help = (
        "학습 자료 파일(PDF, Markdown, 텍스트)이나 폴더를 토픽에 올리고 바로 "
        "처리합니다 (추출·조각내기·임베딩, 진행 막대 표시). 같은 법령의 다른 "
        "시행일자는 그 법령의 버전이 되고, 이미 있는 버전은 건너뜁니다."
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
        try:
            files = document_files(options["paths"])
        except FileNotFoundError as exc:
            raise CommandError(f"파일이 없습니다: {exc}") from exc
        if not files:
            raise CommandError("올릴 파일이 없습니다.")
        try:
            topic = topic_get_or_create_for_import(
                name=options["topic"], owner_username=options["owner"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        started = time.perf_counter()
        counts = {"created": 0, "existing": 0, "replaced": 0, "failed": 0}
        for path in newest_versions_first(files):
            try:
                item = self._add(path, topic, options["material_type"])
            except DocumentRejected as exc:
                counts["failed"] += 1
                self.stdout.write(f"{path.name}: 거부됨 — {exc}")
                continue
            counts[item.outcome] += 1
            if not item.needs_ingest:
                continue
            document = self._ingest(path, item.document, options["verbosity"] < 1)
            if document.status != DocumentStatus.READY:
                counts["failed"] += 1
        self.stdout.write(
            f"topic={topic.name!r} files={len(files)} "
            + " ".join(f"{k}={v}" for k, v in counts.items())
            + f" seconds={time.perf_counter() - started:.1f}"
        )
        if counts["failed"]:
            raise CommandError(f"{counts['failed']}개 파일을 처리하지 못했습니다.")

    def _add(self, path: Path, topic: Topic, material_type: str) -> DocumentAdded:
        with path.open("rb") as handle:
            return document_add(
                owner=topic.owner,
                topics=[topic],
                title="",
                upload=UploadedFile(handle, name=path.name, size=path.stat().st_size),
                material_type=material_type,
                enqueue=False,
            )

    def _ingest(self, path: Path, document: Document, quiet: bool) -> Document:
        t0 = time.perf_counter()
        with tqdm(
            desc=path.name[:30],
            unit="조각",
            disable=quiet,
            leave=False,
            file=self.stderr,
        ) as bar:

            def progress(done: int, total: int, bar=bar) -> None:
                bar.total = total
                bar.update(done - bar.n)

            document = document_ingest(document_id=document.pk, progress=progress)
        seconds = time.perf_counter() - t0
        if document.status == DocumentStatus.READY:
            version = (
                f" · 시행 {document.effective_date}" if document.effective_date else ""
            )
            self.stdout.write(
                f"{path.name}: {document.title}{version} · "
                f"{document.chunk_count}조각 · {len(document.text):,}자 · "
                f"{seconds:.1f}s"
            )
        else:
            self.stdout.write(f"{path.name}: 실패 — {document.error}")
        return document
