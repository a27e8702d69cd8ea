"""Whether two questions are the same exam item, compared from their text.

Embeddings say two questions read alike; they cannot tell "옳은 것은" from
"옳지 않은 것은", 3 m from 5 m, or 'E' from 'P'. A pair whose asks differ in
any of these is never a REPEAT (`decisive_difference`).

Otherwise a pair is the same question — a REPEAT, whatever key each round
printed (`pair_verdict`) — when the text says so:

- the same stem, up to wording, spacing, garbling, a revision note or the
  labels of its steps (㉠ or (A)), when the stem says something specific;
- the same keyed answer, and the embeddings close enough (the stem reworded);
- the same keyed answer and at least two options in common (a reworded stem
  and a low similarity are then enough);
- in a "which is NOT …" question, at least two options in common and a stem
  alike: the options common to both are the true statements, and the key is
  the distractor a round changed.

The key of a repeat is "same" when the keyed answers correspond, "conflict"
when an option both copies print is keyed in one and not in the other (one
key is wrong, or the law changed between the rounds), else "other" (another
distractor is keyed). docs/related.md gives the labels these rules are
measured against.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from study.exam_vocabulary import ExamVocabulary, default_vocabulary

NEGATION = "negation"
NUMBERS = "numbers"
DIRECTION = "direction"
SYMBOLS = "symbols"
PAIRING = "pairing"

REPEAT = "repeat"
SIMILAR = "similar"
KEY_SAME = "same"
KEY_OTHER = "other"
KEY_CONFLICT = "conflict"

# The ask is the end of the stem, just before its question mark.
_ASK_CHARS = 24
# Characters a copy lost: a missing glyph, a replacement character, a
# question mark inside the ask (the ask ends before the stem's last one) or
# an option (no option asks anything).
_UNREADABLE = re.compile(r"[□■�?]+")
# In a stem only a question mark a letter follows is lost ("않?는", "?험");
# "것은? (단, …)" is the stem's own.
_UNREADABLE_IN_STEM = re.compile(r"(?:[□■�]|\?(?=[가-힣A-Za-z0-9]))+")
# What a lost character becomes in a normalised text: a letter no exam
# prints, so that it survives _normalise and matches nothing.
_LOST = "\ua7ff"
# How much of the ask's end an unreadable character's copy is read against.
_ASK_TAIL = 10
# A text with lost characters that reads as another with each of them taken
# for any one or two characters: as alike as that, short of the same text.
READ_THROUGH = 0.99
# "가장 낮은 것은" against "가장 큰 것은": the superlative's direction.
_MOST = r"가장\s*(?:[가-힣A-Za-z]{1,6}[이가은는]?\s+)?"
_LOW = re.compile(_MOST + r"(?:낮은|작은|적은|짧은|약한|느린|좁은|얕은)")
_HIGH = re.compile(_MOST + r"(?:높은|큰|많은|긴|강한|빠른|넓은|깊은)")
# "압력방폭구조 : p", "점화원의 격리 : 내압 방폭구조" (not a ratio "1 : 1.5",
# nor the step labels "A : 10").
_PAIRED = re.compile(r"[가-힣A-Za-z)]{2}\s*(?:[:：]|\s[-–—]\s|[–—])\s*[^\d\s]")
# 'E' and 'P' asked of the same formula: a quoted letter or short symbol.
# "가장 관계가 적은" and "가장 거리가 먼" are negations, not directions.
_RELATION_ASK = re.compile(
    r"(?:가장\s*)?(?:관계|거리)가\s*(?:가장\s*)?(?:적은|먼|없는)"
)
_QUOTED = re.compile(r"['‘’\"“”]\s*([A-Za-z0-9가-힣]{1,3})\s*['‘’\"“”]")
_UNIT_WORDS = {
    "밀리미터": "mm",
    "센티미터": "cm",
    "킬로미터": "km",
    "미터": "m",
    "킬로그램": "kg",
    "그램": "g",
    "퍼센트": "%",
}
_NUMBER = re.compile(
    r"(\d+(?:[.,]\d+)*)\s*"
    r"(밀리미터|센티미터|킬로미터|미터|킬로그램|그램|퍼센트"
    r"|[A-Za-z°㎜㎝㎏㎡㎥℃Ωμ/]*%|[A-Za-z°㎜㎝㎏㎡㎥℃Ωμ/]+"
    r"|[년월일시분초회명개배층류종급차단호항조번톤])?"
)
# "세 기둥" is "3기둥": native numerals before a counter.
_NATIVE_NUMERAL = re.compile(
    r"(?<![가-힣])(한|두|세|네|다섯|여섯|일곱|여덟|아홉|열)\s*"
    r"(?=가지|기둥|개|단계|요소|원칙|종류|명|대|번째)"
)
_NATIVE = {
    "한": "1",
    "두": "2",
    "세": "3",
    "네": "4",
    "다섯": "5",
    "여섯": "6",
    "일곱": "7",
    "여덟": "8",
    "아홉": "9",
    "열": "10",
}
# "정답인 2번을 누르면": a choice position, which rounds reorder.
_POSITION_UNIT = "번"
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
# What is left of "5m, 5m" or "127 kPa 이하" once the numbers are gone.
_UNITS_ONLY = re.compile(
    r"mm|cm|km|kg|mg|kpa|mpa|pa|ma|kv|v|a|m|g|l|w|kw|hz|lux|db|ppm|%|°c|℃|"
    r"이상|이하|초과|미만|이내|초|분|시간|배|개|명|회"
)
_PARENTHESISED = re.compile(r"\([^()]*\)")
_NOT_WORD = re.compile(r"[\W_]+")
# A site's note on a question asked before a law changed ("관련 규정 개정전
# 문제로 여기서는 기존 정답인 2번을 …"): not part of the question.
_REVISION_NOTE = re.compile(r"\((?:[^()]*(?:개정|정답\s*처리|변경된\s*규정)[^()]*)\)")
# Step labels, which rounds print differently: ㉠ / (A) / (가) / ⓐ / A:.
_STEP_LABEL = re.compile(
    r"[㉠-㉭]|[ⓐ-ⓩ]|[Ⓐ-Ⓩ]|\(\s*([A-Ha-h]|[가-하]|[ㄱ-ㅎ])\s*\)"
    r"|(?<![A-Za-z0-9])([A-H])(?=\s*[:：])"
)
# An option that only orders steps: "A＜C＜D＜B", "A→B→C→D", "A-C-B".
_STEP_SEQUENCE = re.compile(r"^\s*[A-H](?:\s*[<>→\-~,ㆍ·]\s*[A-H]){2,}\s*$")
_BARE_STEP = re.compile(r"([A-H])")
_HANGUL_STEPS = "가나다라마바사아자차카타파하"
_HANGUL_OR_LATIN = re.compile(r"[가-힣]+|[A-Za-z]{2,}")
_VALUE_WORDS = frozenset(
    ("이상", "이하", "초과", "미만", "이내", "약", "배", "개", "명", "회", "초")
    + ("분", "시간", "일", "년", "mm", "cm", "km", "kg", "mg", "ma", "kv", "kpa")
    + ("mpa",)
)
_JAMO_STEPS = "ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎ"
# What every question says: left out when comparing what two stems ask.
_NEGATIVE_ASK = re.compile(
    r"(?:으로|로|에|와|과|이|가|은|는)?\s*(?:가장\s*)?"
    r"(?:(?:거리가|관계가)\s*(?:가장\s*)?(?:먼|적은)|옳지\s*않은|틀린|아닌"
    r"|(?:해당|포함)(?:하|되)지\s*않(?:은|는)|볼\s*수\s*없는|적(?:절|합)하지\s*않은"
    r"|맞지\s*않는|부적(?:절|합)한|잘못된)\s*(?:것|내용|항목|사항)?(?:은|는)?\s*\?*"
)
_POSITIVE_ASK = re.compile(
    r"(?:으로|로|에|와|과|이|가|은|는)?\s*(?:가장\s*)?"
    r"(?:옳은|맞는|알맞은|적절한|적합한|올바른|해당(?:하|되)는|포함(?:하|되)는)"
    r"\s*(?:것|내용|항목|사항)?(?:은|는)?\s*\?*"
)
_BOILERPLATE = re.compile(
    r"다음\s*(?:중|은|의)?|산업안전보건(?:법령?|기준에\s*관한\s*규칙)"
    r"(?:상|에\s*따른|에\s*따라|에\s*의한|에서)?|법령상|\(단,[^)]*\)"
)
# What a stem may say differently without asking something else: particles,
# endings, "…하는 경우에는" / "…할 때에", "…에 관한 사항" (longest first).
# The ask, once its wording is set aside (a word no stem uses).
_ASKS_NOT, _ASKS_WHICH = "아닌것묻기", "맞는것묻기"
_FILLER_WORDS = [
    _ASKS_NOT,
    _ASKS_WHICH,
    "하여야하는",
    "하여야할",
    "하여야",
    "해야하는",
    "해야할",
    "해야",
    "하는경우에는",
    "하는경우에",
    "하는경우",
    "한경우에는",
    "한경우에",
    "한경우",
    "경우에는",
    "경우에",
    "경우",
    "할때에는",
    "할때에",
    "할때",
    "때에는",
    "때에",
    "때",
    "에있어서",
    "에있어",
    "에대한",
    "에관한",
    "에따른",
    "에따라",
    "에의한",
    "을위한",
    "를위한",
    "위하여",
    "위한",
    "으로서",
    "으로써",
    "으로",
    "에서는",
    "에서",
    "에는",
    "에게",
    "하고",
    "하여",
    "하는",
    "한",
    "할",
    "된",
    "되는",
    "되어",
    "되지",
    "이며",
    "이고",
    "및",
    "또는",
    "등의",
    "등",
    "중",
    "시",
    "의",
    "에",
    "로",
    "와",
    "과",
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "도",
    "각",
    "각각",
    "다음",
    "가장",
    "주된",
    "주로",
    "일반적인",
    "일반적으로",
    "관련된",
    "관련",
    "사항",
    "내용",
    "것",
    "바르게",
    "올바르게",
    "맞게",
    "옳게",
]
_FILLER = re.compile("|".join(sorted(_FILLER_WORDS, key=len, reverse=True)))
_TERM_CHARS = re.compile(r"[가-힣A-Za-z0-9]")
# Options match when their texts are this alike; a keyed answer must also be
# more like the other side's key than any other option. A conflict needs
# the same text (a near-miss is often its own opposite: 증가 / 감소).
OPTION_MATCH = 0.8
ANSWER_MATCH = 0.7
SAME_OPTION = 1.0
# The same printed stem: this alike once normalised (stem_key), and at
# least this long there (a bare "옳은 것은?" is no stem at all).
SAME_STEM = 0.8
SPECIFIC_STEM_CHARS = 6
# A differing piece of a stem this long (once filler is dropped) is a term.
TERM_CHARS = 1
# A "which is NOT" stem reworded: the shorter this much within the longer.
ALIKE_STEM = 0.6
COMMON_OPTIONS = 2
# A topic's texts are compared pair by pair: their normalised forms are kept
# (pure functions of one string) for as many texts as a large topic has.
CACHED_TEXTS = 65536
# What may stand beside a value that the other copy gives bare ("5m, 5m" /
# "수직방향 5m 이하, 수평방향 5m 이하"): a few words, no sentence.
VALUE_WORDS = 12


@dataclass(frozen=True)
class QuestionText:
    stem: str
    choices: tuple[str, ...]
    answers: tuple[str, ...]  # the texts of the keyed choice(s)
    keyed: frozenset[int] = frozenset()  # their indexes (0-based)

    @classmethod
    def build(
        cls,
        *,
        stem: str,
        choices: Sequence[str],
        correct_choice: int,
        accepted_choices: str = "",
    ) -> QuestionText:
        numbers = (
            [int(c) for c in accepted_choices.split(",")]
            if accepted_choices
            else [correct_choice]
        )
        keyed = frozenset(k - 1 for k in numbers if 1 <= k <= len(choices))
        answers = tuple(choices[k] for k in sorted(keyed))
        return cls(stem=stem, choices=tuple(choices), answers=answers, keyed=keyed)


@dataclass(frozen=True)
class PairVerdict:
    kind: str | None  # REPEAT, SIMILAR or None
    key: str = ""  # for a REPEAT: KEY_SAME, KEY_OTHER or KEY_CONFLICT
    rule: str = ""  # what decided (shown to staff, used by the calibration)


def embedding_text(*, stem: str, choices: Sequence[str]) -> str:
    """Stem plus the choices as a set: rounds reorder choices."""
    return "\n".join([stem.strip(), *sorted(c.strip() for c in choices)])


def decisive_difference(
    a: QuestionText, b: QuestionText, vocabulary: ExamVocabulary | None = None
) -> str | None:
    """Why the two cannot ask the same thing, or None when nothing says so."""
    negation = is_negated(a.stem, vocabulary) != is_negated(b.stem, vocabulary)
    direction = _direction(a.stem) != _direction(b.stem)
    if (negation or direction) and not _asks_alike_but_unreadable(a.stem, b.stem):
        return NEGATION if negation else DIRECTION
    if numbers_in(a.stem) != numbers_in(b.stem) and not _values_alike_but_unreadable(
        a.stem, b.stem
    ):
        return NUMBERS
    if _quoted(a.stem) != _quoted(b.stem):
        return SYMBOLS
    if _pairs_options(a.choices) != _pairs_options(b.choices):
        return PAIRING
    return None


@lru_cache(maxsize=CACHED_TEXTS)
def _asks_alike_but_unreadable(a: str, b: str) -> bool:
    """One ask has characters a copy lost (□, �, a ? inside the words) and
    reads as the other's with each of them taken for any one or two
    characters: "해당하□ □는 것은" is "해당하지 않는 것은", and a negation or
    superlative the copy no longer shows tells the two apart no more."""
    ask_a, ask_b = _unspaced_ask(a), _unspaced_ask(b)
    return _reads_as(ask_a, ask_b) or _reads_as(ask_b, ask_a)


def _values_alike_but_unreadable(a: str, b: str) -> bool:
    """The same numbers where a copy lost a character, perhaps a unit ("100일
    때" printed "100□ 때"): only a number that differs tells them apart."""
    lost = _UNREADABLE_IN_STEM.search(_nfkc(a)) or _UNREADABLE_IN_STEM.search(_nfkc(b))
    return bool(lost) and numbers_in(a, with_units=False) == numbers_in(
        b, with_units=False
    )


def _unspaced_ask(stem: str) -> str:
    return re.sub(r"\s+", "", _ask(stem))


def _reads_as(garbled: str, other: str) -> bool:
    """The end of `garbled` (its last _ASK_TAIL characters, with at least one
    unreadable) matches the end of `other`, an unreadable one standing for
    one or two characters."""
    tail = garbled[-_ASK_TAIL:]
    if not _UNREADABLE.search(tail):
        return False
    return re.search(_read_through(_UNREADABLE.split(tail)) + "$", other) is not None


def _read_through(parts: Sequence[str]) -> str:
    """A pattern of the text between lost characters, each run of them one or
    two of any character."""
    return ".{1,2}".join(map(re.escape, parts))


@lru_cache(maxsize=CACHED_TEXTS)
def _pairs_options(choices: Sequence[str]) -> bool:
    """Options that pair two things ("압력방폭구조 : p"): a matching question,
    not the same as one whose options are the things themselves."""
    return sum(bool(_PAIRED.search(_nfkc(_relabel(c)))) for c in choices) >= 3


def pair_verdict(
    similarity: float,
    a: QuestionText,
    b: QuestionText,
    *,
    repeat: float,
    similar: float,
    floor: float,
    vocabulary: ExamVocabulary | None = None,
) -> PairVerdict:
    """REPEAT (with its key), SIMILAR or nothing for two other-round questions
    whose embeddings have this cosine; `repeat`, `similar` and `floor` are the
    embedder's thresholds (study.related.thresholds)."""
    related = PairVerdict(SIMILAR) if similarity >= similar else PairVerdict(None)
    if similarity < floor:
        return related
    difference = decisive_difference(a, b, vocabulary)
    if difference is not None:
        return PairVerdict(related.kind, rule=difference)
    rule = _repeat_rule(
        similarity, a, b, repeat=repeat, similar=similar, vocabulary=vocabulary
    )
    if rule is None:
        return related
    key = key_relation(a, b)
    if key == KEY_CONFLICT and len(option_pairs(a.choices, b.choices)) < len(a.choices):
        # Keys that contradict on a shared option while other options changed:
        # two lists asked of two things (채용 시 교육 / 정기교육), not one
        # question printed with another key.
        return PairVerdict(related.kind, rule="conflict_with_other_options")
    return PairVerdict(REPEAT, key=key, rule=rule)


def _repeat_rule(
    similarity: float,
    a: QuestionText,
    b: QuestionText,
    *,
    repeat: float,
    similar: float,
    vocabulary: ExamVocabulary | None = None,
) -> str | None:
    """Which rule makes the pair the same question; the cheap checks first (a
    large topic has a few hundred thousand candidate pairs)."""
    common = _Lazy(lambda: informative_pairs(a.choices, b.choices))
    if (
        min(_specific_chars(a.stem), _specific_chars(b.stem)) >= SPECIFIC_STEM_CHARS
        and stem_likeness(a.stem, b.stem) >= SAME_STEM
    ):
        terms = stem_terms_differ(a.stem, b.stem)
        if not terms or (terms == "added" and common()):
            return "same_stem"
    same_key = _keyed_answer_found(a, b) and _keyed_answer_found(b, a)
    if same_key and similarity >= repeat:
        return "same_answer"
    if same_key and common() >= COMMON_OPTIONS:
        return "same_answer_and_options"
    if (
        similarity >= similar
        and is_negated(a.stem, vocabulary)
        and common() >= COMMON_OPTIONS
        and stem_overlap(a.stem, b.stem) >= ALIKE_STEM
    ):
        return "same_true_options"
    if (
        stem_key(a.stem) == stem_key(b.stem)
        and common() >= COMMON_OPTIONS
        and _every_option_common(a, b)
    ):
        # The same printed question however little its stem says ("다음 중
        # 전압을 구분한 것으로 알맞은 것은?" over the same four statements),
        # whatever each keyed: where a key conflict is found. Bare values
        # ("2m", "3m" …) are no such evidence (common() counts the others).
        return "same_paper"
    return None


def _every_option_common(a: QuestionText, b: QuestionText) -> bool:
    count = len(a.choices)
    return count == len(b.choices) and len(option_pairs(a.choices, b.choices)) == count


class _Lazy:
    """A value computed once, when first asked for."""

    def __init__(self, compute: Callable[[], int]) -> None:
        self._compute = compute
        self._value: int | None = None

    def __call__(self) -> int:
        if self._value is None:
            self._value = self._compute()
        return self._value


def key_relation(a: QuestionText, b: QuestionText) -> str:
    """KEY_CONFLICT when an option both print (nearly the same text) is keyed
    in one copy and not in the other; else KEY_SAME when the keyed answers
    correspond, KEY_OTHER when they do not."""
    for i, j in option_pairs(a.choices, b.choices).items():
        if (i in a.keyed) != (j in b.keyed) and _same_option(
            a.choices[i], b.choices[j]
        ):
            return KEY_CONFLICT
    if _keyed_answer_found(a, b) and _keyed_answer_found(b, a):
        return KEY_SAME
    return KEY_OTHER


def option_pairs(mine: Sequence[str], theirs: Sequence[str]) -> dict[int, int]:
    """Options printed by both (any order, light rewording), one to one:
    {index in mine: index in theirs}, the most alike first."""
    scored = sorted(
        (
            (_option_likeness(x, y), i, j)
            for i, x in enumerate(mine)
            for j, y in enumerate(theirs)
        ),
        reverse=True,
    )
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for score, i, j in scored:
        if score < OPTION_MATCH:
            break
        if i not in pairs and j not in used:
            pairs[i] = j
            used.add(j)
    return pairs


def informative_pairs(mine: Sequence[str], theirs: Sequence[str]) -> int:
    """Options in common that say something: not a bare number, value or
    short symbol (18 %, 5 이상, O₃), which unrelated questions share."""
    return sum(1 for i in option_pairs(mine, theirs) if _is_informative(mine[i]))


@lru_cache(maxsize=CACHED_TEXTS)
def _is_informative(option: str) -> bool:
    if _relabel(option).count("〔") >= 3:  # an order of steps
        return True
    words = _HANGUL_OR_LATIN.findall(_DIGITS.sub(" ", _nfkc(option)))
    return sum(len(w) for w in words if w.lower() not in _VALUE_WORDS) >= 3


@lru_cache(maxsize=CACHED_TEXTS)
def _option_likeness(x: str, y: str) -> float:
    x, y = _relabel(x), _relabel(y)
    if numbers_in(x, with_units=False) != numbers_in(y, with_units=False):
        return 0.0
    if _same_value(x, y):
        return 1.0  # "127" and "127 kPa", "5m, 5m" and "수직방향 5m, 수평방향 5m"
    return text_likeness(x, y)


def _same_option(x: str, y: str) -> bool:
    """The same option, not a near-miss (저압측 / 고압측, 증가 / 감소)."""
    return _option_likeness(x, y) >= SAME_OPTION


def stem_likeness(a: str, b: str) -> float:
    """How alike two stems are once their wording of the ask, boilerplate,
    revision notes and step labels are set aside (1.0: the same)."""
    x, y = stem_key(a), stem_key(b)
    if x == y:
        return 1.0
    matcher = SequenceMatcher(None, x, y, autojunk=False)
    if matcher.real_quick_ratio() < SAME_STEM or matcher.quick_ratio() < SAME_STEM:
        return matcher.quick_ratio()  # an upper bound, already too low
    return matcher.ratio()


@lru_cache(maxsize=CACHED_TEXTS)
def _specific_chars(stem: str) -> int:
    """What a stem says beyond the ask and filler ("정전기에 대한 설명으로 옳은
    것은?" says 정전기설명: too little to be the same question by itself)."""
    return len(_FILLER.sub("", stem_key(stem)))


def stem_terms_differ(a: str, b: str) -> str:
    """How the stems differ beyond particles, endings, filler and spacing:
    "replaced" when each says a term the other does not (안내표지 /
    경고표지), "added" when only one does (관리비 / 관리비 중 안전시설비),
    else ""."""
    x, y = stem_key(a), stem_key(b)
    mine = theirs = False
    for (i1, i2), (j1, j2) in _differing_spans(x, y):
        if _reads_through_lost(x[i1:i2], y[j1:j2]):
            continue  # one copy lost the letters the other prints here
        mine = mine or _is_term(x[i1:i2], y)
        theirs = theirs or _is_term(y[j1:j2], x)
    if mine and theirs:
        return "replaced"
    return "added" if mine or theirs else ""


def _differing_spans(x: str, y: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the two differ, a letter or two in common inside a span kept in
    it (크레인 / 프레스 share 레: one replaced term, not two letters)."""
    spans = []
    current = None
    for tag, i1, i2, j1, j2 in SequenceMatcher(
        None, x, y, autojunk=False
    ).get_opcodes():
        if tag == "equal" and (i2 - i1 > 2 or current is None):
            if current is not None:
                spans.append(current)
                current = None
            continue
        if current is None:
            current = ((i1, i2), (j1, j2))
        else:
            current = ((current[0][0], i2), (current[1][0], j2))
    if current is not None:
        spans.append(current)
    return spans


def _reads_through_lost(x: str, y: str) -> bool:
    """Two differing pieces of stem keys, one with lost letters (_LOST) that
    reads as the other with each of them taken for one or two letters."""
    return any(
        _LOST in garbled and re.fullmatch(_read_through(garbled.split(_LOST)), clean)
        for garbled, clean in ((x, y), (y, x))
    )


def _is_term(segment: str, other: str) -> bool:
    """A differing piece that says something the other stem does not."""
    rest = _FILLER.sub("", segment)
    return len(_TERM_CHARS.findall(rest)) >= TERM_CHARS and rest not in other


def stem_overlap(a: str, b: str) -> float:
    """How much of the shorter normalised stem the longer one contains."""
    x, y = stem_key(a), stem_key(b)
    if not x or not y:
        return 0.0
    blocks = SequenceMatcher(None, x, y, autojunk=False).get_matching_blocks()
    return sum(block.size for block in blocks) / min(len(x), len(y))


@lru_cache(maxsize=CACHED_TEXTS)
def stem_key(stem: str) -> str:
    text = _REVISION_NOTE.sub(" ", _nfkc(_relabel(stem)))
    text = _UNREADABLE_IN_STEM.sub(lambda m: _LOST * len(m.group(0)), text)
    text = _NEGATIVE_ASK.sub(f" {_ASKS_NOT} ", text)
    text = _POSITIVE_ASK.sub(f" {_ASKS_WHICH} ", text)
    return _normalise(_BOILERPLATE.sub(" ", text))


@lru_cache(maxsize=CACHED_TEXTS)
def _relabel(text: str) -> str:
    """Step labels as one form: ㉡, (B), (나), ⓑ and "B:" are all step 2, and
    so is B in an option that only orders steps ("A＜C＜D＜B")."""

    def step(match: re.Match) -> str:
        label = match.group(1) or match.group(2) or match.group(0)
        return f"〔{step_number(label)}〕"

    if _STEP_SEQUENCE.match(_nfkc(text)):
        return _BARE_STEP.sub(step, _nfkc(text))
    return _STEP_LABEL.sub(step, text)


def step_number(label: str) -> int:
    """The step a label names, 1-based, whatever its style: ㉡, ⓑ, Ⓑ, 나, ㄴ
    and B are all 2."""
    char = label.strip()[0]
    for first, last in (("㉠", "㉭"), ("ⓐ", "ⓩ"), ("Ⓐ", "Ⓩ")):
        if first <= char <= last:
            return ord(char) - ord(first) + 1
    if char in _HANGUL_STEPS:
        return _HANGUL_STEPS.index(char) + 1
    if char in _JAMO_STEPS:
        return _JAMO_STEPS.index(char) + 1
    return ord(char.upper()) - ord("A") + 1


def is_negated(stem: str, vocabulary: ExamVocabulary | None = None) -> bool:
    """The ask at the end of the stem is negated (the exam's negated_ask words)."""
    if vocabulary is None:
        return _is_negated_by_default(stem)
    return vocabulary.is_negated_ask(_ask(stem))


@lru_cache(maxsize=CACHED_TEXTS)
def _is_negated_by_default(stem: str) -> bool:
    return default_vocabulary().is_negated_ask(_ask(stem))


@lru_cache(maxsize=CACHED_TEXTS)
def _direction(stem: str) -> str:
    ask = _RELATION_ASK.sub(" ", _ask(stem))
    return ("low" if _LOW.search(ask) else "") + ("high" if _HIGH.search(ask) else "")


@lru_cache(maxsize=CACHED_TEXTS)
def _quoted(stem: str) -> frozenset[str]:
    return frozenset(_QUOTED.findall(_nfkc(stem)))


@lru_cache(maxsize=CACHED_TEXTS)
def numbers_in(text: str, *, with_units: bool = True) -> frozenset:
    found = set()
    plain = _REVISION_NOTE.sub(" ", _nfkc(text))
    plain = _NATIVE_NUMERAL.sub(lambda m: _NATIVE[m.group(1)], plain)
    for value, unit in _NUMBER.findall(plain):
        if unit == _POSITION_UNIT:
            continue
        number = repr(float(value.replace(",", ""))) if _is_number(value) else value
        unit = _UNIT_WORDS.get(unit, unit).lower()
        found.add((number, unit) if with_units else number)
    return frozenset(found)


@lru_cache(maxsize=CACHED_TEXTS)
def _ask(stem: str) -> str:
    text = _REVISION_NOTE.sub(" ", _nfkc(stem)).strip()
    mark = text.rfind("?")
    return (text[:mark] if mark >= 0 else text)[-_ASK_CHARS:]


def _keyed_answer_found(a: QuestionText, b: QuestionText) -> bool:
    """Some keyed answer of `a` is, among `b`'s choices, most like `b`'s key."""
    others = [c for c in b.choices if c not in b.answers]
    return any(
        _same_answer(mine, theirs, others) for mine in a.answers for theirs in b.answers
    )


def _same_answer(mine: str, theirs: str, others: list[str]) -> bool:
    mine, theirs = _relabel(mine), _relabel(theirs)
    if numbers_in(mine, with_units=False) != numbers_in(theirs, with_units=False):
        return False
    if _same_value(mine, theirs):
        return True
    score = text_likeness(mine, theirs)
    return score >= ANSWER_MATCH and all(
        text_likeness(mine, _relabel(other)) < score for other in others
    )


def text_likeness(a: str, b: str) -> float:
    """1.0 for equal texts; glosses in parentheses may be dropped on either
    side; READ_THROUGH when one lost characters and otherwise reads as the
    other ("220mA, ?험" and "220mA, 위험")."""
    score = max(_likeness(x, y) for x in _forms(a) for y in _forms(b))
    if score < READ_THROUGH and (_reads_through(a, b) or _reads_through(b, a)):
        return READ_THROUGH
    return score


@lru_cache(maxsize=CACHED_TEXTS)
def _lost_pattern(text: str) -> re.Pattern[str] | None:
    """The normalised text with each run of lost characters as one or two of
    any, or None when nothing was lost or nothing else is left."""
    plain = _nfkc(text)
    if not _UNREADABLE.search(plain):
        return None
    parts = [_normalise(part) for part in _UNREADABLE.split(plain)]
    if not any(parts):  # nothing left to read
        return None
    return re.compile(_read_through(parts))


def _reads_through(garbled: str, other: str) -> bool:
    pattern = _lost_pattern(garbled)
    return (
        pattern is not None and pattern.fullmatch(_normalise(_nfkc(other))) is not None
    )


def _likeness(x: str, y: str) -> float:
    if x == y:
        return 1.0
    short, long_ = sorted((x, y), key=len)
    if len(short) >= 2 and short in long_ and len(short) >= 0.4 * len(long_):
        return 0.9 + 0.1 * len(short) / len(long_)
    return SequenceMatcher(None, x, y).ratio()


@lru_cache(maxsize=CACHED_TEXTS)
def _forms(text: str) -> frozenset[str]:
    plain = _nfkc(text)
    forms = {_normalise(plain), _normalise(_PARENTHESISED.sub("", plain))} - {""}
    return frozenset(forms or {""})


def _same_value(x: str, y: str) -> bool:
    """The same numbers, and one side says nothing but them and their units
    ("127" / "127 kPa": the unit lives in the stem of one of them)."""
    values = numbers_in(x, with_units=False)
    if not values or values != numbers_in(y, with_units=False):
        return False
    rest_x, rest_y = _residue(x), _residue(y)
    if rest_x == rest_y:
        return True
    words_x, words_y = _UNITS_ONLY.sub("", rest_x), _UNITS_ONLY.sub("", rest_y)
    # The other side names its values at most ("수직방향 5m, 수평방향 5m"),
    # it is no sentence that happens to hold the number.
    return (not words_x or not words_y) and len(words_x + words_y) <= VALUE_WORDS


@lru_cache(maxsize=CACHED_TEXTS)
def _residue(text: str) -> str:
    return _normalise(_DIGITS.sub("", _nfkc(text)))


def _normalise(text: str) -> str:
    return _NOT_WORD.sub("", text.lower())


@lru_cache(maxsize=CACHED_TEXTS)
def _nfkc(text: str) -> str:
    """NFKC, with the middle dots rounds use interchangeably (ㆍ · ∙ ・) as one,
    and a syllable no exam prints taken for a lost character (_misprints)."""
    return unicodedata.normalize("NFKC", text).translate(_READ_AS)


def _misprints() -> dict[int, str]:
    """Hangul syllables outside the 2,350 of KS X 1001 (those euc-kr writes
    in two bytes), which Korean text hardly ever uses: none of 2,160 past
    exam questions does. One in a question is a misprint ("아닌" printed
    "아륓"), read as a lost character (□)."""
    return {
        code: "□"
        for code in range(0xAC00, 0xD7A4)
        if len(chr(code).encode("euc_kr")) != 2
    }


_READ_AS = str.maketrans(
    {"ㆍ": "·", "ᆞ": "·", "∙": "·", "・": "·", "•": "·", "‧": "·"} | _misprints()
)


def _is_number(value: str) -> bool:
    try:
        float(value.replace(",", ""))
    except ValueError:
        return False
    return True
