"""The guard on what an AI text says, not only on its answer field.

Pure functions over the question (stem, four choices, accepted answers), the
reply and the evidence that was sent, so the same checks run in the app and
over the stored replies of the real model (tests/study/data/
explanation_labels.jsonl). docs/explanations.md describes every rule.

A failure is one reason code:

- ``text_names_other_choice``: the text declares a choice other than the key
  to be the answer ("정답은 3번", key 2).
- ``text_denies_key``: the text says the keyed choice is not the answer, or
  reads a "which is NOT …" question the wrong way round.
- ``text_not_key``: the text never names the keyed choice (number, text or
  value) as the answer.
- ``result_not_key``: a calculation whose last result is not the keyed value.
- ``ungrounded``: evidence was sent and not one quote is verbatim, about the
  question, and about its choices (what decides between them); quoting
  nothing counts too.
- ``unverified_without_evidence``: no evidence passed the relevance cut, the
  topic allows question-only explanations, and the model did not pick the
  key by itself in the independent check.
- ``no_reasoning``: apart from restating the question and the choices the
  text says nothing.
- ``note_names_answer``: a subject note (written without the key) declares
  an answer.
- ``text_contradicts_card``: the text says a choice is what the statute
  states where the 근거 카드 found it different, or says a choice is not
  stated, or differs, where the card found it stated.
- ``key_misstated``: the text restates the key in brackets ("정답은 4번(…)
  입니다", as the prompt asks) with words that are mostly not that choice's:
  the learner would read another text as the keyed choice (a small model
  spliced a similar question's sentence into the bracket).
- ``text_echoes_prompt``: a sentence of the text is one of the prompt's own
  instructions ("이 구절이 정답 보기와 어떻게 이어지는지 쓰세요."): the model
  returned the form instead of filling it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from enum import StrEnum
from typing import Any

from study.ai.envelope import CheckedQuotes, normalise_ws
from study.exam_vocabulary import ExamVocabulary, default_vocabulary, is_negative_stem


class GuardReason(StrEnum):
    """Why the guard stopped a text (stored in a job's payload and a note's
    error parameters as `guard_reason`; the health report counts them)."""

    TEXT_NAMES_OTHER_CHOICE = "text_names_other_choice"
    TEXT_DENIES_KEY = "text_denies_key"
    TEXT_NOT_KEY = "text_not_key"
    RESULT_NOT_KEY = "result_not_key"
    UNGROUNDED = "ungrounded"
    NO_REASONING = "no_reasoning"
    NOTE_NAMES_ANSWER = "note_names_answer"
    ANSWER_NOT_KEY = "answer_not_key"
    CHECK_DISAGREES = "check_disagrees"
    UNVERIFIED_WITHOUT_EVIDENCE = "unverified_without_evidence"
    TEXT_CONTRADICTS_CARD = "text_contradicts_card"
    KEY_MISSTATED = "key_misstated"
    TEXT_ECHOES_PROMPT = "text_echoes_prompt"
    PASSAGE_MISATTRIBUTED = "passage_misattributed"


REASON_CODES = tuple(reason.value for reason in GuardReason)

_CIRCLED = {"①": 1, "②": 2, "③": 3, "④": 4}
# "3번", "③", "보기 3", "(3)" — a reference to a choice by number.
_NUM_REF = r"(?:([1-4])\s*번|([①②③④])|보기\s*([1-4])(?!\d))"
_DECLARE_WORDS = r"(?:정답|답)"
_NUMBER = re.compile(r"(?<![\w.])[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−]?\d+(?:\.\d+)?")
_RESULT = re.compile(
    r"(?:=|≈|≒|≃|약|\\approx|\\simeq)\s*\$?\s*(?:\\?[({]\s*)?"
    r"([-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−]?\d+(?:\.\d+)?)"
)
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n+|(?<=다\.)|(?<=요\.)")
_HANGUL_WORD = re.compile(r"[가-힣A-Za-z]{2,}|\d{2,}")
# Korean endings and particles cut off a word before comparing stems.
_SUFFIXES = (
    "으로서",
    "으로써",
    "에서는",
    "에게는",
    "으로",
    "에서",
    "에게",
    "까지",
    "부터",
    "하는",
    "하여",
    "해야",
    "한다",
    "된다",
    "되는",
    "이며",
    "이고",
    "라고",
    "이란",
    "이다",
    "에는",
    "과의",
    "와의",
    "은",
    "는",
    "이",
    "가",
    "을",
    "를",
    "의",
    "에",
    "로",
    "와",
    "과",
    "도",
    "만",
    "란",
)


@dataclass
class GuardVerdict:
    ok: bool
    code: str = ""
    detail: str = ""
    quotes: CheckedQuotes = field(default_factory=CheckedQuotes)
    quotes_irrelevant: int = 0


@dataclass(frozen=True)
class QuestionView:
    """What the guard needs of a question (a model instance or a stored row)."""

    stem: str
    choices: tuple[str, str, str, str]
    accepted: frozenset[int]
    # The exam's words (polarity, field-wide words): the topic's, else the
    # shipped ones (study/exam_vocabulary.py).
    vocabulary: ExamVocabulary = field(default_factory=default_vocabulary)

    @classmethod
    def of(cls, question: Any) -> QuestionView:
        return cls(
            stem=question.stem,
            choices=tuple(question.choices),
            accepted=frozenset(question.accepted_set),
            vocabulary=question.topic.vocabulary(),
        )

    @property
    def key(self) -> int:
        return min(self.accepted)


# -- question shape ---------------------------------------------------------


def is_negative_question(stem: str, vocabulary: ExamVocabulary | None = None) -> bool:
    """ "Which is NOT / wrong / least related …": the keyed choice is the one
    the text shows to be wrong."""
    return is_negative_stem(stem, vocabulary)


def _to_float(token: str) -> float | None:
    try:
        return float(token.replace(",", "").replace("−", "-"))
    except ValueError:
        return None


def choice_value(choice: str) -> float | None:
    """The value of a numeric choice ("13.3 분", "약 2.5m", "1,200 kg"): the
    choice is one number with at most a unit or a short word around it."""
    text = choice.strip()
    numbers = _NUMBER.findall(text)
    if len(numbers) != 1:
        return None
    rest = _NUMBER.sub("", text, count=1)
    rest = re.sub(r"[\s()약%℃°/·,.]", "", rest)
    if len(rest) > 8:
        return None
    return _to_float(numbers[0])


def numeric_values(choices: Sequence[str]) -> list[float] | None:
    """The four values when every choice is numeric and they all differ."""
    values = [choice_value(c) for c in choices]
    known = [v for v in values if v is not None]
    if len(known) < len(values) or len(set(known)) < len(known):
        return None
    return known


def _decimals(token: str) -> int:
    return len(token.split(".")[1]) if "." in token else 0


def same_value(result: float, key_text: str, key: float) -> bool:
    """Equal within rounding: to the precision the keyed choice is printed with
    (13.33 is 13.3; 13.2 is not), with 0.5 % slack for rounded inputs."""
    numbers = _NUMBER.findall(key_text)
    step = 10 ** -_decimals(numbers[0]) if numbers else 1.0
    return abs(result - key) <= max(step / 2 + 1e-9, abs(key) * 0.005)


# -- reading the text ---------------------------------------------------------


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _refs_by_number(sentence: str) -> set[int]:
    found = set()
    for match in re.finditer(_NUM_REF, sentence):
        digit, circled, boxed = match.groups()
        found.add(int(digit or boxed) if (digit or boxed) else _CIRCLED[circled])
    return found


def _choice_key(choice: str) -> str:
    return re.sub(r"\s+", "", choice)


def _refs_by_text(sentence: str, choices: Sequence[str]) -> set[int]:
    """Choices named by their text (at least two characters, and not a text
    that is contained in another choice's text also found here)."""
    flat = re.sub(r"\s+", "", sentence)
    found = set()
    for number, choice in enumerate(choices, 1):
        key = _choice_key(choice)
        if len(key) >= 2 and key in flat:
            found.add(number)
    # "A" inside "A와 B": keep only the longest of nested choice texts.
    for a in list(found):
        for b in list(found):
            if a != b and _choice_key(choices[a - 1]) in _choice_key(choices[b - 1]):
                found.discard(a)
    return found


def _refs_by_value(
    sentence: str, values: list[float] | None, choices: Sequence[str]
) -> set[int]:
    if values is None:
        return set()
    found = set()
    for token in _NUMBER.findall(re.sub(_NUM_REF, " ", sentence)):
        value = _to_float(token)
        if value is None:
            continue
        for number, (choice_text, key) in enumerate(
            zip(choices, values, strict=True), 1
        ):
            if same_value(value, choice_text, key):
                found.add(number)
    return found


def choice_refs(sentence: str, q: QuestionView) -> set[int]:
    values = numeric_values(q.choices)
    refs = _refs_by_number(sentence) | _refs_by_text(sentence, q.choices)
    return refs | _refs_by_value(sentence, values, q.choices)


_DECLARATION = re.compile(
    _DECLARE_WORDS + r"\s*(?:은|는|이|:|：|\)|으로)?"
    r"|(?:이|가|을|를)\s*(?:정답|답)(?:이|입니다|이다|으로)"
    r"|정답(?:입니다|이다|이에요|임)"
    # "…틀린 것은 4번입니다": the question's own words naming a choice.
    r"|것은\s*(?=\S*\s*(?:[1-4]\s*번|[①②③④]))"
)


def declared_answers(text: str, q: QuestionView) -> list[tuple[set[int], str]]:
    """Sentences that declare an answer ("정답은 3번", "②가 정답입니다", "답:
    13.3분") and the choices each names; a declaration that says the choice is
    *not* the answer ("정답이 아니다") is returned with an empty set."""
    found: list[tuple[set[int], str]] = []
    for sentence in sentences(text):
        if not _DECLARATION.search(sentence):
            continue
        # The declared part: from the declaring word to the end of the clause.
        refs = choice_refs(sentence, q)
        if not refs:
            continue
        if re.search(r"(정답|답)\s*(이|은|는)?\s*아니", sentence):
            found.append((set(), sentence))
            continue
        found.append((refs, sentence))
    return found


def _without_stem_negations(tail: str, q: QuestionView) -> str:
    """The tail without the negated words the question itself uses: "양립성은
    기대와 모순되지 않는 성질" repeats the stem's "모순되지 않는", it does not
    deny the key. A negated word counts as the stem's when it appears there
    together with the word before or after it."""
    flat_stem = re.sub(r"\s+", "", q.stem)
    words = tail.split()
    kept = []
    for i, word in enumerate(words):
        if q.vocabulary.negation_re.search(word):
            before = "".join(words[max(0, i - 1) : i + 1])
            after = "".join(words[i : i + 2])
            if (i > 0 and before in flat_stem) or (
                i + 1 < len(words) and after in flat_stem
            ):
                continue
        kept.append(word)
    return " ".join(kept)


def _denials(text: str, q: QuestionView) -> str | None:
    """A sentence about the keyed choice alone that reads the question the
    wrong way round: in a positive question it calls the key wrong / not it;
    in a "which is NOT" question it calls the key right."""
    negative = is_negative_question(q.stem, q.vocabulary)
    negation, affirmation = q.vocabulary.negation_re, q.vocabulary.affirmation_re
    for sentence in sentences(text):
        refs = choice_refs(sentence, q)
        if not refs or not refs <= q.accepted:
            continue
        if re.search(r"(정답|답)\s*(이|은|는)?\s*아니", sentence):
            return sentence
        if _DECLARATION.search(sentence):
            continue  # "정답은 2번(…)입니다" is the declaration itself
        tail = _without_stem_negations(sentence[-40:], q)
        # "A는 …가 아니다" about the key in a "which is …" question.
        if (
            not negative
            and negation.search(tail)
            and not affirmation.search(tail)
            and not re.search(r"아니라|뿐만|않고|없이", tail)
        ):
            return sentence
        if negative and affirmation.search(tail) and not negation.search(tail):
            return sentence
    return None


def calculation_result(text: str) -> str | None:
    """The last number the text arrives at: the right-hand side of its last
    "=" / "≈" / "약" (choice references such as "4번" are not results)."""
    cleaned = re.sub(_NUM_REF, " ", text)
    results = _RESULT.findall(cleaned)
    return results[-1] if results else None


# -- quotes -----------------------------------------------------------------


def _stem_of(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            return word[: -len(suffix)]
    return word


def content_words(text: str, vocabulary: ExamVocabulary | None = None) -> set[str]:
    """The words of a text that carry its content: the field's shared words
    (the vocabulary's field_words) left out."""
    common = (vocabulary or default_vocabulary()).field_words
    words = set()
    for word in _HANGUL_WORD.findall(text):
        stem = _stem_of(word)
        if stem not in common and word not in common and len(stem) >= 2:
            words.add(stem)
    return words


def shares_content(
    quote: str, reference: set[str], vocabulary: ExamVocabulary | None = None
) -> bool:
    """A quote is about the question when one of its content words shares a
    two-character stem with one of the question's (휴식시간 ~ 휴식은)."""
    vocabulary = vocabulary or default_vocabulary()
    words = content_words(quote, vocabulary)
    if words & reference:
        return True
    prefixes = {w[:2] for w in reference} - vocabulary.field_prefixes
    return any(w[:2] in prefixes for w in words)


def relevant_quotes(
    quotes: CheckedQuotes, q: QuestionView
) -> tuple[CheckedQuotes, int]:
    """Keep the verbatim quotes that share content words with the question or
    its choices; returns the kept quotes and how many were irrelevant."""
    reference = content_words(q.stem + " " + " ".join(q.choices), q.vocabulary)
    kept = [
        item
        for item in quotes.kept
        if shares_content(item["quote"], reference, q.vocabulary)
    ]
    irrelevant = len(quotes.kept) - len(kept)
    return CheckedQuotes(kept=kept, dropped=quotes.dropped + irrelevant), irrelevant


# -- the guards -------------------------------------------------------------


def novel_words(text: str, q: QuestionView, instructions: str = "") -> set[str]:
    """Content words of the text that are not in the question, its choices or
    the prompt's own instructions (the answer-declaring sentences left out):
    what the text adds. Echoing the instructions ("정답 보기가 왜 틀렸는지를
    설명하세요") adds nothing."""
    body = " ".join(
        s
        for s in sentences(text)
        if not (_DECLARATION.search(s) and len(s) < 80 and choice_refs(s, q))
        # a question (this one or another, pasted from the evidence) is not
        # an answer to anything
        and not s.rstrip().endswith("?")
    )
    known = content_words(" ".join((q.stem, *q.choices, instructions)), q.vocabulary)
    return {w for w in content_words(body, q.vocabulary) if w not in known}


# The label a statute's item or subitem starts with: "5. ", "가. ", "③ ".
_ITEM_LABEL = re.compile(r"^\s*(?:\d{1,2}\.|[가-하]\.|[①-⑳])\s*", re.M)


def _quote_states_key(quotes: CheckedQuotes, q: QuestionView) -> bool:
    """In a positive question, a kept document quote that states the keyed
    choice (its text or its value: "높이 90센티미터 이상" for "90cm 이상") is
    the reasoning a one-line text lacks; another question quoted with the same
    key is a precedent, not a reason. Not in a "which is NOT" question, where the
    article states the other choices."""
    if is_negative_question(q.stem, q.vocabulary):
        return False
    values = numeric_values(q.choices)
    for item in quotes.kept:
        if item.get("kind") == "question":
            continue  # another question's key is the same answer, not a reason
        # A statute line's own label ("5. 훅의 입구 … 10퍼센트") is no value.
        quote = _ITEM_LABEL.sub("", item["quote"])
        refs = _refs_by_text(quote, q.choices)
        refs |= _refs_by_value(quote, values, q.choices)
        if refs and refs <= q.accepted:
            return True
    return False


def _about_choices(quote: str, q: QuestionView, choice_words: set[str]) -> bool:
    """A quote speaks about the choices when it shares a content word with
    them or contains one choice's whole text ("3개 이상" for the choice
    "3개"): choices that are numbers with units, symbols or short Latin terms
    have no content words of their own."""
    return shares_content(quote, choice_words, q.vocabulary) or bool(
        _refs_by_text(quote, q.choices)
    )


def explanation_text_guard(
    *,
    q: QuestionView,
    text: str,
    quotes: CheckedQuotes,
    evidence_sent: bool,
    min_novel_words: int = 3,
    instructions: str = "",
) -> GuardVerdict:
    """Every check on an explanation's text; the first failure is the verdict."""
    checked, irrelevant = relevant_quotes(quotes, q)
    choice_words = content_words(" ".join(q.choices), q.vocabulary)

    def fail(code: str, detail: str) -> GuardVerdict:
        return GuardVerdict(False, code, detail[:300], checked, irrelevant)

    declared = declared_answers(text, q)
    others = [(refs, s) for refs, s in declared if refs and not (refs & q.accepted)]
    mixed = [
        (refs, s) for refs, s in declared if refs - q.accepted and refs & q.accepted
    ]
    if others:
        refs, sentence = others[0]
        return fail(
            GuardReason.TEXT_NAMES_OTHER_CHOICE,
            f"{sorted(refs)} declared in: {sentence}",
        )
    # "정답은 2번이 아니라 3번" names both; the one after the declaration counts.
    for _refs, sentence in mixed:
        tail = re.split(r"정답|답", sentence, maxsplit=1)[-1]
        named = choice_refs(tail, q)
        if named and not (named & q.accepted):
            return fail(
                GuardReason.TEXT_NAMES_OTHER_CHOICE, f"{sorted(named)} in: {sentence}"
            )
    denial = _denials(text, q)
    if denial is not None or any(not refs for refs, _ in declared):
        sentence = denial or next(s for refs, s in declared if not refs)
        return fail(GuardReason.TEXT_DENIES_KEY, sentence)
    if not any(refs & q.accepted for refs, _ in declared):
        return fail(
            GuardReason.TEXT_NOT_KEY, "no sentence names the keyed choice as the answer"
        )
    values = numeric_values(q.choices)
    if values is not None:
        result = calculation_result(text)
        if result is not None:
            value = _to_float(result)
            key_value = values[q.key - 1]
            if value is None or not any(
                same_value(value, q.choices[n - 1], values[n - 1]) for n in q.accepted
            ):
                return fail(
                    GuardReason.RESULT_NOT_KEY,
                    f"last result {result} != keyed value {key_value:g}",
                )
    if evidence_sent and not any(
        _about_choices(item["quote"], q, choice_words) for item in checked.kept
    ):
        if not (quotes.kept or quotes.dropped):
            return fail(
                GuardReason.UNGROUNDED, "evidence was sent and nothing was quoted"
            )
        if checked.kept:
            return fail(
                GuardReason.UNGROUNDED,
                "no kept quote is about the choices (only about the stem)",
            )
        return fail(
            GuardReason.UNGROUNDED,
            f"{quotes.dropped} quotes not verbatim, {irrelevant} not about "
            "the question",
        )
    if len(
        novel_words(text, q, instructions)
    ) < min_novel_words and not _quote_states_key(checked, q):
        return fail(
            GuardReason.NO_REASONING, "the text only restates the question and choices"
        )
    # Last, so that a text refused for another reason keeps that reason.
    misstated = misstated_choice(text, q)
    if misstated is not None:
        return fail(GuardReason.KEY_MISSTATED, misstated)
    echo = echoed_instruction(text, instructions)
    if echo is not None:
        return fail(GuardReason.TEXT_ECHOES_PROMPT, echo)
    return GuardVerdict(True, quotes=checked, quotes_irrelevant=irrelevant)


# "정답은 4번(…)입니다": a choice restated in brackets right after its number
# (the brackets may hold a sentence: matched on the text, not on sentences).
_RESTATED_CHOICE = re.compile(
    r"(?:정답|답)\s*(?:은|는|이|:)?\s*(?:([1-4])\s*번|([①②③④]))\s*\(([^()]{2,400})\)"
)
# At least this share of the bracket's content words must be the choice's.
RESTATED_MIN_SHARE = 0.5


def misstated_choice(text: str, q: QuestionView) -> str | None:
    """The first bracket that restates a declared choice with words mostly
    not that choice's ("정답은 4번(…적재함의 짐 윗면간을 … 설비를 설치하여야
    한다.)" for a choice about a robot), or None. A shortened or reworded
    restatement ("4번(계속 운전)") keeps the choice's words and passes."""
    for match in _RESTATED_CHOICE.finditer(text):
        digit, circled, said = match.groups()
        number = int(digit) if digit else _CIRCLED[circled]
        words = content_words(said, q.vocabulary)
        if not words:
            continue
        choice = re.sub(r"\s+", "", q.choices[number - 1])
        share = sum(word in choice for word in words) / len(words)
        if share < RESTATED_MIN_SHARE:
            return f"{number}번 restated as: {said}"[:300]
    return None


# A sentence that shares this many characters in a row with the prompt's
# instructions (and is mostly made of them) repeats an instruction.
ECHO_MIN_CHARS = 12
ECHO_MIN_SHARE = 0.6


# The markers the prompt wraps its evidence in ("<<D1: 제목>>", "<</Q2>>").
_PROMPT_MARKUP = re.compile(r"<</?[DQ]\d+\b")


def echoed_instruction(text: str, instructions: str) -> str | None:
    """The first sentence of the text that repeats one of the prompt's
    instructions (spaces ignored), or the place where it pastes one of the
    prompt's evidence blocks with their markers; None otherwise."""
    pasted = _PROMPT_MARKUP.search(text)
    if pasted is not None:  # the prompt's own data block, pasted back
        return text[max(0, pasted.start() - 40) : pasted.end() + 80]
    told = re.sub(r"\s+", "", instructions)
    if not told:
        return None
    for sentence in sentences(text):
        flat = re.sub(r"\s+", "", sentence)
        if len(flat) < ECHO_MIN_CHARS:
            continue
        match = SequenceMatcher(None, flat, told, autojunk=False).find_longest_match(
            0, len(flat), 0, len(told)
        )
        if match.size >= max(ECHO_MIN_CHARS, ECHO_MIN_SHARE * len(flat)):
            return sentence[:300]
    return None


_NOTE_DECLARATION = re.compile(
    r"(정답|답)\s*(은|는|이|:)?\s*(언제나|항상|늘|보통|대개)?\s*"
    r"(?:[1-4]\s*번|[①②③④]|보기\s*[1-4])"
    r"|(?:[1-4]\s*번|[①②③④])\s*(?:이|가|을|를)?\s*(?:정답|답)"
)


def note_text_guard(
    *, text: str, quotes: CheckedQuotes, q: QuestionView
) -> GuardVerdict:
    """A subject note is written without the key: it may not declare an
    answer at all, and its quotes must be about the subject's question."""
    checked, irrelevant = relevant_quotes(quotes, q)
    for sentence in sentences(text):
        if _NOTE_DECLARATION.search(sentence):
            named = _refs_by_number(sentence)
            code = (
                GuardReason.TEXT_NAMES_OTHER_CHOICE
                if named and not (named & q.accepted)
                else GuardReason.NOTE_NAMES_ANSWER
            )
            return GuardVerdict(False, code, sentence[:300], checked, irrelevant)
    if (quotes.kept or quotes.dropped) and not checked.kept:
        return GuardVerdict(
            False,
            GuardReason.UNGROUNDED,
            f"{quotes.dropped} quotes not verbatim, {irrelevant} not about "
            "the question",
            checked,
            irrelevant,
        )
    return GuardVerdict(True, quotes=checked, quotes_irrelevant=irrelevant)


def named_act(stem: str) -> str:
    """The act or rule a question names ("산업재해보상보험법", "건설업
    산업안전보건관리비 계상 및 사용기준(고용노동부 고시)"), or ""."""
    flat = normalise_ws(stem)
    named = re.findall(
        r"([가-힣A-Za-z·\s]{2,30}?(?:법률|법|시행령|시행규칙|규칙|규정|고시|기준|지침))"
        r"(?:령)?\s*(\([^)]{1,30}\))?\s*"
        r"(?:상|에\s*따라|에\s*따른|에서|의|에\s*의한|에\s*규정)",
        flat,
    )
    if not named:
        return ""
    name = normalise_ws("".join(named[0]))
    return re.sub(r"^(다음|다음은|다음\s*중)\s*", "", name)


# What a sentence says of a choice against the statute.
_SAYS_STATED = re.compile(
    r"(일치|규정되어\s*있|명시되어\s*있|정하고\s*있|정한\s*대로|그대로|"
    r"포함되어\s*있|포함됩니다|해당합니다|맞습니다|옳습니다|옳은\s*내용)"
)
_SAYS_NOT_STATED = re.compile(
    r"(다릅니다|다르다|달리|틀립니다|틀리다|틀린|잘못|없습니다|없다|없는\s*내용|"
    r"규정되어\s*있지\s*않|명시되어\s*있지\s*않|포함되지\s*않|해당하지\s*않|"
    r"아닙니다|아니다|어긋)"
)


def card_contradiction(text: str, q: QuestionView, marks: dict[int, str]) -> str | None:
    """The first sentence that says of a choice the opposite of what the
    근거 카드 found (``marks``: choice → match | differ | absent): stated
    where the card found it different, not stated (or different) where the
    card found it stated. An "absent" mark (the card found nothing) is not
    held against the text. The choices' own words are left out before
    reading what a sentence says."""
    for sentence in sentences(text):
        refs = choice_refs(sentence, q)
        if not refs:
            continue
        if _DECLARATION.search(sentence) and refs <= q.accepted and len(sentence) < 120:
            continue  # "정답은 3번(…)입니다": the declaration, checked above
        said = sentence
        for choice in q.choices:
            if len(choice.strip()) >= 2:
                said = said.replace(choice.strip(), " ")
        says_not = bool(_SAYS_NOT_STATED.search(said))
        says_stated = bool(_SAYS_STATED.search(said)) and not says_not
        for ref in refs:
            mark = marks.get(ref)
            if (says_not and mark == "match") or (says_stated and mark == "differ"):
                return sentence
    return None


def act_key(name: str) -> str:
    """A statute's name reduced to its letters: "산업안전보건기준에 관한 규칙",
    "산업안전보건기준에관한규칙" and a file's stem compare equal."""
    return re.sub(r"[^가-힣A-Za-z]", "", name)


def act_loaded(name: str, titles: Sequence[str]) -> bool:
    """True when the act is one of the documents (by title), or the head of
    one: "산업안전보건법" (as "산업안전보건법령상" names it) is loaded when the
    법, its 시행령 or its 시행규칙 is."""
    key = act_key(name)
    return bool(key) and any(act_key(title).startswith(key) for title in titles)


def missing_document_hint(subject: str, stem: str, loaded: Sequence[str] = ()) -> str:
    """What kind of document would let the explanation be grounded, read from
    the question itself: the act or rule the stem names, else the subject.
    When that act is already among the topic's documents (`loaded`, their
    titles), uploading it again would not help: what decides the question is
    then in a part the documents do not hold (an annex, a 고시)."""
    name = named_act(stem)
    if name and act_loaded(name, loaded):
        return (
            f"{name}의 별표나 고시 원문 (올린 {name} 조문에서는 이 문제를 가르는 "
            "구절을 찾지 못했습니다)"
        )
    if name:
        return f"{name} 원문 (법령·고시는 조문이 든 텍스트나 PDF)"
    if subject:
        return f"'{subject}' 과목의 교재나 요약 자료"
    return "이 문제의 주제를 다루는 교재나 법령 원문"


# "산업안전보건법 시행규칙 제43조", "건설기술 진흥법 제62조": a statute named
# with an article. Names end in 법 (or 법률); the 시행령/시행규칙 is kept.
_LAW_CITATION = re.compile(
    r"((?:[가-힣]+\s)?[가-힣]+(?:법률|법))(\s*시행령|\s*시행규칙)?\s*제\s*(\d+)\s*조"
)


def law_citation_outside(text: str, sources: list[str], stem: str) -> str | None:
    """The first statute the text cites by name and article that the
    passages sent do not hold: its name is in no passage (title or text) nor
    in the question, or that article of it is in no passage title. The prompt
    forbids naming statutes the passages do not hold; a small model invents
    them ("건설안전보건법 시행규칙 제43조제2항")."""
    haystack = normalise_ws(" ".join(sources))
    compact = haystack.replace(" ", "")
    stem = stem.replace(" ", "")
    for match in _LAW_CITATION.finditer(text):
        words = match.group(1).split()
        # "건설기술 진흥법" or, after a word that is not part of it ("따라서
        # 산업안전보건법"), the last word alone
        names = {"".join(words), words[-1]}
        held = [n for n in names if n in compact or n in stem]
        decree = (match.group(2) or "").strip()
        cited = words[-1] + match.group(0)[len(match.group(1)) :]
        if not held:
            return normalise_ws(cited)
        if not any(f"{n}{decree}제{match.group(3)}조" in compact for n in held):
            return normalise_ws(cited)  # the statute is there, not this article
    return None


# "제274조", "제39조의2": an article named in a text or a passage's title.
_ARTICLE = re.compile(r"제\s*(\d+)\s*조(?:\s*의\s*(\d+))?")
# A run of this many characters (spaces aside) shared with a passage is that
# passage's wording, not a phrase every article uses ("설치하여야 한다").
COPIED_MIN_CHARS = 25
# What a passage defines right before the words copied: '"승강기"란', '승객용
# 엘리베이터:' (spaces removed); and what a sentence gives them to: '리프트는'.
_DEFINED = re.compile(r"[\"“”']?([가-힣A-Za-z0-9ㆍ·]{2,20})[\"“”']?(?:이란|란|:)$")
_SUBJECT = re.compile(r"([가-힣A-Za-z0-9ㆍ·]{2,30})(?:은|는|이란|란|:)$")


def _articles(text: str) -> set[str]:
    return {f"{m.group(1)}-{m.group(2) or ''}" for m in _ARTICLE.finditer(text)}


@dataclass(frozen=True)
class _Copy:
    """The longest run a sentence (compact) shares with one of the passages."""

    size: int
    start: int  # in the sentence
    body: str  # the passage it is in (compact), the first such
    at: int  # where in that passage
    articles: set[str]  # the articles of every passage that holds the run


def _longest_copy(compact: str, bodies: list[tuple[set[str], str]]) -> _Copy:
    best = _Copy(0, 0, "", 0, set())
    for articles, body in bodies:
        match = SequenceMatcher(None, compact, body, autojunk=False)
        found = match.find_longest_match(0, len(compact), 0, len(body))
        if found.size > best.size:
            best = _Copy(found.size, found.a, body, found.b, set(articles))
        elif found.size == best.size and found.size:
            best.articles.update(articles)  # the same words in two passages
    return best


def misattributed_passage(
    text: str, passages: Sequence[tuple[str, str]], choices: Sequence[str] = ()
) -> str | None:
    """The first sentence that gives a passage's wording to what the passage
    does not give it to, or None. `passages` are (title, text) of the
    documents sent. A sentence counts when it copies a run of
    COPIED_MIN_CHARS from a passage and

    - names, outside that run, only articles other than that passage's
      ("제274조는 … 화염방지기를 설치해야 한다": 제269조's words under the
      heading of 제274조); an article named inside the copied run is the
      passage's own cross-reference and says nothing; or
    - gives them to a choice ("리프트는 건축물이나 고정된 시설물에 설치되어 …")
      where the passage defines another term with them ('"승강기"란 건축물이나
      …'): a learner reads the choice defined as what it is not."""
    bodies = [
        (_articles(title), normalise_ws(body).replace(" ", ""))
        for title, body in passages
        if title
    ]
    in_articles = [body for body in bodies if body[0]]
    terms = {c for c in (normalise_ws(x).replace(" ", "") for x in choices) if c}
    for sentence in sentences(text):
        compact = normalise_ws(sentence).replace(" ", "")
        if len(compact) < COPIED_MIN_CHARS:
            continue
        copy = None
        if _ARTICLE.search(compact):  # else it names no article to compare
            copy = _longest_copy(compact, in_articles)
            if copy.size >= COPIED_MIN_CHARS:
                before = compact[: copy.start]
                named = _articles(before + " " + compact[copy.start + copy.size :])
                if named and not (named & copy.articles):
                    return sentence
        if not terms:
            continue
        if copy is None or len(in_articles) < len(bodies):  # else the same search
            copy = _longest_copy(compact, bodies)
        if copy.size < COPIED_MIN_CHARS:
            continue
        subject = _SUBJECT.search(compact[: copy.start])
        defined = _DEFINED.search(copy.body[: copy.at])
        if subject is None or defined is None:
            continue
        term = defined.group(1)
        given = [c for c in terms if subject.group(1).endswith(c)]
        if given and all(c not in term and term not in c for c in given):
            return sentence
    return None
