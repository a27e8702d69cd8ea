"""Reads of a topic's documents: versions of one act shown as one entry."""

from __future__ import annotations

from dataclasses import dataclass, field

from study.models import Document, Topic


@dataclass
class DocumentGroup:
    """A document as the documents page lists it: a statute's version in
    force (or its newest) with its other versions, or any other document."""

    document: Document
    versions: list[Document] = field(default_factory=list)

    @property
    def in_progress(self) -> bool:
        return self.document.in_progress or any(v.in_progress for v in self.versions)


def topic_document_groups(*, topic: Topic) -> list[DocumentGroup]:
    """One entry per act (newest first within it), the rest one each; the
    texts are left in the database (a history is tens of megabytes)."""
    documents = list(
        topic.documents.defer("text", "front_matter").order_by(
            "-created_at", "-effective_date", "-promulgation_no", "-id"
        )
    )
    groups: list[DocumentGroup] = []
    by_act: dict[tuple[int, str], list[Document]] = {}
    for document in documents:
        if not document.act_key:
            groups.append(DocumentGroup(document))
            continue
        key = (document.owner_id, document.act_key)
        if key not in by_act:
            by_act[key] = []
            groups.append(DocumentGroup(document))  # the entry, filled below
        by_act[key].append(document)
    for group in groups:
        versions = by_act.get((group.document.owner_id, group.document.act_key))
        if not group.document.act_key or not versions:
            continue
        versions.sort(
            key=lambda d: (d.effective_date, d.promulgation_no or 0, d.pk), reverse=True
        )
        shown = next((d for d in versions if d.in_force), versions[0])
        group.document = shown
        group.versions = [d for d in versions if d.pk != shown.pk]
    return groups
