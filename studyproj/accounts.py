"""Password reset with a limit on the mails one address or one client can cause."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views

from study.selectors.demo import demo_accounts_shown
from study.services.rate_limits import (
    PASSWORD_RESET,
    Rate,
    RateLimited,
    rate_limit_consume,
)
from studyproj.middleware import client_ip


class LoginView(auth_views.LoginView):
    """Django's sign-in page; in DEBUG it names the demo accounts `make run`
    created, so a first visit does not start with a guess."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["demo_accounts"] = demo_accounts_shown()
        return context


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset view; past PASSWORD_RESET_LIMIT per e-mail or per client
    address in the window it refuses (429) with a message and sends nothing."""

    def form_valid(self, form):
        rate = Rate.parse(settings.PASSWORD_RESET_LIMIT)
        email = form.cleaned_data["email"].strip().casefold()
        try:
            for bucket in (
                f"reset:email:{email}",
                f"reset:ip:{client_ip(self.request)}",
            ):
                rate_limit_consume(bucket=bucket, rate=rate, what=str(PASSWORD_RESET))
        except RateLimited as exc:
            form.add_error(None, str(exc))
            response = self.form_invalid(form)
            response.status_code = 429
            response["Retry-After"] = str(exc.retry_after_s)
            return response
        return super().form_valid(form)
