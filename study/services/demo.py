"""Development demo data: accounts and a small original topic."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from study.imports.services import ImportReport, questions_import
from study.models import Topic
from study.selectors.demo import DEMO_ACCOUNTS

DEMO_TOPIC_NAME = "산업안전기사 (데모)"
DEMO_FILE = Path(__file__).resolve().parent.parent / "demo_data" / "demo_topic.jsonl"


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
            "description": "직접 작성한 데모 문제 40개 (2개 회차, 3개 과목).",
        },
    )
    report = questions_import(topic=topic, paths=[DEMO_FILE])
    return topic, report


def demo_setup() -> DemoResult:
    accounts = demo_accounts_create()
    topic, report = demo_topic_load()
    return DemoResult(created_accounts=accounts, topic=topic, report=report)
