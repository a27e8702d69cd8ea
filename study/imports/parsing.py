"""Parsing of past-exam files (CSV and JSON Lines) into validated rows.

Real files are messy; every data row ends up either as a ParsedRow or as a
Rejection with its file, line and reason, so that nothing is lost silently.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from study import rounds
from study.models.question import TEXT_LIMITS
from study.numbers import is_ascii_digits

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
# Python's csv refuses fields over 131,072 characters by raising, which would
# abort the whole file; fields are read whole and a row with one this long
# is rejected on its own.
FIELD_MAX_CHARS = 131_072
# A literal backslash-n written by an exporter, but not LaTeX such as \nu.
_LITERAL_NEWLINE = re.compile(r"\\n(?![A-Za-z])")
_ANSWER = re.compile(r"^[1-4](\s*,\s*[1-4])*$")


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
    file: str
    line: int
    reason: str

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "reason": self.reason}


@dataclass
class RawRecord:
    file: str
    line: int
    values: dict = field(default_factory=dict)


class RowError(ValueError):
    """A row that cannot be imported; the message is the reported reason."""


def parse_file(path: Path) -> Iterator[ParsedRow | Rejection]:
    """Yield a ParsedRow or a Rejection for every data row of a CSV or JSONL file."""
    return parse_bytes(str(path), path.read_bytes())


def parse_bytes(name: str, data: bytes) -> Iterator[ParsedRow | Rejection]:
    """The same for a file's content (an upload); `name` goes into rejections."""
    text = decode_bytes(data)
    if is_json_lines(name, text):
        records = _jsonl_records(name, text)
    else:
        records = _csv_records(name, text)
    for record in records:
        if isinstance(record, Rejection):
            yield record
            continue
        try:
            yield validate_record(record)
        except RowError as exc:
            yield Rejection(record.file, record.line, str(exc))


def is_json_lines(name: str, text: str) -> bool:
    if Path(name).suffix.lower() in {".jsonl", ".ndjson"}:
        return True
    return Path(name).suffix.lower() != ".csv" and text.lstrip().startswith("{")


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


def _csv_rows(reader) -> Iterator[list[str] | csv.Error]:
    """The reader's rows; a row the csv module cannot read comes as its error."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield exc


def _csv_records(name: str, text: str) -> Iterator[RawRecord | Rejection]:
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""))
    columns: list[str] | None = None
    header_seen = False
    last_line = 0
    for cells in _csv_rows(reader):
        line, last_line = last_line + 1, reader.line_num
        if isinstance(cells, csv.Error):
            yield Rejection(name, line, f"unreadable CSV: {cells}")
            continue
        if _is_blank_or_fence(cells):
            continue
        longest = max(map(len, cells), default=0)
        if longest > FIELD_MAX_CHARS:
            yield Rejection(name, line, _too_long(longest))
            continue
        if not header_seen:
            header = _header_columns(cells)
            if header is not None:
                columns, header_seen = header, True
                continue
            if len(cells) < 8:
                continue  # junk before the header, e.g. a title line
            columns, header_seen = CANONICAL_COLUMNS, True  # no header row
        yield _csv_record(name, line, cells, columns or CANONICAL_COLUMNS)


def _too_long(length: int) -> str:
    return f"field too long: {length} characters (max {FIELD_MAX_CHARS})"


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
            name, line, f"wrong number of fields: {len(cells)} (expected {expected})"
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


def _jsonl_records(name: str, text: str) -> Iterator[RawRecord | Rejection]:
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Rejection(name, line_no, f"invalid JSON: {exc.msg}")
            continue
        if not isinstance(obj, dict):
            yield Rejection(name, line_no, "invalid JSON: not an object")
            continue
        values = _jsonl_values(obj)
        longest = max(map(len, values.values()), default=0)
        if longest > FIELD_MAX_CHARS:
            yield Rejection(name, line_no, _too_long(longest))
            continue
        yield RawRecord(name, line_no, values)


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
            values[f"option{i}"] = "" if choice is None else choice
    else:
        values["choices_error"] = "choices must be a list of 4 strings"
    if isinstance(values["answer"], list):
        values["answer"] = ",".join(str(a) for a in values["answer"])
    if isinstance(values["image"], bool):
        values["image"] = "O" if values["image"] else ""
    return {k: "" if v is None else str(v) for k, v in values.items()}


def clean_text(value: str) -> str:
    value = _LITERAL_NEWLINE.sub("\n", value.replace("\r\n", "\n"))
    return value.strip()


def validate_record(record: RawRecord) -> ParsedRow:
    v = record.values
    if v.get("choices_error"):
        raise RowError(v["choices_error"])
    year = _parse_year(v.get("year", ""))
    parts = (v.get(k, "").strip() for k in ("session", "form"))
    session = parse_session(" ".join(p for p in parts if p))
    number = _parse_int(_strip_unit(v.get("number", ""), "번"), "number", 1, 9999)
    texts = {k: clean_text(v.get(k, "")) for k in _TEXT_FIELDS}
    _check_texts(texts)
    needs_figure = _refers_to_figure(v.get("image", ""), texts)
    if not texts["question"]:
        raise RowError("empty question")
    for i in range(1, 5):
        if not texts[f"option{i}"] and not needs_figure:
            raise RowError(f"empty choice {i}")
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
    if "\ufffd" in joined or "\x00" in joined:
        for key, value in texts.items():
            if "\ufffd" in value:
                raise RowError(f"corrupted text (U+FFFD) in {key}")
            if "\x00" in value:
                raise RowError(f"NUL character in {key}")
    for key in _LIMITED_FIELDS:
        limit, value = TEXT_LIMITS[_FIELD_NAMES.get(key, key)], texts[key]
        if len(value) > limit:
            raise RowError(f"{key} too long: {len(value)} characters (max {limit})")


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
        raise RowError(f"missing {label}")
    if not is_ascii_digits(value) or not low <= int(value) <= high:
        raise RowError(f"{label} is not a number: {value!r}")
    return int(value)


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
        raise RowError(str(exc)) from exc


def parse_answer(value: str) -> tuple[int, str]:
    """'3' → (3, ''); '2,4' → (2, '2,4'); empty or anything else is an error."""
    value = value.strip()
    if not value:
        raise RowError("missing answer")
    if not _ANSWER.match(value):
        raise RowError(f"invalid answer: {value!r}")
    answers = sorted({int(a) for a in value.split(",")})
    if len(answers) == 1:
        return answers[0], ""
    return answers[0], ",".join(str(a) for a in answers)
