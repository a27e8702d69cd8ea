"""Why an import row was rejected: a code and its parameters, stored as such,
and put into words in the reader's language only when shown (the import page,
the report file of the web and of `import_questions --report`).

A pure core: no database, no request.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# A value quoted from the file is cut to this length in a reason, so that a
# report's size depends on the number of rows it lists, not on the file.
VALUE_MAX_CHARS = 60


class Reason:
    """The codes (a closed vocabulary; reports store these)."""

    UNREADABLE_CSV = "unreadable_csv"
    FIELD_TOO_LONG = "field_too_long"
    LINE_TOO_LONG = "line_too_long"
    TOO_MANY_SKIPPED_LINES = "too_many_skipped_lines"
    WRONG_FIELD_COUNT = "wrong_field_count"
    INVALID_JSON = "invalid_json"
    JSON_NOT_OBJECT = "json_not_object"
    JSON_TOO_DEEP = "json_too_deep"
    JSON_NOT_TEXT = "json_not_text"
    CHOICES_NOT_FOUR = "choices_not_four"
    MISSING_VALUE = "missing_value"
    NOT_A_NUMBER = "not_a_number"
    BAD_SESSION = "bad_session"
    INVALID_ANSWER = "invalid_answer"
    EMPTY_QUESTION = "empty_question"
    EMPTY_CHOICE = "empty_choice"
    CORRUPTED_TEXT = "corrupted_text"
    NUL_CHARACTER = "nul_character"
    TEXT_TOO_LONG = "text_too_long"
    DUPLICATE = "duplicate"
    QUESTION_DELETED = "question_deleted"


# The columns a reason may name, as the reader knows them.
FIELD_LABELS = {
    "exam": _("시험명"),
    "year": _("연도"),
    "session": _("회차"),
    "subject": _("과목"),
    "scope": _("범위"),
    "number": _("번호"),
    "question": _("문제"),
    "option1": _("보기1"),
    "option2": _("보기2"),
    "option3": _("보기3"),
    "option4": _("보기4"),
    "answer": _("정답"),
    "explanation": _("해설"),
}

# code → (the kind, as the reasons table groups rows; the whole reason)
MESSAGES = {
    Reason.UNREADABLE_CSV: (
        _("CSV로 읽을 수 없는 행"),
        _("CSV로 읽을 수 없는 행입니다 (따옴표나 줄바꿈이 맞지 않습니다)."),
    ),
    Reason.FIELD_TOO_LONG: (
        _("너무 긴 칸"),
        _("한 칸이 %(max)s자를 넘습니다."),
    ),
    Reason.LINE_TOO_LONG: (
        _("너무 긴 줄"),
        _("한 줄이 %(max)s자를 넘습니다."),
    ),
    Reason.TOO_MANY_SKIPPED_LINES: (
        _("문제가 아닌 줄이 너무 많음"),
        _(
            "빈 줄이나 문제가 아닌 줄이 %(max)s줄을 넘어 이 파일의 나머지는 "
            "읽지 않았습니다."
        ),
    ),
    Reason.WRONG_FIELD_COUNT: (
        _("칸 수가 맞지 않음"),
        _("칸이 %(found)s개입니다 (%(expected)s개여야 합니다)."),
    ),
    Reason.INVALID_JSON: (
        _("JSON으로 읽을 수 없는 줄"),
        _("JSON으로 읽을 수 없는 줄입니다."),
    ),
    Reason.JSON_NOT_OBJECT: (
        _("JSON 객체가 아닌 줄"),
        _("줄이 JSON 객체({…})가 아닙니다."),
    ),
    Reason.JSON_TOO_DEEP: (
        _("너무 깊게 중첩된 JSON"),
        _("JSON이 %(max)s단계보다 깊게 중첩되어 있습니다."),
    ),
    Reason.JSON_NOT_TEXT: (
        _("글이 아닌 JSON 값"),
        _("%(field)s 값이 글이나 숫자가 아닙니다."),
    ),
    Reason.CHOICES_NOT_FOUR: (
        _("보기가 4개가 아님"),
        _("choices는 글 4개의 목록이어야 합니다."),
    ),
    Reason.MISSING_VALUE: (
        _("빈 칸: %(field)s"),
        _("%(field)s 칸이 비어 있습니다."),
    ),
    Reason.NOT_A_NUMBER: (
        _("숫자가 아닌 값: %(field)s"),
        _("%(field)s 값이 올바른 숫자가 아닙니다: %(value)s"),
    ),
    Reason.BAD_SESSION: (
        _("회차로 읽을 수 없음"),
        _("회차로 읽을 수 없습니다: %(value)s (예: 3, 1,2, A, 가, 1 추가시험)"),
    ),
    Reason.INVALID_ANSWER: (
        _("올바르지 않은 정답"),
        _("정답은 1~4 중 하나이거나 쉼표로 나눈 번호여야 합니다: %(value)s"),
    ),
    Reason.EMPTY_QUESTION: (
        _("빈 문제"),
        _("문제가 비어 있습니다."),
    ),
    Reason.EMPTY_CHOICE: (
        _("빈 보기"),
        _("보기 %(n)s 칸이 비어 있습니다 (그림 문제라면 그림 칸에 표시하세요)."),
    ),
    Reason.CORRUPTED_TEXT: (
        _("깨진 글자"),
        _("%(field)s 칸에 깨진 글자(U+FFFD)가 있습니다. 파일 인코딩을 확인하세요."),
    ),
    Reason.NUL_CHARACTER: (
        _("NUL 문자"),
        _("%(field)s 칸에 NUL 문자가 있습니다."),
    ),
    Reason.TEXT_TOO_LONG: (
        _("너무 긴 글"),
        _("%(field)s 칸이 %(length)s자로 너무 깁니다 (최대 %(max)s자)."),
    ),
    Reason.DUPLICATE: (
        _("중복"),
        _("%(file)s %(line)s번째 줄과 같은 문제입니다."),
    ),
    Reason.QUESTION_DELETED: (
        _("삭제된 문제"),
        _("삭제된 문제입니다. 먼저 되살리세요."),
    ),
}


def storable(text: str) -> str:
    """Text a jsonb column accepts: no NUL, no lone surrogate (a JSON Lines
    file can spell both)."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def quoted(value: object) -> str:
    """A value from the file as a reason quotes it: cut, and in quotes."""
    text = str(value)
    if len(text) > VALUE_MAX_CHARS:
        text = text[:VALUE_MAX_CHARS] + "…"
    return repr(text)


@dataclass(frozen=True)
class RejectionReason:
    code: str
    params: dict

    def _values(self) -> dict:
        values = dict(self.params)
        if "field" in values:
            values["field"] = str(FIELD_LABELS.get(values["field"], values["field"]))
        if "value" in values:
            values["value"] = quoted(values["value"])
        return values

    def _format(self, template: str | Promise) -> str:
        try:
            return str(template) % self._values()
        except (KeyError, TypeError, ValueError):  # a report from another version
            return str(template)

    @property
    def kind(self) -> str:
        """What the reasons table groups by, in the active language."""
        known = MESSAGES.get(self.code)
        return self._format(known[0]) if known else self.code

    @property
    def text(self) -> str:
        """The whole reason, in the active language. A code this version does
        not know (a report written by an older one) is shown as it is."""
        known = MESSAGES.get(self.code)
        return self._format(known[1]) if known else self.code


# Why a whole run failed (QuestionImport.error_code, study.models.ImportFailure).
FAILURE_MESSAGES = {
    "too_many_rows": _(
        "파일의 행이 %(max)s개를 넘어 가져오지 않았습니다. 파일을 나누어 올리세요."
    ),
    "files_gone": _("올린 파일을 보관 기간이 지나 지웠습니다. 파일을 다시 올리세요."),
    "report_not_saved": _("보고서를 저장하지 못했습니다 (%(error)s). 다시 시도하세요."),
    "enqueue_failed": _("작업 큐에 넣지 못했습니다: %(error)s"),
    "unexpected": _("가져오는 중 오류가 났습니다: %(error)s"),
}


def failure_text(code: str, params: dict, fallback: str = "") -> str:
    """A failed run's reason in the active language; a run that failed before
    reasons were codes keeps its stored text (`fallback`)."""
    template = FAILURE_MESSAGES.get(code)
    if template is None:
        return fallback
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)
