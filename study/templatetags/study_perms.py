from django import template

register = template.Library()


@register.filter
def can_regenerate_ai(topic, user) -> bool:
    """{% if question.topic|can_regenerate_ai:user %}: may replace shared AI text."""
    return topic.can_regenerate_ai(user)
