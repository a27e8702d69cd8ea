"""Exam rounds (회차): the one home of session labels, round keys and round labels.

A round is (year, session). The session is stored in a canonical form so that
one round spelled two ways in source files is one round:

    ========================  ===========  ======================
    spelled in a file         canonical    shown as
    ========================  ===========  ======================
    ``3``, ``3회``, ``제3회``  ``3``        3회
    ``1,2``, ``1·2회``         ``1,2``      1·2회 (a merged round)
    ``A``, ``a``, ``A형``      ``A``        A형 (문제지 형별)
    ``가``, ``가책형``         ``가``       가책형
    ``1_추가시험``, ``1_extra``  ``1추가``  1회 추가시험
    ``추가시험``               ``1추가``    1회 추가시험
    ``1회 A형``, ``1_A``       ``1_A``      1회 A형
    ========================  ===========  ======================

The part before ``_`` is the *sitting* (when and how often the exam was
held); the part after it is the booklet form (형별). Different forms of one
sitting hold the same questions in another order, so relations across rounds
treat them as one sitting.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from django.utils import translation
from django.utils.translation import gettext, pgettext

from study.numbers import is_ascii_digits

SESSION_MAX_LENGTH = 20  # Question.exam_session
_EXTRA = "추가"
_FORM_SEPARATOR = "_"
# Booklet forms: one Latin capital, or a Hangul letter of the 가나다 order.
HANGUL_FORMS = "가나다라마바사아"
_FORM_CLASS = f"A-Z{HANGUL_FORMS}"
_EXTRA_WORD = re.compile(r"추가\s*시험|추가|extra|additional", re.IGNORECASE)
_FORM_AT_END = re.compile(
    rf"(?<![A-Za-z가-힣])(?:책형|형별)?\s*\(?(?P<form>[A-Za-z]|[{HANGUL_FORMS}])\)?"
    r"\s*(?P<suffix>책형|형)?\s*$"
)
# \d is ASCII-only here (re.ASCII): int() would take "٣" as 3.
_ROUND_WORD = re.compile(r"(\d)\s*회차?", re.ASCII)
_ORDINAL_PREFIX = re.compile(r"제\s*(\d)", re.ASCII)
_NUMBERS = re.compile(r"^\d{1,2}(?:\s*[,·ㆍ&+/]\s*\d{1,2})*$", re.ASCII)
_NUMBER_SPLIT = re.compile(r"\s*[,·ㆍ&+/]\s*")
_CANONICAL = re.compile(
    rf"^(?:(?P<nums>\d{{1,2}}(?:,\d{{1,2}})*)(?P<extra>{_EXTRA})?"
    rf"(?:_(?P<form>[{_FORM_CLASS}]))?|(?P<only_form>[{_FORM_CLASS}]))$",
    re.ASCII,
)


class SessionLabelError(ValueError):
    """A session label that names no round; the message says why."""


@dataclass(frozen=True, order=True)
class Session:
    """A parsed session label; orders sittings chronologically, forms A, B, 가, 나."""

    numbers: tuple[int, ...] = ()
    extra: bool = False
    form: str = ""

    @property
    def sitting(self) -> str:
        """The canonical sitting: ``3``, ``1,2``, ``1추가`` or ``""`` (form only)."""
        if not self.numbers:
            return ""
        return ",".join(map(str, self.numbers)) + (_EXTRA if self.extra else "")

    @property
    def canonical(self) -> str:
        return _FORM_SEPARATOR.join(p for p in (self.sitting, self.form) if p)

    @property
    def label(self) -> str:
        """The label in the active language (Korean by default): ``1회 A형``."""
        parts = []
        if self.numbers:
            numbers = "·".join(map(str, self.numbers))
            parts.append(gettext("%(numbers)s회") % {"numbers": numbers})
        if self.extra:
            parts.append(gettext("추가시험"))
        if self.form:
            form = (
                gettext("%(form)s형")
                if self.form.isascii()
                else gettext("%(form)s책형")
            )
            parts.append(form % {"form": self.form})
        return " ".join(parts)


@lru_cache(maxsize=4096)  # a file repeats a handful of labels thousands of times
def session_parse(value: str) -> Session:
    """Read a session label as files spell it; SessionLabelError when it is none.

    Digits must be ASCII: NFKC would turn '²' or '３' into a round number."""
    if any(ch.isdigit() and not ch.isascii() for ch in str(value)):
        raise SessionLabelError(f"session is not a round label: {value!r}")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        raise SessionLabelError("missing session")
    extra = bool(_EXTRA_WORD.search(text))
    rest = _EXTRA_WORD.sub(" ", text)
    form = ""
    found = _FORM_AT_END.search(rest)
    if found and _is_form(found, rest):
        form = found["form"].upper()
        rest = rest[: found.start()]
    rest = _ORDINAL_PREFIX.sub(r"\1", _ROUND_WORD.sub(r"\1", rest))
    rest = rest.strip(" _-:./()")
    numbers: tuple[int, ...] = ()
    if rest:
        if not _NUMBERS.match(rest):
            raise SessionLabelError(f"session is not a round label: {value!r}")
        numbers = tuple(sorted({int(n) for n in _NUMBER_SPLIT.split(rest)}))
        if not all(1 <= n <= 99 for n in numbers):
            raise SessionLabelError(f"session is not a round label: {value!r}")
    if extra and not numbers:
        numbers = (1,)  # a year's additional sitting, 1회 추가시험
    if not numbers and not form:
        raise SessionLabelError(f"session is not a round label: {value!r}")
    session = Session(numbers, extra, form)
    if len(session.canonical) > SESSION_MAX_LENGTH:
        raise SessionLabelError(f"session is too long: {value!r}")
    return session


def _is_form(found: re.Match, text: str) -> bool:
    """`1A` is 1회 A형, but `2차` is no 차책형: a Hangul form right after a
    number needs its 책형 / 형."""
    letter, before = found["form"], text[: found.start("form")]
    return letter.isascii() or bool(found["suffix"]) or not before[-1:].isdigit()


def session_normalise(value: str) -> str:
    """The canonical spelling of a session label (raises SessionLabelError)."""
    return session_parse(value).canonical


# A bank holds a few dozen distinct session labels, and sorting a topic's
# rounds and subjects (every quiz start reads the paper) parses each hundreds
# of times: parsed once per process (Session is frozen).
@lru_cache(maxsize=4096)
def session_from_canonical(session: str) -> Session | None:
    """The stored session back as a Session; None when it is not canonical."""
    found = _CANONICAL.match(session or "")
    if not found:
        return None
    if found["only_form"]:
        return Session(form=found["only_form"])
    numbers = tuple(int(n) for n in found["nums"].split(","))
    return Session(numbers, bool(found["extra"]), found["form"] or "")


def session_label(session: str) -> str:
    parsed = session_from_canonical(session)
    return parsed.label if parsed else session


def session_sitting(session: str) -> str:
    """The sitting of a stored session: forms of one sitting share it."""
    parsed = session_from_canonical(session)
    return parsed.sitting if parsed else session


def session_sort_key(session: str) -> tuple:
    """Sittings in the order they were held, then forms: 1회, 1회 추가시험, 2회 A형."""
    parsed = session_from_canonical(session)
    if parsed is None:  # not canonical (entered before labels were checked)
        return ((), False, "", session)
    return (parsed.numbers, parsed.extra, parsed.form, "")


def session_sitting_sort_key(session: str) -> tuple:
    return session_sort_key(session)[:2]


def same_sitting_pattern(session: str) -> str:
    """A PostgreSQL regex matching every stored session of the same sitting."""
    sitting = session_sitting(session)
    if not sitting:
        return f"^[{_FORM_CLASS}]$"
    return f"^{re.escape(sitting)}({_FORM_SEPARATOR}[{_FORM_CLASS}])?$"


def has_round(year: int | None, session: str) -> bool:
    return year is not None and bool(session)


def round_label(year: int | None, session: str, *, language: str | None = None) -> str:
    """`2020년 3회`, `2020년 1·2회`, `2019년 B형`, `2005년 1회 추가시험`.

    In the active language; pass ``language`` where the label leaves the page
    (exports, the viewer, prompts), so it does not depend on who caused it."""
    if language is not None:
        with translation.override(language):
            return round_label(year, session)
    if not has_round(year, session):
        return pgettext("round label", "회차 없음")
    return gettext("%(year)s년 %(session)s") % {
        "year": year,
        "session": session_label(session),
    }


def round_key(year: int | None, session: str) -> str:
    """`2020-3`, `2020-1,2`, `2019-B`, `2005-1추가` (URL-safe); "" without a round."""
    return f"{year}-{session}" if has_round(year, session) else ""


def round_key_parse(key: str) -> tuple[int, str]:
    """(year, canonical session) of a round key; SessionLabelError when malformed."""
    year, _, session = (key or "").partition("-")
    if not is_ascii_digits(year) or session_from_canonical(session) is None:
        raise SessionLabelError(f"not a round key: {key!r}")
    return int(year), session


def question_key(
    year: int | None,
    session: str,
    number: int | None,
    pk: int,
    *,
    subject: str | None = None,
) -> str:
    """`YEAR-SESSION-NUMBER`, the identity of a question in exports; with the
    subject (`YEAR-SESSION-SUBJECT-NUMBER`) on papers that number each subject
    from 1."""
    if not has_round(year, session):
        return f"q{pk}"
    if subject is not None:
        return f"{round_key(year, session)}-{subject}-{number}"
    return f"{round_key(year, session)}-{number}"
