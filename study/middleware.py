"""The signed-in learner's language preference, applied on every request.

The preference lives on LearnerSettings; it is copied into the session when the
learner signs in or changes it, so applying it costs no query per request (a
session from before this existed is filled once, on its first request).
Anonymous visitors keep Django's own order: language cookie, then the
browser's Accept-Language, then LANGUAGE_CODE (Korean).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from study.services.learner_settings import learner_language_of

# "" in the session = the learner has no preference (the cookie/browser decide).
SESSION_KEY = "learner_language"


def remember_language(request, language: str) -> None:
    request.session[SESSION_KEY] = language


def language_on_login(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: load the stored preference into the new session."""
    if request is not None and hasattr(request, "session"):
        remember_language(request, learner_language_of(user_id=user.pk))


class LearnerLanguageMiddleware:
    """After LocaleMiddleware and AuthenticationMiddleware: a signed-in
    learner's stored language wins over the cookie and the browser.
    LocaleMiddleware's response side then sets Content-Language from it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.known = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        if request.user.is_authenticated:
            if SESSION_KEY not in request.session:
                remember_language(request, learner_language_of(user_id=request.user.pk))
            language = request.session[SESSION_KEY]
            if language in self.known:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
