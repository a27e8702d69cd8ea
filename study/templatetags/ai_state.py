"""Filters for AI state cards: durations in plain Korean."""

from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def duration_ko(seconds) -> str:
    """95 → '1분 35초'; 40 → '40초'; 7200 → '2시간'."""
    try:
        total = max(0, int(seconds))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    h = gettext("%(n)d시간") % {"n": hours}
    m = gettext("%(n)d분") % {"n": minutes}
    s = gettext("%(n)d초") % {"n": secs}
    if hours:
        return h + (f" {m}" if minutes else "")
    if minutes:
        return m + (f" {s}" if secs else "")
    return s
