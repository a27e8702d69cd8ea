"""A question's subject as people read it: the one home of the label shown for
questions whose source named no subject (grouped under it everywhere)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

# Marked for translation, kept a plain string: it is a grouping key as well as a
# label (scores, result groups, the session analysis prompt), so it must be
# the same object wherever a tally is made; translate it where it is shown.
NO_SUBJECT = gettext_noop("과목 없음")


def subject_label(subject: str) -> str:
    return subject or NO_SUBJECT
