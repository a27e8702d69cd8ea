"""A whole topic from one Gichul to another: its questions, figures and study
documents in one zip, imported as a new topic of the importing owner.

What a learner did (sessions, answers, progress) stays: it is theirs, not the
topic's (see learner_data). The import goes through the same write paths as
every other entry point: figures are checked and re-encoded by the figure
service, questions written by the question services, documents uploaded by
the document service (quota checked, processed in the background).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from study.documents.extraction import DocumentRejected
from study.documents.services import document_create
from study.models import ExamSpec, MaterialType, Question, Topic
from study.models.question import CONTENT_FIELDS, ROUND_KEY_FIELDS, figure_upload_to
from study.services.exam_specs import exam_spec_save
from study.services.figures import FigureRejected, figure_prepare, figure_quota_check
from study.services.questions import question_create, questions_bulk_create
from study.services.topics import topic_create

MANIFEST = "gichul-topic.json"
FORMAT_VERSION = 1
QUESTION_FIELDS = (*ROUND_KEY_FIELDS, *CONTENT_FIELDS)
DOCUMENT_FIELDS = ("title", "material_type", "jurisdiction", "year")
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024


class TopicImportError(ValueError):
    """Why a file cannot be imported; nothing was saved."""


@dataclass(frozen=True)
class TransferSummary:
    topic: Topic
    questions: int
    figures: int
    documents: int


def topic_export_write(*, topic: Topic, out: str | Path | IO[bytes]) -> TransferSummary:
    """Write the topic's alive questions (with figures) and documents to `out`
    (a path or a binary file)."""
    questions = list(Question.objects.alive().filter(topic=topic).in_round_order())
    documents = list(topic.documents.order_by("id"))
    figures = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        rows = []
        for index, question in enumerate(questions):
            row = {name: getattr(question, name) for name in QUESTION_FIELDS}
            row["figure"] = _add_file(archive, question.figure, f"figures/{index}")
            figures += bool(row["figure"])
            rows.append(row)
        docs = []
        for index, document in enumerate(documents):
            row = {name: getattr(document, name) for name in DOCUMENT_FIELDS}
            row["file"] = _add_file(archive, document.file, f"documents/{index}")
            docs.append(row)
        archive.writestr(
            MANIFEST,
            json.dumps(_manifest(topic, rows, docs), ensure_ascii=False, indent=1),
        )
    return TransferSummary(topic, len(rows), figures, len(docs))


def _manifest(topic: Topic, questions: list[dict], documents: list[dict]) -> dict:
    spec = ExamSpec.objects.filter(topic=topic).first()
    return {
        "format": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "topic": {"name": topic.name, "description": topic.description},
        "exam_spec": {
            "subjects": spec.subjects,
            "questions_per_subject": spec.questions_per_subject,
            "time_limit_minutes": spec.time_limit_minutes,
        }
        if spec
        else None,
        "questions": questions,
        "documents": documents,
    }


def _add_file(archive: zipfile.ZipFile, field_file: FieldFile, stem: str) -> str:
    if not field_file:
        return ""
    name = f"{stem}{PurePosixPath(field_file.name or '').suffix.lower()}"
    try:
        with field_file.open("rb") as handle:
            archive.writestr(name, handle.read())
    except OSError:  # the file is gone from storage: the row goes without
        return ""
    return name


def topic_import(
    *, owner: User, archive: str | Path | IO[bytes], name: str = ""
) -> TransferSummary:
    """A new topic of `owner` from an exported zip (a path or a binary file).
    Raises TopicImportError, with nothing saved, when the file is not one."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            manifest = _read_manifest(zipped)
            return _import(owner, zipped, manifest, name)
    except zipfile.BadZipFile as exc:
        raise TopicImportError(_("토픽 내보내기 파일(zip)이 아닙니다.")) from exc


def _read_manifest(zipped: zipfile.ZipFile) -> dict:
    if sum(info.file_size for info in zipped.infolist()) > MAX_UNPACKED_BYTES:
        raise TopicImportError(_("파일이 너무 큽니다 (풀면 1GB 넘음)."))
    try:
        manifest = json.loads(zipped.read(MANIFEST))
    except (KeyError, ValueError) as exc:
        raise TopicImportError(_("토픽 내보내기 파일(zip)이 아닙니다.")) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise TopicImportError(_("토픽 내보내기 파일(zip)이 아닙니다."))
    if not isinstance(manifest.get("questions"), list) or not isinstance(
        manifest.get("documents"), list
    ):
        raise TopicImportError(_("토픽 내보내기 파일(zip)이 아닙니다."))
    return manifest


@transaction.atomic
def _import(
    owner: User, zipped: zipfile.ZipFile, manifest: dict, name: str
) -> TransferSummary:
    source = manifest.get("topic") or {}
    topic_name = (name or str(source.get("name") or "")).strip()
    if Topic.objects.filter(owner=owner, name=topic_name).exists():
        raise TopicImportError(
            _("'%(name)s' 토픽이 이미 있습니다. 다른 이름으로 가져오세요.")
            % {"name": topic_name}
        )
    try:
        topic = topic_create(
            owner=owner,
            name=topic_name,
            description=str(source.get("description") or ""),
        )
    except ValidationError as exc:
        raise TopicImportError(_("토픽 이름이 올바르지 않습니다.")) from exc
    _import_spec(topic, manifest.get("exam_spec"))
    questions, figures = _questions(topic, zipped, manifest["questions"])
    documents = _documents(owner, topic, zipped, manifest["documents"])
    return TransferSummary(topic, questions, figures, documents)


def _import_spec(topic: Topic, spec: object) -> None:
    if not isinstance(spec, dict):
        return
    try:
        exam_spec_save(
            topic=topic,
            subjects=[str(s) for s in spec.get("subjects") or []],
            questions_per_subject=int(spec.get("questions_per_subject") or 20),
            time_limit_minutes=spec.get("time_limit_minutes"),
        )
    except (ValidationError, IntegrityError, TypeError, ValueError) as exc:
        raise TopicImportError(_("시험 구성이 올바르지 않습니다.")) from exc


def _questions(topic: Topic, zipped: zipfile.ZipFile, rows: list) -> tuple[int, int]:
    built = [_question(topic, index, row) for index, row in enumerate(rows)]
    figures = [_figure(zipped, row, index) for index, row in enumerate(rows)]
    figure_quota_check(
        owner=topic.owner, incoming_bytes=sum(f.size for f in figures if f)
    )
    keyed: list[Question] = []
    loose: list[Question] = []
    for question, figure in zip(built, figures, strict=True):
        if figure:
            question.figure = default_storage.save(
                figure_upload_to(question, figure.name or "figure"), figure
            )
        (
            keyed
            if question.exam_year is not None and question.number is not None
            else loose
        ).append(question)
    questions_bulk_create(topic=topic, questions=keyed)
    for question in loose:
        data = {name: getattr(question, name) for name in (*QUESTION_FIELDS, "figure")}
        question_create(topic=topic, data=data)
    return len(built), sum(1 for f in figures if f)


def _question(topic: Topic, index: int, row: object) -> Question:
    if not isinstance(row, dict):
        raise TopicImportError(
            _("%(n)d번째 문제를 읽을 수 없습니다.") % {"n": index + 1}
        )
    question = Question(topic=topic, **{k: row[k] for k in QUESTION_FIELDS if k in row})
    try:
        question.full_clean(exclude=["figure"], validate_unique=False)
    except (ValidationError, TypeError, ValueError) as exc:
        raise TopicImportError(
            _("%(n)d번째 문제가 올바르지 않습니다.") % {"n": index + 1}
        ) from exc
    return question


def _figure(zipped: zipfile.ZipFile, row: dict, index: int) -> ContentFile | None:
    member = row.get("figure") or ""
    if not member:
        return None
    try:
        data = zipped.read(str(member))
        return figure_prepare(ContentFile(data, name=Path(str(member)).name))
    except KeyError as exc:
        raise TopicImportError(
            _("%(n)d번째 문제의 그림이 파일에 없습니다.") % {"n": index + 1}
        ) from exc
    except FigureRejected as exc:
        raise TopicImportError(f"{index + 1}: {exc}") from exc


def _documents(owner: User, topic: Topic, zipped: zipfile.ZipFile, rows: list) -> int:
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or not row.get("file"):
            raise TopicImportError(
                _("%(n)d번째 자료를 읽을 수 없습니다.") % {"n": index + 1}
            )
        try:
            data = zipped.read(str(row["file"]))
        except KeyError as exc:
            raise TopicImportError(
                _("%(n)d번째 자료의 파일이 없습니다.") % {"n": index + 1}
            ) from exc
        upload = SimpleUploadedFile(Path(str(row["file"])).name, data)
        try:
            document_create(
                owner=owner,
                topics=[topic],
                title=str(row.get("title") or ""),
                upload=upload,
                material_type=_material_type(row.get("material_type")),
                jurisdiction=str(row.get("jurisdiction") or ""),
                year=row.get("year") if isinstance(row.get("year"), int) else None,
            )
        except DocumentRejected as exc:
            raise TopicImportError(f"{row.get('title')}: {exc}") from exc
    return len(rows)


def _material_type(value: object) -> str:
    return value if value in MaterialType.values else MaterialType.OTHER
