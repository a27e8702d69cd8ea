"""Password validators: words everyone on this site knows, and a user's own
name repeated."""

from __future__ import annotations

import re

from django.contrib.auth import password_validation
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils.translation import gettext

SITE_WORDS = ("gichul", "기출", "산업안전", "sanupanjeon", "password", "qwerty")
_NOT_LETTERS = re.compile(r"[\W\d_]+")


class SiteWordValidator:
    """Rejects a site word with digits or symbols around it (gichul2024, 기출!!12)."""

    def validate(self, password: str, user=None) -> None:
        letters = _NOT_LETTERS.sub("", password).casefold()
        if letters and any(letters == w or letters == w * 2 for w in SITE_WORDS):
            raise ValidationError(
                gettext(
                    "사이트 이름이나 흔한 단어에 숫자만 붙인 비밀번호는 쓸 수 없습니다."
                ),
                code="password_site_word",
            )

    def get_help_text(self) -> str:
        return gettext(
            "사이트 이름(기출, gichul)에 숫자만 붙인 비밀번호는 쓸 수 없습니다."
        )


class UserAttributeSimilarityValidator(
    password_validation.UserAttributeSimilarityValidator
):
    """Django's check, plus what its similarity ratio lets through: a password
    that is the username (or e-mail name, first or last name) repeated or
    with only digits and symbols around it ("learnerlearner" for learner:
    the ratio is 0.67, under Django's 0.7)."""

    def validate(self, password: str, user=None) -> None:
        super().validate(password, user)
        if user is None:
            return
        letters = _NOT_LETTERS.sub("", password).casefold()
        for attribute in self.user_attributes:
            value = str(getattr(user, attribute, "") or "")
            if attribute == "email":
                value = value.partition("@")[0]
            word = _NOT_LETTERS.sub("", value).casefold()
            if len(word) >= 3 and letters and not letters.replace(word, ""):
                raise ValidationError(
                    gettext("비밀번호가 사용자 정보(%(attribute)s)의 반복입니다.")
                    % {"attribute": _attribute_name(user, attribute)},
                    code="password_too_similar",
                )


def _attribute_name(user, attribute: str) -> str:
    try:
        return str(user._meta.get_field(attribute).verbose_name)
    except FieldDoesNotExist:
        return attribute
