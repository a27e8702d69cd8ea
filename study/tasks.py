"""django-q2 entry points: load by id, call one service."""

from study.services.documents import document_ingest


def document_ingest_task(document_id: int) -> str:
    return document_ingest(document_id=document_id).status
