"""Development demo data: accounts and a small original topic."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from study.documents.chunking import split_front_matter
from study.documents.services import document_create, document_ingest
from study.imports.services import ImportReport, questions_import
from study.models import Document, MaterialType, Topic
from study.selectors.demo import DEMO_ACCOUNTS

DEMO_TOPIC_NAME = "산업안전기사 (데모)"
DEMO_FILE = Path(__file__).resolve().parent.parent / "demo_data" / "demo_topic.jsonl"
# The articles the demo questions rest on, extracted from the public statute
# text (저작권법 제7조): a newcomer's first results already show 근거 카드.
DEMO_STATUTES = DEMO_FILE.parent / "statutes"


@dataclass
class DemoResult:
    created_accounts: list[tuple[str, str]]
    topic: Topic | None
    report: ImportReport | None


@transaction.atomic
def demo_accounts_create() -> list[tuple[str, str]]:
    """Create demo/demo and admin/admin: DEBUG only, on a database with no users."""
    User = get_user_model()
    if not settings.DEBUG or User.objects.exists():
        return []
    created = []
    for username, password, is_admin in DEMO_ACCOUNTS:
        if is_admin:
            User.objects.create_superuser(username=username, password=password)
        else:
            User.objects.create_user(username=username, password=password)
        created.append((username, password))
    return created


@transaction.atomic
def demo_topic_load() -> tuple[Topic | None, ImportReport | None]:
    """Load (or refresh) the shared demo topic, owned by the first superuser."""
    owner = get_user_model().objects.filter(is_superuser=True).order_by("id").first()
    if owner is None:
        return None, None
    topic, _ = Topic.objects.get_or_create(
        name=DEMO_TOPIC_NAME,
        owner=owner,
        defaults={
            "is_shared": True,
            "description": (
                "직접 작성한 데모 문제 50개 (3개 회차, 3개 과목)와 "
                "그 문제들이 근거로 삼는 법령 조문 발췌."
            ),
        },
    )
    report = questions_import(topic=topic, paths=[DEMO_FILE])
    return topic, report


def demo_documents_load(*, topic: Topic) -> list[Document]:
    """The statute extracts as the topic's study documents, each processed
    here (a few seconds); one already there (by its title) is kept."""
    loaded = []
    for path in sorted(DEMO_STATUTES.glob("*.md")):
        meta, _ = split_front_matter(path.read_text("utf-8"))
        existing = topic.documents.filter(title=meta.title).first()
        if existing is not None:
            loaded.append(existing)
            continue
        document = document_create(
            owner=topic.owner,
            topics=[topic],
            title="",
            upload=SimpleUploadedFile(path.name, path.read_bytes()),
            material_type=MaterialType.LAW,
            enqueue=False,
        )
        loaded.append(document_ingest(document_id=document.pk))
    return loaded


def demo_setup() -> DemoResult:
    accounts = demo_accounts_create()
    topic, report = demo_topic_load()
    if topic is not None:
        demo_documents_load(topic=topic)
    return DemoResult(created_accounts=accounts, topic=topic, report=report)
