"""M4: logins and password-reset mails are throttled. L2: weak passwords refused."""

import warnings
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.deprecation import RemovedInDjango2028Warning

from studyproj.mail import mailer_from_url

PASSWORD = "pw-learner-1"


def login(client, password, username="learner", ip="10.0.0.1", url=None):
    return client.post(
        url or reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def test_five_wrong_passwords_lock_the_login_with_a_korean_message(client, user):
    codes = [login(client, "wrong-password").status_code for _ in range(5)]

    locked = login(client, PASSWORD)

    assert codes == [200, 200, 200, 200, 429]  # the fifth failure locks
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "로그인이 잠시 잠겼습니다" in page and "15분" in page
    assert client.get(reverse("study:home")).status_code == 302  # not signed in


def test_thirty_wrong_passwords_never_let_the_right_one_in(client, user):
    for _ in range(30):
        login(client, "wrong-password")
    assert login(client, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_address_and_ends_after_the_cooloff(client, user):
    for _ in range(5):
        login(client, "wrong-password")

    assert login(client, PASSWORD, ip="10.0.0.2").status_code == 302
    client.logout()
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    assert login(client, PASSWORD).status_code == 302


def test_a_success_resets_the_count(client, user):
    for _ in range(4):
        login(client, "wrong-password")
    assert login(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        login(client, "wrong-password")
    assert login(client, PASSWORD).status_code == 302


def test_the_admin_login_is_throttled_too(client, staff_user):
    url = reverse("admin:login")
    for _ in range(5):
        login(client, "wrong", username="staff", url=url)
    assert login(client, "pw-staff-1", username="staff", url=url).status_code == 429


def test_password_reset_mails_are_limited(client, user, settings):
    settings.PASSWORD_RESET_LIMIT = "3/h"
    user.email = "learner@example.com"
    user.save()
    url = reverse("password_reset")

    codes = [
        client.post(url, {"email": "Learner@example.com"}).status_code for _ in range(5)
    ]

    assert codes == [302, 302, 302, 429, 429]
    assert len(mail.outbox) == 3
    refused = client.post(url, {"email": "learner@example.com"})
    assert "비밀번호 재설정 요청이 너무 많습니다" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0


def test_password_reset_is_limited_per_client_address_across_emails(
    client, settings, db
):
    settings.PASSWORD_RESET_LIMIT = "2/h"
    url = reverse("password_reset")
    codes = [
        client.post(url, {"email": f"u{n}@example.com"}, REMOTE_ADDR="10.9.9.9")
        for n in range(3)
    ]
    assert [r.status_code for r in codes] == [302, 302, 429]


@pytest.mark.parametrize(
    "password",
    ["learner123", "84736251", "gichul2024", "Gichul!!2025", "shortpw1", "password12"],
)
def test_weak_passwords_are_refused(user, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=user)


def test_a_reasonable_password_is_accepted(user):
    validate_password("산업안전 합격 2026 가자", user=user)
    validate_password("orange-tractor-lamp", user=user)


def test_demo_accounts_still_sign_in_in_debug(client, settings, db):
    from study.services.demo import demo_accounts_create

    settings.DEBUG = True
    assert demo_accounts_create() == [("demo", "demo"), ("admin", "admin")]
    assert get_user_model().objects.get(username="admin").is_superuser

    assert login(client, "demo", username="demo").status_code == 302


# --- issue 24, N6 ---------------------------------------------------------------


def change_password(client, old, new="a-brand-new-passphrase"):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def test_password_change_does_not_let_a_session_guess_the_old_password(client, user):
    client.force_login(user)
    codes = [change_password(client, f"guess-{n}").status_code for n in range(12)]
    right = change_password(client, PASSWORD)

    assert codes[:5] == [200] * 5 and set(codes[5:]) == {429}
    assert right.status_code == 429
    assert "비밀번호 변경 요청이 너무 많습니다" in right.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # unchanged


def test_a_right_old_password_changes_it_within_the_limit(client, user):
    client.force_login(user)
    change_password(client, "guess")
    assert change_password(client, PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")


def test_an_attackers_reset_requests_do_not_block_the_victims_own(client, user):
    user.email = "learner@example.com"
    user.save()
    url = reverse("password_reset")
    attacker = [
        client.post(url, {"email": user.email}, REMOTE_ADDR="10.6.6.6").status_code
        for _ in range(6)
    ]
    sent = len(mail.outbox)

    victim = client.post(url, {"email": user.email}, REMOTE_ADDR="10.1.1.1")

    assert attacker == [302] * 5 + [429]
    assert victim.status_code == 302 and len(mail.outbox) == sent + 1


def test_past_the_mailbox_cap_the_page_points_to_the_links_already_sent(
    client, user, settings
):
    settings.PASSWORD_RESET_EMAIL_LIMIT = "3/d"
    user.email = "learner@example.com"
    user.save()
    url = reverse("password_reset")
    codes = [
        client.post(url, {"email": user.email}, REMOTE_ADDR=f"10.0.0.{n}").status_code
        for n in range(1, 5)
    ]
    assert codes == [302, 302, 302, 429] and len(mail.outbox) == 3
    refused = client.post(url, {"email": user.email}, REMOTE_ADDR="10.0.0.9")
    assert "가장 최근 것의 링크를 쓰세요" in refused.content.decode()


@pytest.mark.parametrize(
    "password", ["learnerlearner", "LearnerLearner!!", "learner2024!"]
)
def test_the_username_repeated_is_refused(user, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=user)


def test_a_proxy_count_without_the_header_is_warned_once(client, settings, caplog, db):
    settings.TRUSTED_PROXY_COUNT = 1
    with caplog.at_level("WARNING", logger="studyproj.middleware"):
        client.get(reverse("login"))
        client.get(reverse("login"))
    warned = [r for r in caplog.records if "TRUSTED_PROXY_COUNT=1" in r.message]
    assert len(warned) == 1


def test_requests_through_the_proxy_are_not_warned(client, settings, caplog, db):
    settings.TRUSTED_PROXY_COUNT = 1
    with caplog.at_level("WARNING", logger="studyproj.middleware"):
        client.get(reverse("login"), HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert not [r for r in caplog.records if "TRUSTED_PROXY_COUNT" in r.message]


@pytest.mark.parametrize(
    ("url", "backend", "options"),
    [
        (
            "smtp+tls://user:secret@mail.example.com:587",
            "django.core.mail.backends.smtp.EmailBackend",
            {
                "host": "mail.example.com",
                "port": 587,
                "username": "user",
                "password": "secret",
                "use_tls": True,
            },
        ),
        (
            "smtp://localhost:25",
            "django.core.mail.backends.smtp.EmailBackend",
            {"host": "localhost", "port": 25},
        ),
        ("consolemail://", "django.core.mail.backends.console.EmailBackend", {}),
    ],
)
def test_one_mail_url_becomes_the_mailer(url, backend, options):
    assert mailer_from_url(url) == {"BACKEND": backend, "OPTIONS": options}


def test_a_reset_mail_goes_through_the_configured_mailer_without_warnings(client, user):
    user.email = "learner@example.com"
    user.save()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RemovedInDjango2028Warning)
        response = client.post(reverse("password_reset"), {"email": user.email})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["learner@example.com"]]
