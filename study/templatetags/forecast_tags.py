from django import template
from django.utils.translation import gettext

register = template.Library()


@register.filter
def pct(value) -> str:
    """0.734 → 73%; <1% and >99% say so rather than round to 0 or 100."""
    if value is None:
        return ""
    if 0 < value < 0.01:
        return gettext("1% 미만")
    if 0.99 < value < 1:
        return gettext("99% 이상")
    return f"{round(value * 100)}%"


@register.filter
def pass_class(value) -> str:
    if value is None:
        return ""
    if value >= 0.7:
        return "good"
    return "risky" if value >= 0.3 else "poor"


@register.filter
def score(value) -> str:
    return f"{value:.0f}"
