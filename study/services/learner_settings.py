"""A learner's settings: the interface language and the desired retention."""

from __future__ import annotations

from django.conf import settings

from study.models import LearnerSettings


def learner_language_set(*, user_id: int, language: str) -> None:
    """Store the learner's interface language ("" = follow the browser/cookie)."""
    if language not in {"", *(code for code, _name in settings.LANGUAGES)}:
        raise ValueError(f"unknown language {language!r}")
    LearnerSettings.objects.update_or_create(
        user_id=user_id, defaults={"language": language}
    )


def learner_retention_set(*, user_id: int, desired_retention: float) -> None:
    """Store the retention the learner's reviews aim at (the form bounds it)."""
    LearnerSettings.objects.update_or_create(
        user_id=user_id, defaults={"desired_retention": desired_retention}
    )


def learner_language_of(*, user_id: int) -> str:
    """The stored preference, or "" when the learner has none."""
    return (
        LearnerSettings.objects.filter(user_id=user_id)
        .values_list("language", flat=True)
        .first()
        or ""
    )
