"""Password reset and change with limits an attacker cannot turn into a
lockout of the account's owner."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext, ngettext

from study.selectors.demo import demo_accounts_shown
from study.services.rate_limits import (
    PASSWORD_CHANGE,
    PASSWORD_RESET,
    Rate,
    RateLimited,
    rate_limit_check,
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
    """Django's reset view with two limits, neither of which stops the owner:

    - per client address (PASSWORD_RESET_LIMIT): one attacker cannot send many;
    - per e-mail address (PASSWORD_RESET_EMAIL_LIMIT, generous): the mailbox
      cannot be flooded from many addresses. Past it nothing more is sent,
      and the page says to use a link already received: every mail sent
      carries a working link, so the owner can still reset.

    There is no per-address limit at the normal rate: five requests by an
    attacker for the victim's address would block the victim's own."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"].strip().casefold()
        try:
            rate_limit_consume(
                bucket=f"reset:ip:{client_ip(self.request)}",
                rate=Rate.parse(settings.PASSWORD_RESET_LIMIT),
                what=str(PASSWORD_RESET),
            )
        except RateLimited as exc:
            return self._refused(form, str(exc), exc.retry_after_s)
        mailbox = Rate.parse(settings.PASSWORD_RESET_EMAIL_LIMIT)
        try:
            rate_limit_consume(
                bucket=f"reset:email:{email}", rate=mailbox, what=str(PASSWORD_RESET)
            )
        except RateLimited as exc:
            return self._refused(form, _links_already_sent(mailbox), exc.retry_after_s)
        return super().form_valid(form)

    def _refused(
        self, form: PasswordResetForm, message: str, retry_after_s: int
    ) -> HttpResponse:
        form.add_error(None, message)
        response = self.form_invalid(form)
        response.status_code = 429
        response["Retry-After"] = str(retry_after_s)
        return response


def _links_already_sent(rate: Rate) -> str:
    days = max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
    return (
        gettext(
            "이 주소로 재설정 메일을 이미 여러 번(%(rate)s) 보냈습니다. 받은 메일 중 "
            "가장 최근 것의 링크를 쓰세요."
        )
        % {"rate": rate.label}
        + " "
        + ngettext(
            "링크는 %(days)d일 동안 쓸 수 있습니다.",
            "링크는 %(days)d일 동안 쓸 수 있습니다.",
            days,
        )
        % {"days": days}
    )


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Past PASSWORD_CHANGE_LIMIT wrong current passwords in the window, the
    current password is not checked at all (the right one is refused too):
    a stolen session cannot guess its way to a new password. Per account."""

    refused: RateLimited | None = None

    def clean_old_password(self) -> str:
        try:
            rate_limit_check(bucket=self._bucket(), rate=self._rate(), what=_WHAT)
        except RateLimited as exc:
            raise self._refuse(exc) from exc
        try:
            return super().clean_old_password()
        except ValidationError:
            try:
                rate_limit_consume(bucket=self._bucket(), rate=self._rate(), what=_WHAT)
            except RateLimited as exc:
                raise self._refuse(exc) from exc
            raise

    def _refuse(self, exc: RateLimited) -> ValidationError:
        self.refused = exc
        return ValidationError(str(exc), code="throttled")

    def _bucket(self) -> str:
        return f"password-change:user-{self.user.pk}"

    def _rate(self) -> Rate:
        return Rate.parse(settings.PASSWORD_CHANGE_LIMIT)


_WHAT = str(PASSWORD_CHANGE)


class ThrottledPasswordChangeView(auth_views.PasswordChangeView):
    """Django's change view with ThrottledPasswordChangeForm: refused tries
    answer 429 with Retry-After."""

    form_class = ThrottledPasswordChangeForm

    def form_invalid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_invalid(form)
        refused = getattr(form, "refused", None)
        if refused is not None:
            response.status_code = 429
            response["Retry-After"] = str(refused.retry_after_s)
        return response
