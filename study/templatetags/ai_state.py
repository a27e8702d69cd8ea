"""Filters for AI state cards: durations in plain Korean."""

from django import template
from django.utils.translation import ngettext

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
    h = ngettext("%(n)d시간", "%(n)d시간", hours) % {"n": hours}
    m = ngettext("%(n)d분", "%(n)d분", minutes) % {"n": minutes}
    s = ngettext("%(n)d초", "%(n)d초", secs) % {"n": secs}
    if hours:
        return h + (f" {m}" if minutes else "")
    if minutes:
        return m + (f" {s}" if secs else "")
    return s
