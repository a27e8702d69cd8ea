"""Per-user limits on study documents: how many are processed at once, how many
are stored and how many bytes they take."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import QuerySet

from study.db.locks import user_quota_lock
from study.documents.extraction import DocumentRejected
from study.models import Document, DocumentError, DocumentStatus

MAX_BYTES = 20 * 1024 * 1024


def document_size_check(*, size: int) -> None:
    if size > MAX_BYTES:
        raise DocumentRejected(DocumentError.FILE_TOO_LARGE)


def document_quota_check(
    *, owner: Any, incoming_bytes: int, replacing: Document | None = None
) -> None:
    """Per-user limits: documents being processed at once, count and bytes stored.

    Processing happens in shared workers, so one user may queue only a few at a
    time; the rest wait until theirs are done. The check takes the owner's
    lock until the caller's transaction ends, so two uploads at once are
    counted one after the other (a new file replacing `replacing`'s counts
    only its bytes beyond the old one's)."""
    user_quota_lock(user_id=owner.pk, quota="documents")
    mine = Document.objects.filter(owner=owner)
    if replacing is None:
        _check_count(mine)
    else:
        mine = mine.exclude(pk=replacing.pk)
    names = list(mine.exclude(file="").values_list("file", flat=True))
    if _stored_bytes(names) + incoming_bytes > settings.DOCUMENT_QUOTA_BYTES:
        quota = settings.DOCUMENT_QUOTA_BYTES // (1024 * 1024)
        raise DocumentRejected(DocumentError.QUOTA_BYTES, quota=quota)


def _check_count(mine: QuerySet[Document]) -> None:
    busy = mine.filter(status__in=[DocumentStatus.PENDING, DocumentStatus.PROCESSING])
    if busy.count() >= settings.DOCUMENT_MAX_PROCESSING:
        raise DocumentRejected(
            DocumentError.QUOTA_PROCESSING,
            document_max_processing=settings.DOCUMENT_MAX_PROCESSING,
        )
    if mine.exclude(file="").count() >= settings.DOCUMENT_QUOTA_COUNT:
        raise DocumentRejected(
            DocumentError.QUOTA_COUNT,
            document_quota_count=settings.DOCUMENT_QUOTA_COUNT,
        )


def _stored_bytes(names: list[str]) -> int:
    total = 0
    for name in names:
        try:
            total += default_storage.size(name)
        except OSError:  # a file gone from disk takes no space
            continue
    return total
