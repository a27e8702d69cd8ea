"""The development demo accounts, named where a new user signs in."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model

# (username, password, is_admin): what `make run` creates on an empty database
# in DEBUG (study.services.demo).
DEMO_ACCOUNTS = (("demo", "demo", False), ("admin", "admin", True))


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    is_admin: bool


def demo_accounts_shown() -> list[DemoAccount]:
    """In DEBUG only, the demo accounts that exist (one query); else none."""
    if not settings.DEBUG:
        return []
    names = {name for name, _password, _admin in DEMO_ACCOUNTS}
    existing = set(
        get_user_model()
        .objects.filter(username__in=names, is_active=True)
        .values_list("username", flat=True)
    )
    return [
        DemoAccount(name, password, is_admin)
        for name, password, is_admin in DEMO_ACCOUNTS
        if name in existing
    ]
