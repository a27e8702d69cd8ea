"""Small, realistic banks for the subject tests, written as the CSV files the
importer meets (the header of the real past-round files), so every test goes
through the parser and the importer.

건설안전기사 over the years: the exam's paper is six subjects × 20, but its
files say more than that —

- 2014–2015 call the first subject 안전관리론 (renamed 산업안전관리론 later);
- 2016 2회 spells one whole subject 산업심리及 교육 (a typo of the source);
- 2021 1회 spells three rows of 건설재료학 as 건설 재료학 (so it is incomplete);
- 2022 2회 is an 산업안전기사 round filed under this exam: 기계·전기·화학
  subjects that are not on this paper (retired, as far as this topic goes).

공무원 국가 9급: five subjects, each numbered from 1 to 20.
"""

from __future__ import annotations

import csv
import io

from study.imports.services import ImportSource

HEADER = [
    "Test Name",
    "Year",
    "Session",
    "Subject",
    "Number",
    "Question",
    "Question_image",
    "Option 1",
    "Option 2",
    "Option 3",
    "Option 4",
    "Answer",
]
CURRENT = (
    "산업안전관리론",
    "산업심리 및 교육",
    "인간공학 및 시스템안전공학",
    "건설시공학",
    "건설재료학",
    "건설안전기술",
)
RENAMED = {"산업안전관리론": "안전관리론"}  # the newer name → the older one
TYPO_SUBJECT = "산업심리及 교육"  # 2016 2회, every row of the subject
TYPO_ROWS = "건설 재료학"  # 2021 1회, three rows of 건설재료학
MISLABELLED = (
    "안전관리론",
    "인간공학 및 시스템안전공학",
    "기계위험방지기술",
    "전기위험방지기술",
    "화학설비위험방지기술",
    "건설안전기술",
)
RETIRED = ("기계위험방지기술", "전기위험방지기술", "화학설비위험방지기술")
PER_SUBJECT = 20

# (year, session, subjects in paper order)
OLD_PAPER = tuple(RENAMED.get(name, name) for name in CURRENT)
CONSTRUCTION_ROUNDS = (
    (2014, "1", OLD_PAPER),
    (2015, "2", OLD_PAPER),
    (2016, "2", tuple(TYPO_SUBJECT if n == "산업심리 및 교육" else n for n in CURRENT)),
    (2020, "1", CURRENT),
    (2020, "3", CURRENT),
    (2021, "1", CURRENT),  # with TYPO_ROWS
    (2022, "1", CURRENT),
    (2022, "2", MISLABELLED),
)

CIVIL_SERVICE = ("국어", "영어", "한국사", "행정법총론", "행정학개론")

_TOPICS = {
    "산업안전관리론": ("재해 통계", "안전관리 조직", "무재해 운동", "안전 점검"),
    "안전관리론": ("재해 통계", "안전관리 조직", "무재해 운동", "안전 점검"),
    "산업심리 및 교육": ("동기 이론", "교육 방법", "적응 기제", "리더십"),
    TYPO_SUBJECT: ("동기 이론", "교육 방법", "적응 기제", "리더십"),
    "인간공학 및 시스템안전공학": ("FTA", "인체 계측", "신뢰도", "작업 공간"),
    "건설시공학": ("거푸집", "콘크리트 타설", "기초 공사", "철골 세우기"),
    "건설재료학": ("시멘트", "목재", "석재", "금속 재료"),
    "건설안전기술": ("비계", "흙막이", "추락 방지", "굴착 작업"),
}


def _stem(subject: str, year: int, session: str, number: int) -> str:
    topics = _TOPICS.get(subject, ("기본 개념", "법령", "계산", "설비"))
    topic = topics[number % len(topics)]
    return (
        f"{subject}: {topic}에 관한 설명으로 옳은 것은? "
        f"({year}년 {session}회 {number}번)"
    )


def _choices(year: int, session: str, number: int) -> list[str]:
    return [f"{year}-{session}-{number} 보기 {c}" for c in "가나다라"]


def _write(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def construction_round(year: int, session: str, subjects: tuple[str, ...]) -> bytes:
    """One round numbered 1–120 through its six subjects."""
    rows = []
    for i, subject in enumerate(subjects):
        for k in range(PER_SUBJECT):
            number = i * PER_SUBJECT + k + 1
            name = subject
            if (year, session) == (2021, "1") and subject == "건설재료학" and k < 3:
                name = TYPO_ROWS
            rows.append(
                [
                    "건설안전기사",
                    year,
                    session,
                    name,
                    number,
                    _stem(subject, year, session, number),
                    "",
                    *_choices(year, session, number),
                    1 + number % 4,
                ]
            )
    return _write(rows)


def construction_sources() -> list[ImportSource]:
    return [
        _source(f"construction-safety-{r[0]}-{r[1]}.csv", construction_round(*r))
        for r in CONSTRUCTION_ROUNDS
    ]


def civil_service_round(
    year: int, session: str = "1", *, subjects=CIVIL_SERVICE
) -> list[list]:
    """A 국가 9급 paper: every subject numbered from 1."""
    rows = []
    for subject in subjects:
        for number in range(1, PER_SUBJECT + 1):
            rows.append(
                [
                    "국가직 9급",
                    year,
                    session,
                    subject,
                    number,
                    f"{subject} {number}번: 다음 중 옳지 않은 것은? ({year}년)",
                    "",
                    *[f"{subject} {year}-{number} 보기 {c}" for c in "가나다라"],
                    1 + number % 4,
                ]
            )
    return rows


def civil_service_file(rows: list[list]) -> bytes:
    return _write(rows)


def _source(name: str, data: bytes) -> ImportSource:
    return ImportSource(name, lambda: io.BytesIO(data))
