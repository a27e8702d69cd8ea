"""A password validator for words everyone on this site knows."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
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
