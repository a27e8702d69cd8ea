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
}
_NO_FIGURE_MARKERS = {"", "x", "n", "no", "none", "false", "0", "-", "text_only"}
_FIGURE_CHOICE = re.compile(
    r"^(image_[\w.-]+|[\w./-]+\.(png|jpe?g|gif|svg|webp))$", re.IGNORECASE
)
# A literal backslash-n written by an exporter, but not LaTeX such as \nu.
_LITERAL_NEWLINE = re.compile(r"\\n(?![A-Za-z])")
_ANSWER = re.compile(r"^[1-4](\s*,\s*[1-4])*$")
_SESSION_SPLIT = re.compile(r"\s*[,·]\s*")


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
    name = str(path)
    text = decode_bytes(path.read_bytes())
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
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


def _csv_records(name: str, text: str) -> Iterator[RawRecord | Rejection]:
    reader = csv.reader(io.StringIO(text, newline=""))
    columns: list[str] | None = None
    header_seen = False
    last_line = 0
    for cells in reader:
        line, last_line = last_line + 1, reader.line_num
        if _is_blank_or_fence(cells):
            continue
        if not header_seen:
            header = _header_columns(cells)
            if header is not None:
                columns, header_seen = header, True
                continue
            if len(cells) < 8:
                continue  # junk before the header, e.g. a title line
            columns, header_seen = CANONICAL_COLUMNS, True  # no header row
        yield _csv_record(name, line, cells, columns)


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
        yield RawRecord(name, line_no, _jsonl_values(obj))


def _jsonl_values(obj: dict) -> dict:
    choices = obj.get("choices")
    values = {
        "exam": obj.get("exam", ""),
        "year": obj.get("year", ""),
        "session": obj.get("session", ""),
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
    session = parse_session(v.get("session", ""))
    number = _parse_int(v.get("number", ""), "number", 1, 9999)
    texts = {k: clean_text(v.get(k, "")) for k in _TEXT_FIELDS}
    for key, value in texts.items():
        if "\ufffd" in value:
            raise RowError(f"corrupted text (U+FFFD) in {key}")
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


def _refers_to_figure(image_value: str, texts: dict) -> bool:
    if image_value.strip().lower() not in _NO_FIGURE_MARKERS:
        return True
    return any(_FIGURE_CHOICE.match(texts[f"option{i}"]) for i in range(1, 5))


def _parse_int(value: str, label: str, low: int, high: int) -> int:
    value = value.strip()
    if not value:
        raise RowError(f"missing {label}")
    if not is_ascii_digits(value) or not low <= int(value) <= high:
        raise RowError(f"{label} is not a number: {value!r}")
    return int(value)


def _parse_year(value: str) -> int:
    return _parse_int(value, "year", 1950, 2100)


def parse_session(value: str) -> str:
    """'3' → '3'; a merged round '1,2' (or '1·2') → '1,2'; anything else is an error."""
    value = value.strip()
    if not value:
        raise RowError("missing session")
    parts = _SESSION_SPLIT.split(value)
    if not all(is_ascii_digits(p) and 1 <= int(p) <= 99 for p in parts):
        raise RowError(f"session is not a number: {value!r}")
    return ",".join(str(n) for n in sorted({int(p) for p in parts}))


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
