"""Per-user limits on study documents: how many are processed at once, how many
are stored and how many bytes they take."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage

from study.documents.extraction import DocumentRejected
from study.models import Document, DocumentError, DocumentStatus


def document_quota_check(*, owner, incoming_bytes: int) -> None:
    """Per-user limits: documents being processed at once, count and bytes stored.

    Processing happens in shared workers, so one user may queue only a few at a
    time; the rest wait until theirs are done."""
    mine = Document.objects.filter(owner=owner)
    busy = mine.filter(status__in=[DocumentStatus.PENDING, DocumentStatus.PROCESSING])
    if busy.count() >= settings.DOCUMENT_MAX_PROCESSING:
        raise DocumentRejected(
            DocumentError.QUOTA_PROCESSING,
            document_max_processing=settings.DOCUMENT_MAX_PROCESSING,
        )
    names = list(mine.exclude(file="").values_list("file", flat=True))
    if len(names) >= settings.DOCUMENT_QUOTA_COUNT:
        raise DocumentRejected(
            DocumentError.QUOTA_COUNT,
            document_quota_count=settings.DOCUMENT_QUOTA_COUNT,
        )
    if _stored_bytes(names) + incoming_bytes > settings.DOCUMENT_QUOTA_BYTES:
        quota = settings.DOCUMENT_QUOTA_BYTES // (1024 * 1024)
        raise DocumentRejected(DocumentError.QUOTA_BYTES, quota=quota)


def _stored_bytes(names: list[str]) -> int:
    total = 0
    for name in names:
        try:
            total += default_storage.size(name)
        except OSError:  # a file gone from disk takes no space
            continue
    return total
