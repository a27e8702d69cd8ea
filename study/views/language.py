"""Language switch: Django's set_language, plus the signed-in learner's preference."""

from __future__ import annotations

from django.conf import settings
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from study.middleware import remember_language
from study.services.learner_settings import learner_language_set


@require_POST
def set_language(request):
    """Django's view sets the cookie and redirects to `next`; for a signed-in
    learner the choice is also stored on their settings and in the session so
    it follows them to other browsers at their next sign-in."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    known = {code for code, _name in settings.LANGUAGES}
    if language in known and request.user.is_authenticated:
        learner_language_set(user_id=request.user.pk, language=language)
        remember_language(request, language)
    return response
