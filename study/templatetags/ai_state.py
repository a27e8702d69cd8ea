"""Filters for AI state cards: durations in plain Korean."""

from django import template

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
    if hours:
        return f"{hours}시간" + (f" {minutes}분" if minutes else "")
    if minutes:
        return f"{minutes}분" + (f" {secs}초" if secs else "")
    return f"{secs}초"
