"""A question's subject as people read it: the one home of the stand-in for
questions whose source named no subject."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

# Marked for translation (makemessages finds it) but kept a plain string.
NO_SUBJECT = gettext_noop("과목 없음")


def subject_label(subject: str) -> str:
    """As shown on a page, in the active language."""
    return subject or gettext(NO_SUBJECT)


def subject_key(subject: str) -> str:
    """As a tally key that is stored or sent on (mock exam scores kept with the
    session, the session analysis prompt, calibration reports): the same in
    every language."""
    return subject or NO_SUBJECT
