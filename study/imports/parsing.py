"""Parsing of past-exam files (CSV and JSON Lines) into validated rows.

Real files are messy; every data row ends up either as a ParsedRow or as a
Rejection with its file, line and reason (a code and its parameters, see
study.imports.reasons), so that nothing is lost silently.

Files are read as a stream: memory does not grow with the file. A line, a
CSV field and a JSON value each have a bound, and what exceeds it is one
rejected row, never the end of the import.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from study import rounds
from study.imports.reasons import (
    VALUE_MAX_CHARS,
    Reason,
    RejectionReason,
    storable,
)
from study.json_input import JSONInputError, json_loads_bounded
from study.models.question import TEXT_LIMITS
from study.numbers import is_ascii_digits
from study.templatetags.study_markdown import MATH_SPAN

CANONICAL_COLUMNS = [
    "exam",
    "year",
    "session",
    "subject",
    "number",
    "question",
    "image",
    "option1",
    "option2",
    "option3",
    "option4",
    "answer",
]
_HEADER_ALIASES = {
    "testname": "exam",
    "exam": "exam",
    "examname": "exam",
    "year": "year",
    "session": "session",
    "round": "session",
    "subject": "subject",
    "scope": "scope",
    "number": "number",
    "no": "number",
    "question": "question",
    "questionimage": "image",
    "image": "image",
    "option1": "option1",
    "option2": "option2",
    "option3": "option3",
    "option4": "option4",
    "answer": "answer",
    "law": "law",
    "explanation": "explanation",
    # A separate booklet-form column (형별) joins the session: 1 + A → 1회 A형.
    "form": "form",
    "type": "form",
    "booklet": "form",
    "형별": "form",
    "책형": "form",
    # Korean headers.
    "시험명": "exam",
    "시험": "exam",
    "연도": "year",
    "년도": "year",
    "회차": "session",
    "과목": "subject",
    "번호": "number",
    "문제": "question",
    "문항": "question",
    "그림": "image",
    "이미지": "image",
    "보기1": "option1",
    "보기2": "option2",
    "보기3": "option3",
    "보기4": "option4",
    "정답": "answer",
    "해설": "explanation",
}
_NO_FIGURE_MARKERS = {"", "x", "n", "no", "none", "false", "0", "-", "text_only"}
# A choice that is only a pointer to a figure: `image_2020_3_4_1`, `fig1.png`,
# `![](a.png)`, `<img src=…>`, `[그림]`, `(이미지 2)`.
_FIGURE_CHOICE = re.compile(
    r"^(image_[\w.-]+|[\w./-]+\.(png|jpe?g|gif|svg|webp)|!\[[^\]]*\]\([^)]*\)"
    r"|<img\b[^>]*>|[\[(<]?\s*(그림|이미지|image|img|figure)\s*\d*\s*[\])>]?)$",
    re.IGNORECASE,
)
# A field longer than this rejects its row. Python's csv module stops reading
# a field at its (process-wide) field_size_limit and raises for that row only,
# so an unclosed quote costs at most this much memory, not the rest of a file.
FIELD_MAX_CHARS = 131_072
# A line longer than this (a row has at most a dozen fields) is skipped
# without being held in memory, and rejects the row it belongs to.
LINE_MAX_CHARS = 16 * FIELD_MAX_CHARS
# Lines that are no row (blank, junk before the header) are read through, up
# to this many plus one per row: past it the rest of the file is not read
# (100 MB of blank lines would otherwise be minutes of work for nothing).
SKIPPED_LINES_MAX = 10_000
# A JSON Lines record is an object of strings, numbers and a list or two.
JSON_MAX_DEPTH = 4
_READ_CHUNK = 1 << 20
# A literal backslash-n written by an exporter ("것은?\n\nO 심박동수", "\nR(t)",
# "\np : 확률"): a line break, except in math, where a letter after it is
# LaTeX (\nu, \neq).
_LITERAL_NEWLINE = re.compile(r"\\n")
_LITERAL_NEWLINE_IN_MATH = re.compile(r"\\n(?![A-Za-z])")
_ANSWER = re.compile(r"^[1-4](\s*,\s*[1-4])*$")
# A lone surrogate (JSON can spell "\ud800") cannot be stored as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class ParsedRow:
    file: str
    line: int
    exam_name: str
    year: int
    session: str
    number: int
    subject: str
    stem: str
    choices: list[str]
    correct_choice: int
    accepted_choices: str
    needs_figure: bool
    scope: str = ""
    explanation: str = ""
    # Set by the importer when a subject alias filed the row under `subject`.
    subject_original: str = ""

    @property
    def key(self) -> tuple[int, str, int]:
        return (self.year, self.session, self.number)


@dataclass
class Rejection:
    """A row that is not imported: `code` (study.imports.reasons.Reason) and
    its `params`; `reason` puts them into words in the active language."""

    file: str
    line: int
    code: str
    params: dict = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return RejectionReason(self.code, self.params).text

    def as_dict(self) -> dict:
        """As a report stores it (text from the file made storable)."""
        params = {
            k: storable(v) if isinstance(v, str) else v for k, v in self.params.items()
        }
        return {
            "file": storable(self.file),
            "line": self.line,
            "code": self.code,
            "params": params,
        }


@dataclass
class RawRecord:
    file: str
    line: int
    values: dict = field(default_factory=dict)


class RowError(ValueError):
    """A row that cannot be imported: a reason code and its parameters."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        return RejectionReason(self.code, self.params).text


def parse_file(path: Path) -> Iterator[ParsedRow | Rejection]:
    """Yield a ParsedRow or a Rejection for every data row of a CSV or JSONL file."""
    with Path(path).open("rb") as stream:
        yield from parse_stream(str(path), stream)


def parse_bytes(name: str, data: bytes) -> Iterator[ParsedRow | Rejection]:
    """The same for a file's content; `name` goes into rejections."""
    return parse_stream(name, io.BytesIO(data))


def parse_stream(name: str, stream: BinaryIO) -> Iterator[ParsedRow | Rejection]:
    """The same for an open binary file (seekable), read as a stream."""
    encoding, errors = sniff_encoding(stream)
    text = io.TextIOWrapper(stream, encoding=encoding, errors=errors, newline="")
    try:
        lines = _BoundedLines(text)
        if is_json_lines(name, lines.peek()):
            records = _jsonl_records(name, lines)
        else:
            records = _csv_records(name, lines)
        for record in records:
            if isinstance(record, Rejection):
                yield record
                continue
            try:
                yield validate_record(record)
            except RowError as exc:
                yield Rejection(record.file, record.line, exc.code, exc.params)
    finally:
        text.detach()  # the caller closes the stream


def is_json_lines(name: str, start: str) -> bool:
    """By the name, else by the first character of the file (`start`)."""
    if Path(name).suffix.lower() in {".jsonl", ".ndjson"}:
        return True
    return Path(name).suffix.lower() != ".csv" and start.lstrip().startswith("{")


def sniff_encoding(stream: BinaryIO) -> tuple[str, str]:
    """(encoding, errors) for the whole file, decided by reading it through once
    or twice in chunks: UTF-8 (with or without BOM), else CP949, else UTF-8
    with undecodable bytes as U+FFFD (their rows are rejected)."""
    for encoding in ("utf-8-sig", "cp949"):
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := stream.read(_READ_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        stream.seek(0)
        return encoding, "strict"
    stream.seek(0)
    return "utf-8-sig", "replace"


class _BoundedLines:
    """The lines of a text stream, none longer than LINE_MAX_CHARS in memory.

    A longer line is read through and dropped: in its place comes an empty
    line, and its number is noted in `too_long` for the reader to reject the
    row it belonged to. `number` is the number of the last line given out."""

    def __init__(self, text: io.TextIOBase) -> None:
        self.text = text
        self.number = 0
        self.too_long: list[int] = []
        self._peeked: str | None = None

    def peek(self) -> str:
        """The first line, still to be given out."""
        if self._peeked is None:
            self._peeked = self._read()
        return self._peeked

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self._peeked if self._peeked is not None else self._read()
        self._peeked = None
        if not line:
            raise StopIteration
        self.number += 1
        if line is _TOO_LONG:
            self.too_long.append(self.number)
            return "\n"
        return line

    def _read(self) -> str:
        line = self.text.readline(LINE_MAX_CHARS)
        if len(line) < LINE_MAX_CHARS or line.endswith(("\n", "\r")):
            return line
        while True:  # drop the rest of the line without holding it
            rest = self.text.readline(LINE_MAX_CHARS)
            if not rest or rest.endswith(("\n", "\r")):
                return _TOO_LONG

    def take_too_long(self, up_to: int) -> int | None:
        """The first over-long line at or before line `up_to`, forgetting those."""
        found = [n for n in self.too_long if n <= up_to]
        if not found:
            return None
        self.too_long = [n for n in self.too_long if n > up_to]
        return found[0]


_TOO_LONG = "\x00 line too long \x00"


def decode_bytes(raw: bytes) -> str:
    """UTF-8 (with or without BOM); CP949 when that is what the file is."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp949")
    except UnicodeDecodeError:
        # Undecodable bytes become U+FFFD and those rows are rejected.
        return raw.decode("utf-8-sig", errors="replace")


def _normalise_header_cell(cell: str) -> str:
    return re.sub(r"[\s_\-.]", "", cell.strip().lower())


def _header_columns(cells: list[str]) -> list[str] | None:
    columns = [_HEADER_ALIASES.get(_normalise_header_cell(c), "") for c in cells]
    known = {c for c in columns if c}
    if {"question", "answer"} <= known and len(known) >= 6:
        return columns
    return None


def _is_blank_or_fence(cells: list[str]) -> bool:
    joined = "".join(cells).strip()
    return not joined or (len(cells) == 1 and joined.startswith("```"))


def _csv_rows(reader: Iterator[list[str]]) -> Iterator[list[str] | csv.Error]:
    """The reader's rows; a row the csv module cannot read comes as its error."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield exc


def _csv_records(name: str, lines: _BoundedLines) -> Iterator[RawRecord | Rejection]:
    csv.field_size_limit(FIELD_MAX_CHARS)
    reader = csv.reader(lines)
    columns: list[str] | None = None
    header_seen = False
    last_line = 0
    skipped = _SkippedLines(name)
    for cells in _csv_rows(reader):
        line, last_line = last_line + 1, reader.line_num
        if lines.take_too_long(last_line) is not None:
            yield skipped.row(
                Rejection(name, line, Reason.LINE_TOO_LONG, {"max": LINE_MAX_CHARS})
            )
            continue
        if isinstance(cells, csv.Error):
            yield skipped.row(_csv_error(name, line, cells))
            continue
        if _is_blank_or_fence(cells) or not header_seen and len(cells) < 8:
            if not header_seen and _header_columns(cells) is not None:
                columns, header_seen = _header_columns(cells), True
            elif (stop := skipped.too_many(line)) is not None:
                yield stop
                return
            continue
        if not header_seen:
            header = _header_columns(cells)
            if header is not None:
                columns, header_seen = header, True
                continue
            columns, header_seen = CANONICAL_COLUMNS, True  # no header row
        yield skipped.row(_csv_record(name, line, cells, columns or CANONICAL_COLUMNS))


def _csv_error(name: str, line: int, error: csv.Error) -> Rejection:
    if str(error).startswith("field larger than field limit"):
        return Rejection(name, line, Reason.FIELD_TOO_LONG, {"max": FIELD_MAX_CHARS})
    return Rejection(name, line, Reason.UNREADABLE_CSV, {"detail": str(error)[:200]})


def _csv_record(
    name: str, line: int, cells: list[str], columns: list[str]
) -> RawRecord | Rejection:
    core = list(cells)
    while core and not core[-1].strip():
        core.pop()
    expected = len(columns)
    while columns and len(core) < expected and not columns[len(core)]:
        core.append("")  # unnamed trailing header columns
    if len(core) == expected - 1 and _image_column_dropped(core, columns):
        core.insert(columns.index("image"), "")
    if len(core) > expected or (len(core) < expected and len(cells) < expected):
        return Rejection(
            name,
            line,
            Reason.WRONG_FIELD_COUNT,
            {"found": len(cells), "expected": expected},
        )
    core += [""] * (expected - len(core))
    values = {col: value for col, value in zip(columns, core, strict=True) if col}
    return RawRecord(name, line, values)


def _image_column_dropped(core: list[str], columns: list[str]) -> bool:
    """A row whose figure column is missing: its choices and answer shifted left."""
    if "image" not in columns or "answer" not in columns:
        return False
    image_at = columns.index("image")
    if columns.index("answer") != len(columns) - 1 or image_at >= len(core):
        return False
    image_value = core[image_at].strip().lower()
    return (
        bool(image_value)
        and image_value not in _NO_FIGURE_MARKERS
        and image_value != "o"
        and bool(_ANSWER.match(core[-1].strip()))
    )


def _jsonl_records(name: str, lines: _BoundedLines) -> Iterator[RawRecord | Rejection]:
    skipped = _SkippedLines(name)
    for line in lines:
        line_no = lines.number
        if lines.take_too_long(line_no) is not None:
            yield skipped.row(
                Rejection(name, line_no, Reason.LINE_TOO_LONG, {"max": LINE_MAX_CHARS})
            )
            continue
        if not line.strip():
            if (stop := skipped.too_many(line_no)) is not None:
                yield stop
                return
            continue
        try:
            yield skipped.row(_jsonl_record(name, line_no, line))
        except RowError as exc:
            yield skipped.row(Rejection(name, line_no, exc.code, exc.params))


class _SkippedLines:
    """Counts the lines of a file that are no row, against SKIPPED_LINES_MAX
    plus one per row read."""

    def __init__(self, name: str) -> None:
        self.name, self.skipped, self.rows = name, 0, 0

    def row(self, item: RawRecord | Rejection) -> RawRecord | Rejection:
        self.rows += 1
        return item

    def too_many(self, line: int) -> Rejection | None:
        """Count one more such line; past the bound, the file's last rejection."""
        self.skipped += 1
        if self.skipped <= SKIPPED_LINES_MAX + self.rows:
            return None
        return Rejection(
            self.name, line, Reason.TOO_MANY_SKIPPED_LINES, {"max": SKIPPED_LINES_MAX}
        )


def _jsonl_record(name: str, line_no: int, line: str) -> RawRecord:
    try:
        obj = json_loads_bounded(line, max_depth=JSON_MAX_DEPTH)
    except JSONInputError as exc:
        if exc.code == "too_deep":
            raise RowError(Reason.JSON_TOO_DEEP, max=JSON_MAX_DEPTH) from exc
        raise RowError(Reason.INVALID_JSON, detail=str(exc)) from exc
    if not isinstance(obj, dict):
        raise RowError(Reason.JSON_NOT_OBJECT)
    values = _jsonl_values(obj)
    longest = max(map(len, values.values()), default=0)
    if longest > FIELD_MAX_CHARS:
        raise RowError(Reason.FIELD_TOO_LONG, max=FIELD_MAX_CHARS)
    return RawRecord(name, line_no, values)


def _jsonl_scalar(key: str, value: object) -> str:
    """A field's text: strings, numbers and booleans are; nothing else is."""
    if value is None:
        return ""
    if isinstance(value, str | int | float | bool):
        return str(value)
    raise RowError(Reason.JSON_NOT_TEXT, field=key)


def _jsonl_values(obj: dict) -> dict:
    choices = obj.get("choices")
    values = {
        "exam": obj.get("exam", ""),
        "year": obj.get("year", ""),
        "session": obj.get("session", ""),
        "form": obj.get("form", ""),
        "number": obj.get("number", ""),
        "subject": obj.get("subject", ""),
        "scope": obj.get("scope", ""),
        "question": obj.get("question", ""),
        "image": obj.get("image", ""),
        "answer": obj.get("answer", ""),
        "explanation": obj.get("explanation", ""),
    }
    if isinstance(choices, list) and len(choices) == 4:
        for i, choice in enumerate(choices, start=1):
            values[f"option{i}"] = choice
    else:
        values["choices_error"] = Reason.CHOICES_NOT_FOUR
    if isinstance(values["answer"], list):
        answers = values["answer"]
        values["answer"] = ",".join(_jsonl_scalar("answer", a) for a in answers)
    if isinstance(values["image"], bool):
        values["image"] = "O" if values["image"] else ""
    return {k: _jsonl_scalar(k, v) for k, v in values.items()}


def clean_text(value: str) -> str:
    value = value.replace("\r\n", "\n")
    if "\\n" in value:
        value = "".join(
            (_LITERAL_NEWLINE_IN_MATH if in_math else _LITERAL_NEWLINE).sub("\n", part)
            for in_math, part in _math_split(value)
        )
    return value.strip()


def _math_split(value: str) -> Iterator[tuple[bool, str]]:
    """`value` in pieces, each with whether it is a math span as the
    question renderer reads them."""
    for index, part in enumerate(MATH_SPAN.split(value)):
        yield index % 2 == 1, part


def validate_record(record: RawRecord) -> ParsedRow:
    v = record.values
    if v.get("choices_error"):
        raise RowError(v["choices_error"])  # a Reason code
    year = _parse_year(v.get("year", ""))
    parts = (v.get(k, "").strip() for k in ("session", "form"))
    session = parse_session(" ".join(p for p in parts if p))
    number = _parse_int(_strip_unit(v.get("number", ""), "번"), "number", 1, 9999)
    texts = {k: clean_text(v.get(k, "")) for k in _TEXT_FIELDS}
    _check_texts(texts)
    needs_figure = _refers_to_figure(v.get("image", ""), texts)
    if not texts["question"]:
        raise RowError(Reason.EMPTY_QUESTION)
    for i in range(1, 5):
        if not texts[f"option{i}"] and not needs_figure:
            raise RowError(Reason.EMPTY_CHOICE, n=i)
    correct, accepted = parse_answer(v.get("answer", ""))
    return ParsedRow(
        file=record.file,
        line=record.line,
        exam_name=texts["exam"],
        year=year,
        session=session,
        number=number,
        subject=texts["subject"],
        scope=texts["scope"],
        stem=texts["question"],
        choices=[texts[f"option{i}"] for i in range(1, 5)],
        correct_choice=correct,
        accepted_choices=accepted,
        needs_figure=needs_figure,
        explanation=texts["explanation"],
    )


_TEXT_FIELDS = (
    "exam",
    "subject",
    "scope",
    "question",
    "option1",
    "option2",
    "option3",
    "option4",
    "explanation",
)


_FIELD_NAMES = {"exam": "exam_name"}  # report keys → column names
_LIMITED_FIELDS = ("exam", "subject", "scope")


def _check_texts(texts: dict) -> None:
    """What PostgreSQL or the columns would refuse is a row's reason, not a crash."""
    joined = "".join(texts.values())
    if "\ufffd" in joined or "\x00" in joined or _SURROGATE.search(joined):
        for key, value in texts.items():
            if "\ufffd" in value or _SURROGATE.search(value):
                raise RowError(Reason.CORRUPTED_TEXT, field=key)
            if "\x00" in value:
                raise RowError(Reason.NUL_CHARACTER, field=key)
    for key in _LIMITED_FIELDS:
        limit, value = TEXT_LIMITS[_FIELD_NAMES.get(key, key)], texts[key]
        if len(value) > limit:
            raise RowError(
                Reason.TEXT_TOO_LONG, field=key, length=len(value), max=limit
            )


def _refers_to_figure(image_value: str, texts: dict) -> bool:
    """A figure column that says so, a choice that points to a figure, or four
    choices with no text at all (they were figures the source could not hold)."""
    if image_value.strip().lower() not in _NO_FIGURE_MARKERS:
        return True
    choices = [texts[f"option{i}"] for i in range(1, 5)]
    if any(_is_figure_marker(c) for c in choices):
        return True
    return all(not c for c in choices)


_MARKER_STARTS = tuple("[(<!") + ("image", "img", "figure", "그림", "이미지")


def _is_figure_marker(choice: str) -> bool:
    """The regex only for what could be a marker (it runs on every choice)."""
    if not choice or len(choice) > 200:
        return False
    lowered = choice.lower()
    if not (lowered.startswith(_MARKER_STARTS) or "." in lowered):
        return False
    return bool(_FIGURE_CHOICE.match(choice))


def _parse_int(value: str, label: str, low: int, high: int) -> int:
    value = value.strip()
    if not value:
        raise RowError(Reason.MISSING_VALUE, field=label)
    if not is_ascii_digits(value) or not low <= int(value) <= high:
        raise RowError(Reason.NOT_A_NUMBER, field=label, value=_cut(value))
    return int(value)


def _cut(value: str) -> str:
    """What a reason quotes of a value (reports stay small)."""
    return value[: VALUE_MAX_CHARS + 1]


def _strip_unit(value: str, unit: str) -> str:
    """`2019년` → `2019`, `3번` → `3`."""
    value = value.strip()
    return value[: -len(unit)].strip() if value.endswith(unit) else value


def _parse_year(value: str) -> int:
    return _parse_int(_strip_unit(value, "년"), "year", 1950, 2100)


def parse_session(value: str) -> str:
    """The canonical session label (study.rounds): '3', '1,2', 'A', '가', '1추가'."""
    try:
        return rounds.session_normalise(value)
    except rounds.SessionLabelError as exc:
        if not value.strip():
            raise RowError(Reason.MISSING_VALUE, field="session") from exc
        raise RowError(Reason.BAD_SESSION, value=_cut(value)) from exc


def parse_answer(value: str) -> tuple[int, str]:
    """'3' → (3, ''); '2,4' → (2, '2,4'); empty or anything else is an error."""
    value = value.strip()
    if not value:
        raise RowError(Reason.MISSING_VALUE, field="answer")
    if not _ANSWER.match(value):
        raise RowError(Reason.INVALID_ANSWER, value=_cut(value))
    answers = sorted({int(a) for a in value.split(",")})
    if len(answers) == 1:
        return answers[0], ""
    return answers[0], ",".join(str(a) for a in answers)
