"""Statute and question text, made comparable: words without particles and
spacing, units spelled one way, and the quantities a sentence states.

Pure: strings in, plain values out. ``Flat`` keeps, for every character of
the comparable form, the word of the original text it came from, so that a
match found on the comparable form can be shown on the original words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Units as written in statutes and questions, longest first, with the
# canonical unit and the factor to it. Families compare only with themselves.
_UNIT_TABLE: tuple[tuple[str, str, float], ...] = (
    ("세제곱미터", "m3", 1.0),
    ("제곱미터", "m2", 1.0),
    ("밀리미터", "m", 0.001),
    ("센티미터", "m", 0.01),
    ("킬로미터", "km", 1000.0),
    ("미터", "m", 1.0),
    ("킬로그램", "kg", 1.0),
    ("그램", "kg", 0.001),
    ("톤", "kg", 1000.0),
    ("킬로파스칼", "pa", 1000.0),
    ("메가파스칼", "pa", 1_000_000.0),
    ("파스칼", "pa", 1.0),
    ("킬로와트", "w", 1000.0),
    ("와트", "w", 1.0),
    ("킬로볼트", "v", 1000.0),
    ("볼트", "v", 1.0),
    ("밀리암페어", "a", 0.001),
    ("암페어", "a", 1.0),
    ("킬로뉴턴", "n", 1000.0),
    ("뉴턴", "n", 1.0),
    ("데시벨", "db", 1.0),
    ("럭스", "lx", 1.0),
    ("퍼센트", "%", 1.0),
    ("시간", "min", 60.0),
    ("개월", "month", 1.0),
    ("분", "min", 1.0),
    ("초", "min", 1 / 60),
    ("일", "day", 1.0),
    ("주", "day", 7.0),
    ("월", "month", 1.0),
    ("년", "month", 12.0),
    ("도", "deg", 1.0),
    ("배", "x", 1.0),
    ("회", "회", 1.0),
    ("명", "명", 1.0),
    ("개", "개", 1.0),
    ("건", "건", 1.0),
    ("층", "층", 1.0),
    ("부", "부", 1.0),
    ("단", "단", 1.0),
)
_LATIN_UNITS: dict[str, tuple[str, float]] = {
    "mm": ("m", 0.001),
    "cm": ("m", 0.01),
    "km": ("m", 1000.0),
    "m": ("m", 1.0),
    "m2": ("m2", 1.0),
    "m3": ("m3", 1.0),
    "kg": ("kg", 1.0),
    "g": ("kg", 0.001),
    "t": ("kg", 1000.0),
    "kpa": ("pa", 1000.0),
    "mpa": ("pa", 1_000_000.0),
    "pa": ("pa", 1.0),
    "kw": ("w", 1000.0),
    "w": ("w", 1.0),
    "kv": ("v", 1000.0),
    "v": ("v", 1.0),
    "ma": ("a", 0.001),
    "a": ("a", 1.0),
    "kn": ("n", 1000.0),
    "n": ("n", 1.0),
    "db": ("db", 1.0),
    "lux": ("lx", 1.0),
    "lx": ("lx", 1.0),
    "%": ("%", 1.0),
    "°": ("deg", 1.0),
    "℃": ("deg", 1.0),
    "°c": ("deg", 1.0),
    "ppm": ("ppm", 1.0),
    "hz": ("hz", 1.0),
}
_UNIT_WORDS = "|".join(re.escape(word) for word, _, _ in _UNIT_TABLE)
_LATIN = "|".join(
    re.escape(u) for u in sorted(_LATIN_UNITS, key=len, reverse=True) if u
)
# 1,500 · 1.05 · 3만 · 2천만 · 5천
_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?(?:\s*[천만억]+)?"
_QUANTITY = re.compile(
    rf"(?<![\d.,제])({_NUMBER})\s*"
    rf"(?:({_UNIT_WORDS})|({_LATIN})(?![a-z]))?"
    r"(?:\s*(?:\([^)]{0,12}\)))?"  # 750럭스(lux)
    r"(?:\s*[을를이가]?\s*(이상|이하|초과|미만|이내|넘))?",
    re.I,
)
_FRACTION = re.compile(
    r"(\d+)\s*분의\s*(\d+(?:\.\d+)?)(?:\s*(이상|이하|초과|미만|이내))?"
)
# Numbers that are references, not quantities: 제42조, 제1항, 3호, 별표 9.
_REFERENCE_AFTER = re.compile(
    r"\s*(?:조|항|호|목|장|절|편|관|조의|번|차)(?![가-힣]*(?:미터|톤))"
)
_BOUNDS = {
    "이상": ">=",
    "이하": "<=",
    "초과": ">",
    "미만": "<",
    "이내": "<=",
    "넘": ">",
}
_MULTIPLIERS = {"천": 1_000, "만": 10_000, "억": 100_000_000}

# Particles and endings cut off a word before comparing: 설비의 ~ 설비.
_PARTICLES_2 = (
    "에서",
    "으로",
    "에는",
    "에게",
    "까지",
    "부터",
    "이나",
    "이며",
    "와의",
    "과의",
)
_PARTICLES_1 = tuple("은는이가을를의에와과로도")
# A word: Hangul, Latin letters and digits, units written as symbols (㎜, ℃,
# %), the circled labels of blanks (㉠) and a decimal part.
_WORD = re.compile(
    r"[0-9A-Za-z가-힣%°℃\u3260-\u326d\u3380-\u33ff\uff10-\uff5a]+(?:\.\d+)?"
)
_GLOSS = re.compile(r"[(（\[][^()（）\[\]가-힣]{1,40}[)）\]]")
_AMENDMENT = re.compile(r"<(?:개정|신설|전문개정|본조신설|제목개정|시행일)[^>]*>")
_MARKDOWN = re.compile(r"\*\*|\\(?=[.\-*])|^#+\s*", re.M)
_HANJA = re.compile(r"[\u3400-\u9fff]")
NEGATION = re.compile(r"않|아니|없|금지|못하|말\s*것|불가|제외|안\s*된")


def clean(text: str) -> str:
    """Display text without Markdown marks, amendment notes and literal \\n."""
    text = text.replace("\\n", "\n")
    text = _MARKDOWN.sub("", text)
    return _AMENDMENT.sub("", text).strip()


@dataclass(frozen=True)
class Word:
    norm: str  # comparable form: lower case, units unified, particle cut
    start: int  # span in the original text
    end: int


@dataclass(frozen=True)
class Flat:
    """The comparable form of a text: its words run together, and for every
    character the index of the word it belongs to."""

    text: str
    owner: tuple[int, ...]
    words: tuple[Word, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original character span of flat[start:end] (whole words)."""
        first = self.words[self.owner[start]]
        last = self.words[self.owner[end - 1]]
        return first.start, last.end

    def __len__(self) -> int:
        return len(self.text)


# A unit word standing alone after a blank ("( )미터 이상"); 볼트 alone is
# more often a bolt than a volt, and stays a word.
_LONE_UNITS = frozenset(
    (
        "센티미터",
        "밀리미터",
        "킬로미터",
        "제곱미터",
        "미터",
        "킬로그램",
        "킬로파스칼",
        "메가파스칼",
        "킬로와트",
        "킬로볼트",
        "퍼센트",
        "럭스",
        "데시벨",
    )
)
_UNIT_SPELLINGS = (
    ("센티미터", "cm"),
    ("밀리미터", "mm"),
    ("킬로미터", "km"),
    ("제곱미터", "m2"),
    ("미터", "m"),
    ("킬로그램", "kg"),
    ("킬로파스칼", "kpa"),
    ("메가파스칼", "mpa"),
    ("킬로와트", "kw"),
    ("킬로볼트", "kv"),
    ("볼트", "v"),
    ("퍼센트", "%"),
    ("럭스", "lx"),
    ("데시벨", "db"),
)


def _unit_word(word: str) -> str:
    """ "15센티미터" → "15cm": a unit word after a number (or standing alone
    after a blank) spelled with its short Latin symbol, so that both
    spellings align."""
    word = word.replace("lux", "lx").replace("°", "도").replace("℃", "도")
    if not word[:1].isdigit() and strip_particle(word) not in _LONE_UNITS:
        return word
    for korean, latin in _UNIT_SPELLINGS:
        word = word.replace(korean, latin)
    return word


# Words statutes and questions use for one another: 사용하는 때에는 ~ 경우에는.
_SAME_WORD = {"때": "경우"}


def strip_particle(word: str) -> str:
    """설비의 → 설비, 때에는 → 때, 경우에는 → 경우 (a stem of one syllable
    keeps a one-syllable particle: 벽은 stays 벽은)."""
    for ending in _PARTICLES_2:
        short_stem = ending in ("에는", "에서") and len(word) == 3
        if word.endswith(ending) and (len(word) - len(ending) >= 2 or short_stem):
            return _SAME_WORD.get(word[: -len(ending)], word[: -len(ending)])
    if len(word) >= 3 and word[-1] in _PARTICLES_1 and not word[-2].isdigit():
        word = word[:-1]
    return _SAME_WORD.get(word, word)


def flatten(text: str) -> Flat:
    """The comparable form of a text (see the module docstring)."""
    masked = _GLOSS.sub(lambda m: " " * len(m.group(0)), text)
    words: list[Word] = []
    for match in _WORD.finditer(masked):
        raw = unicodedata.normalize("NFKC", match.group(0)).lower()
        if _HANJA.search(raw):
            continue
        norm = strip_particle(_unit_word(raw))
        if raw in _PARTICLES_1 or raw in _PARTICLES_2 or raw == "으로":
            continue  # a lone particle: ( )을(를), ( )으로
        words.append(Word(norm=norm, start=match.start(), end=match.end()))
    owner: list[int] = []
    for index, word in enumerate(words):
        owner.extend([index] * len(word.norm))
    return Flat(
        text="".join(w.norm for w in words), owner=tuple(owner), words=tuple(words)
    )


@dataclass(frozen=True)
class Quantity:
    value: float  # in the canonical unit
    unit: str  # canonical unit ("" when none was written)
    bound: str  # ">=", "<=", ">", "<" or "" for a point value
    start: int  # span in the text it was read from
    end: int

    def comparable(self, other: Quantity) -> bool:
        return self.unit == other.unit

    def same(self, other: Quantity) -> bool:
        return (
            self.comparable(other)
            and _close(self.value, other.value)
            and self.bound == other.bound
        )

    def within(self, bound: Quantity) -> bool:
        """A point value that satisfies a bound: 31 m within "31미터 이상"."""
        if self.bound or not bound.bound or not self.comparable(bound):
            return False
        checks = {
            ">=": self.value >= bound.value - 1e-9,
            "<=": self.value <= bound.value + 1e-9,
            ">": self.value > bound.value + 1e-9,
            "<": self.value < bound.value - 1e-9,
        }
        return checks[bound.bound]


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 + 1e-6 * max(abs(a), abs(b))


def parse_number(token: str) -> float:
    token = re.sub(r"\s+", "", token)
    multiplier = 1
    while token and token[-1] in _MULTIPLIERS:
        multiplier *= _MULTIPLIERS[token[-1]]
        token = token[:-1]
    if not token:
        return float(multiplier)
    return float(token.replace(",", "")) * multiplier


def _unit_of(korean: str | None, latin: str | None) -> tuple[str, float]:
    if korean:
        for word, unit, factor in _UNIT_TABLE:
            if word == korean:
                return unit, factor
    if latin:
        return _LATIN_UNITS.get(latin.lower(), (latin.lower(), 1.0))
    return "", 1.0


def quantities(text: str, *, default: tuple[str, float] = ("", 1.0)) -> list[Quantity]:
    """The quantities a text states, with their bounds ("127킬로파스칼을
    초과하는" → 127000 pa, ">"), percentages and fractions as ratios
    ("100분의 5" = "5퍼센트" = 0.05); article and item numbers are not
    quantities. `default` (unit, factor) is given to bare numbers ("10" of a
    question that asks "몇 % 이상": ("ratio", 0.01))."""
    text = unicodedata.normalize("NFKC", text)
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    for match in _FRACTION.finditer(text):
        denominator, numerator, bound = match.groups()
        if float(denominator) == 0:
            continue
        value = float(numerator) / float(denominator)
        found.append(
            Quantity(value, "ratio", _BOUNDS.get(bound or "", ""), *match.span())
        )
        taken.append(match.span())
    for match in _QUANTITY.finditer(text):
        if any(a <= match.start() < b for a, b in taken):
            continue
        if _REFERENCE_AFTER.match(text, match.end(1)) and not (
            match.group(2) or match.group(3)
        ):
            continue
        if match.start() > 0 and text[match.start() - 1] == "제":
            continue
        number, korean, latin, bound = match.groups()
        unit, factor = _unit_of(korean, latin)
        if not unit:
            unit, factor = default
        value = parse_number(number) * factor
        if unit == "%":
            unit, value = "ratio", value / 100
        found.append(Quantity(value, unit, _BOUNDS.get(bound or "", ""), *match.span()))
    return sorted(found, key=lambda q: q.start)


def without_quantities(text: str) -> str:
    """The text with its quantities (number, unit, bound) taken out."""
    return _QUANTITY.sub(" ", _FRACTION.sub(" ", text))


def unit_hint(text: str) -> tuple[str, float]:
    """The unit a question's ask names next to its question word ("몇 % 이상",
    "몇 V 이하", "몇 m 이상", "몇 배"): (canonical unit, factor), or ("", 1)."""
    match = re.search(
        rf"(?:몇|얼마)\s*(?:({_LATIN})(?![a-z])|({_UNIT_WORDS}))",
        unicodedata.normalize("NFKC", text),
        re.I,
    )
    if not match:
        return "", 1.0
    token = match.group(1) or match.group(2)
    latin = token[0].isascii() or token in ("%", "°", "℃")
    unit, factor = _unit_of(None if latin else token, token if latin else None)
    return ("ratio", factor / 100) if unit == "%" else (unit, factor)


def has_negation(text: str) -> bool:
    return bool(NEGATION.search(text))
