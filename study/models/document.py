from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.db.models import JSONField, Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from pgvector.django import HnswIndex, VectorField

from study.models.jobs import ERROR_CODES, JobError
from study.models.topic import Topic


class DocumentStatus(models.TextChoices):
    PENDING = "pending", _("처리 대기")
    PROCESSING = "processing", _("처리 중")
    READY = "ready", _("사용 가능")
    FAILED = "failed", _("실패")


class DocumentError(models.TextChoices):
    """Why a document was refused or failed, stored as the code with its
    parameters (Document.error_params) and shown in the reader's language:
    the label is the message, its %(name)s filled from the parameters."""

    NOT_A_PDF = "not_a_pdf", _("PDF라고 되어 있지만 PDF 파일이 아닙니다.")
    SAME_VERSION = (
        "same_version",
        _("같은 법령의 같은 버전이 이미 있습니다: %(title)s"),
    )
    UNSUPPORTED_TYPE = (
        "unsupported_type",
        _("지원하지 않는 파일 형식입니다 (PDF, Markdown, 텍스트만)."),
    )
    FILE_TOO_LARGE = "file_too_large", _("파일이 너무 큽니다 (최대 20MB).")
    UNKNOWN_ENCODING = (
        "unknown_encoding",
        _("텍스트 인코딩을 알 수 없습니다 (UTF-8 또는 CP949)."),
    )
    TEXT_TOO_LONG = (
        "text_too_long",
        _(
            "자료가 너무 깁니다 (%(n_text)s자, 최대 %(max_text_chars)s자). "
            "나눠서 올려 주세요."
        ),
    )
    NO_TEXT = (
        "no_text",
        _("텍스트를 추출할 수 없습니다 (스캔 이미지로 된 PDF일 수 있습니다)."),
    )
    TOO_MANY_CHUNKS = (
        "too_many_chunks",
        _(
            "자료가 너무 깁니다 (%(n_chunks)s조각, 최대 %(max_chunks)s). "
            "나눠서 올려 주세요."
        ),
    )
    PDF_TIMEOUT = (
        "pdf_timeout",
        _("PDF 텍스트 추출이 %(extract_wall_s)s초 안에 끝나지 않았습니다."),
    )
    PDF_ENCRYPTED = "pdf_encrypted", _("암호가 걸린 PDF는 읽을 수 없습니다.")
    PDF_TOO_MANY_PAGES = (
        "pdf_too_many_pages",
        _("PDF 쪽수가 너무 많습니다 (%(reply)s쪽, 최대 %(max_pdf_pages)s쪽)."),
    )
    PDF_INFLATED_TEXT = (
        "pdf_inflated_text",
        _(
            "PDF에서 나온 텍스트가 너무 깁니다 (파일 크기 "
            "%(n_data)s바이트에 %(max_chars)s자 초과). 비정상적으로 "
            "부풀려진 PDF일 수 있습니다."
        ),
    )
    PDF_UNREADABLE = "pdf_unreadable", _("PDF를 읽을 수 없습니다: %(reply)s")
    PDF_BROKEN = "pdf_broken", _("PDF를 읽을 수 없습니다: %(exc)s")
    PDF_LIMITS = (
        "pdf_limits",
        _(
            "PDF 텍스트 추출이 허용된 CPU 시간이나 메모리를 넘었습니다 "
            "(CPU %(extract_cpu_s)s초, 메모리 %(extract_memory_bytes)sMB)."
        ),
    )
    PDF_EXIT = (
        "pdf_exit",
        _("PDF를 읽을 수 없습니다 (추출 프로세스 종료 코드 %(returncode)s)."),
    )
    PDF_PAGE_TOO_BIG = (
        "pdf_page_too_big",
        _(
            "PDF %(number)s쪽의 내용이 너무 큽니다 (압축을 푼 크기 "
            "%(cost)s바이트, 한 쪽 최대 %(page_limit)s바이트). "
            "비정상적으로 부풀려진 PDF일 수 있습니다."
        ),
    )
    PDF_TOO_BIG = "pdf_too_big", _("PDF 내용이 너무 큽니다. 나눠서 올려 주세요.")
    PDF_TOO_DEEP = "pdf_too_deep", _("PDF 구조가 너무 깊게 중첩되어 있습니다.")
    QUOTA_PROCESSING = (
        "quota_processing",
        _(
            "처리 중인 자료가 %(document_max_processing)s개 있습니다. "
            "처리가 끝난 뒤에 올려 주세요."
        ),
    )
    QUOTA_COUNT = (
        "quota_count",
        _(
            "자료는 %(document_quota_count)s개까지 올릴 수 있습니다. 쓰지 "
            "않는 자료를 뺀 뒤 올려 주세요."
        ),
    )
    QUOTA_BYTES = (
        "quota_bytes",
        _(
            "자료 저장 한도(%(quota)sMB)를 넘습니다. 쓰지 않는 자료를 뺀 "
            "뒤 올려 주세요."
        ),
    )
    EMBEDDING_FAILED = "embedding_failed", _("임베딩을 만들지 못했습니다: %(detail)s")
    WORKER_STOPPED = (
        "worker_stopped",
        _(
            "처리 작업이 %(max_attempts)s번 중단되었습니다 (작업자 종료). "
            "다시 시도해 주세요."
        ),
    )
    INGEST_ERROR = "ingest_error", _("처리 중 오류가 났습니다: %(name)s")


def document_error_text(code: str, params: dict[str, object]) -> str:
    """The message of a document error code, in the active language."""
    if code not in DocumentError.values:
        return str(params.get("text", ""))  # stored before codes were
    try:
        return str(DocumentError(code).label) % params
    except (KeyError, TypeError, ValueError):
        return str(DocumentError(code).label)


class MaterialType(models.TextChoices):
    TEXTBOOK = "textbook", _("교재")
    LAW = "law", _("법령")
    STANDARD = "standard", _("기준·지침")
    NOTES = "notes", _("요약 노트")
    OTHER = "other", _("기타")


def document_upload_to(instance: Document, filename: str) -> str:
    return f"documents/user-{instance.owner_id}/{filename}"


class Document(models.Model):
    """A study document (PDF, Markdown, text) whose chunks ground AI answers."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("소유자"),
    )
    topics = models.ManyToManyField(
        Topic, related_name="documents", verbose_name=_("토픽")
    )
    title = models.CharField(_("제목"), max_length=300)
    file = models.FileField(
        pgettext_lazy("field", "파일"), upload_to=document_upload_to, blank=True
    )
    file_kind = models.CharField(
        max_length=10, blank=True, verbose_name=_("파일 형식")
    )  # pdf | markdown | text
    material_type = models.CharField(
        _("자료 종류"),
        max_length=20,
        choices=MaterialType.choices,
        default=MaterialType.OTHER,
    )
    jurisdiction = models.CharField(_("관할"), max_length=100, blank=True)
    year = models.PositiveSmallIntegerField(_("연도"), null=True, blank=True)
    text = models.TextField(blank=True)
    status = models.CharField(
        max_length=20,
        choices=DocumentStatus.choices,
        default=DocumentStatus.PENDING,
        verbose_name=_("상태"),
    )
    # Why it failed: a DocumentError code and its parameters (`error` reads it).
    error_code = models.CharField(
        max_length=40,
        blank=True,
        choices=DocumentError.choices,
        verbose_name=_("오류 코드"),
    )
    error_params = models.JSONField(
        default=dict, blank=True, verbose_name=_("오류 정보")
    )
    summary = models.TextField(_("요약"), blank=True)
    chunk_count = models.PositiveIntegerField(default=0, verbose_name=_("조각 수"))
    # From the YAML front matter (never chunked as text).
    promulgated_on = models.CharField(
        _("공포일자"), max_length=40, blank=True, default="", db_default=""
    )
    effective_on = models.CharField(
        _("시행일자"), max_length=40, blank=True, default="", db_default=""
    )
    source_url = models.URLField(
        _("출처"), max_length=500, blank=True, default="", db_default=""
    )
    annexes = models.JSONField(
        _("별표"), default=list, blank=True, db_default=Value([], JSONField())
    )  # [{"label": "별표 3", "title": …, "url": …}] listed, body not in the text
    front_matter = models.JSONField(
        default=dict, blank=True, db_default=Value({}, JSONField())
    )
    # Versions of one act (study.documents.versions): the act the front matter
    # names, the version's 시행일자 and 공포번호, and whether it is the version
    # search, evidence and cards read today (always, for documents of no act).
    act_key = models.CharField(
        _("법령"), max_length=120, blank=True, default="", db_default=""
    )
    effective_date = models.DateField(_("시행일"), null=True, blank=True)
    promulgation_no = models.PositiveIntegerField(_("공포번호"), null=True, blank=True)
    in_force = models.BooleanField(_("현행"), default=True, db_default=True)
    content_digest = models.CharField(
        max_length=64, blank=True, default="", db_default=""
    )
    # Progress of the background ingest (pieces = chunks embedded).
    pieces_total = models.PositiveIntegerField(
        default=0, db_default=0, verbose_name=_("전체 부분")
    )
    pieces_done = models.PositiveIntegerField(
        default=0, db_default=0, verbose_name=_("처리한 부분")
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, db_default=0, verbose_name=_("시도 횟수")
    )
    started_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("시작 시각")
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("생성"))
    processed_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("처리 시각")
    )

    class Meta:
        verbose_name = pgettext_lazy("model", "학습 자료")
        verbose_name_plural = pgettext_lazy("plural", "학습 자료")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DocumentStatus.values),
                name="study_doc_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(pieces_done__lte=models.F("pieces_total")),
                name="study_doc_progress_le_total",
            ),
            models.CheckConstraint(
                condition=Q(material_type__in=MaterialType.values),
                name="study_doc_material_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(error_code__in=["", *DocumentError.values]),
                name="study_doc_error_code_valid",
            ),
            # The same act and version is the same document (a second load of
            # a history folder is a no-op).
            models.UniqueConstraint(
                fields=["owner", "act_key", "effective_date", "promulgation_no"],
                condition=~Q(act_key=""),
                nulls_distinct=False,
                name="study_doc_act_version_uniq",
            ),
        ]
        indexes = [
            models.Index(
                fields=["owner", "act_key", "effective_date"],
                condition=~Q(act_key=""),
                name="study_doc_act_versions",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def error(self) -> str:
        """Why it failed, in the reader's language ("" when it did not)."""
        return document_error_text(self.error_code, self.error_params)

    @property
    def in_progress(self) -> bool:
        return self.status in (DocumentStatus.PENDING, DocumentStatus.PROCESSING)

    @property
    def progress_percent(self) -> int:
        if not self.pieces_total:
            return 0
        return min(100, round(100 * self.pieces_done / self.pieces_total))

    @property
    def elapsed_s(self) -> int | None:
        if not self.started_at:
            return None
        end = self.processed_at if not self.in_progress else timezone.now()
        return max(
            0, round(((end or timezone.now()) - self.started_at).total_seconds())
        )

    @property
    def eta_s(self) -> int | None:
        """Seconds left at the rate so far (None until a first batch is done)."""
        elapsed = self.elapsed_s
        if not elapsed or not self.pieces_done or not self.pieces_total:
            return None
        rate = self.pieces_done / elapsed
        return round((self.pieces_total - self.pieces_done) / rate)


class DocumentChunk(models.Model):
    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="chunks"
    )
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    # "제42조(추락의 방지) ②" for statutes, the heading path otherwise.
    citation = models.CharField(max_length=300, blank=True, default="", db_default="")
    section = models.CharField(
        max_length=500, blank=True, default="", db_default=""
    )  # 편 › 장 › 절
    article = models.CharField(
        max_length=30, blank=True, default="", db_default=""
    )  # "제42조", "제4조의2"
    embedding = VectorField(dimensions=settings.EMBEDDING_DIM, null=True)
    embedding_model = models.CharField(max_length=200, blank=True)
    # Digest of what is embedded for the chunk (its embedding key): versions
    # of an act share most of their chunks, and each key is embedded once
    # (EmbeddingCache); only versions in force carry their vectors here.
    key_digest = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("자료 조각")
        verbose_name_plural = pgettext_lazy("plural", "자료 조각")
        ordering = ["document_id", "ordinal"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "ordinal"], name="study_chunk_doc_ordinal_uniq"
            )
        ]
        indexes = [
            HnswIndex(
                name="study_chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            GistIndex(
                name="study_chunk_text_trgm",
                fields=["text"],
                opclasses=["gist_trgm_ops"],
            ),
            models.Index(
                fields=["document", "article"], name="study_chunk_doc_article"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.ordinal}"


class EmbeddingCache(models.Model):
    """A vector per embedding key (by digest) and embedder: a chunk whose key
    another version of the act already had is not embedded again."""

    key_digest = models.CharField(max_length=64)
    embedding_model = models.CharField(max_length=200)
    embedding = VectorField(dimensions=settings.EMBEDDING_DIM)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key_digest", "embedding_model"],
                name="study_embedding_cache_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.embedding_model}:{self.key_digest[:12]}"


class SubjectNoteStatus(models.TextChoices):
    NONE = "none", _("없음")
    PENDING = "pending", _("생성 중")
    READY = "ready", _("준비됨")
    FAILED = "failed", _("실패")
    SKIPPED = "skipped", _("자료 부족")


class SubjectNote(models.Model):
    """모르겠음 help: an explanation of a subject/scope, cached per topic."""

    topic = models.ForeignKey(
        Topic,
        on_delete=models.CASCADE,
        related_name="subject_notes",
        verbose_name=_("토픽"),
    )
    subject = models.CharField(max_length=200, verbose_name=_("과목"))
    scope = models.CharField(max_length=200, blank=True, verbose_name=_("범위"))
    text = models.TextField(blank=True, verbose_name=_("내용"))
    status = models.CharField(
        max_length=20,
        choices=SubjectNoteStatus.choices,
        default=SubjectNoteStatus.NONE,
        verbose_name=_("상태"),
    )
    evidence = models.JSONField(default=list, blank=True, verbose_name=_("근거"))
    model = models.CharField(max_length=200, blank=True, verbose_name=_("모델"))
    # Why the last generation failed or was skipped: a code of the job
    # vocabulary and what its message needs (the guard's reason, the missing
    # material); translated when shown (study.ai.states.subject_note_reason).
    error_code = models.CharField(
        max_length=40,
        blank=True,
        choices=JobError.choices,
        verbose_name=_("오류 코드"),
    )
    error_params = models.JSONField(
        default=dict, blank=True, verbose_name=_("오류 정보")
    )
    started_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("시작 시각")
    )
    generated_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("생성 시각")
    )

    class Meta:
        verbose_name = _("분야 설명")
        verbose_name_plural = pgettext_lazy("plural", "분야 설명")
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "subject", "scope"], name="study_subject_note_uniq"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SubjectNoteStatus.values),
                name="study_subject_note_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(error_code__in=ERROR_CODES),
                name="study_subject_note_error_code_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id} · {self.subject} {self.scope}".strip()
