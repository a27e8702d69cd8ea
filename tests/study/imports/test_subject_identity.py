"""Question identity that real papers need: where a file numbers each subject
from 1 (공무원 국가·지방직), a question is (year, session, subject, number),
and every row of such a file is kept; a real duplicate (same round, same stem
and choices) is still reported as one. Subject aliases apply before a row is
matched, so an alias and the identity always agree."""

import io
from pathlib import Path

import pytest

from study.imports.services import ImportSource, questions_import
from study.models import Question, SubjectAlias
from study.services.subjects import (
    SubjectMergeRefused,
    subject_alias_remove,
    subject_merge,
)
from tests.shared_data import SHARED_EXAMS, needs_shared
from tests.study.subject_bank import (
    CIVIL_SERVICE,
    civil_service_file,
    civil_service_round,
)


@pytest.fixture(autouse=True, params=[2000, 7], ids=["one-batch", "batches-of-7"])
def write_batch(request, monkeypatch):
    """Every test here also runs with the importer writing 7 rows at a time: a
    round's numbering, its duplicates and its matches are decided for the
    whole upload, never per batch (the importer streams its rows)."""
    monkeypatch.setattr("study.imports.services.WRITE_BATCH_ROWS", request.param)
    return request.param


def source(name: str, rows) -> ImportSource:
    data = civil_service_file(rows)
    return ImportSource(name, lambda: io.BytesIO(data))


def counted(report) -> int:
    return report.imported + report.updated + report.unchanged + len(report.rejected)


def test_every_row_of_a_paper_numbered_by_subject_is_kept(topic):
    files = [
        source("9급-2021.csv", civil_service_round(2021)),
        source("9급-2022.csv", civil_service_round(2022)),
    ]
    report = questions_import(topic=topic, sources=files)
    assert report.rejected == [] and report.imported == 200 == counted(report)
    assert report.rounds_by_subject == ["2021-1", "2022-1"]
    assert not Question.objects.filter(numbered_by_subject=False).exists()
    again = questions_import(topic=topic, sources=files)
    assert again.unchanged == 200 and again.imported == again.updated == 0


def test_a_round_numbered_by_subject_reads_subject_by_subject(topic):
    questions_import(
        topic=topic, sources=[source("9급.csv", civil_service_round(2021))]
    )
    ordered = list(Question.objects.filter(topic=topic).in_round_order())
    assert [q.subject for q in ordered[::20]] == list(CIVIL_SERVICE)
    assert [q.number for q in ordered[:3]] == [1, 2, 3]
    third = ordered[42]
    assert third.key == "2021-1-한국사-3"
    assert third.place_label == "2021년 1회 한국사 3번"


def test_real_duplicates_are_still_reported(topic):
    rows = civil_service_round(2021)
    repeated = list(rows[5])  # 국어 6번 twice
    moved = list(rows[30])  # 영어 11번 again, filed as 영어 19번
    moved[4] = 19
    del rows[38]  # (the real 영어 19번 is missing from this file)
    report = questions_import(
        topic=topic, sources=[source("9급.csv", [*rows, repeated, moved])]
    )
    assert report.imported == 99
    assert [(r.code, r.params) for r in report.rejected] == [
        ("duplicate", {"file": "9급.csv", "line": 7}),
        ("duplicate", {"file": "9급.csv", "line": 32}),
    ]


def test_a_stray_repeated_number_leaves_a_paper_numbered_through(topic):
    rows = [
        [
            "산업안전기사",
            2020,
            3,
            "안전관리론" if n <= 20 else "기계",
            n,
            f"문제 {n}",
            "",
        ]
        + [f"{n} 보기 {c}" for c in "가나다라"]
        + [2]
        for n in range(1, 41)
    ]
    stray = list(rows[10])
    stray[3], stray[5] = "기계", "다른 문제"  # number 11 again, in another subject
    report = questions_import(topic=topic, sources=[source("a.csv", [*rows, stray])])
    assert report.imported == 40 and report.rounds_by_subject == []
    assert [(r.code, r.params) for r in report.rejected] == [
        ("duplicate", {"file": "a.csv", "line": 12})
    ]


def test_a_round_imported_before_by_number_alone_is_completed(topic):
    """Under the old identity only the first subject survived; importing the
    file again now keeps the other four and turns the round by subject."""
    first_subject = civil_service_round(2021, subjects=CIVIL_SERVICE[:1])
    questions_import(topic=topic, sources=[source("국어.csv", first_subject)])
    assert not Question.objects.filter(numbered_by_subject=True).exists()
    report = questions_import(
        topic=topic, sources=[source("9급.csv", civil_service_round(2021))]
    )
    assert report.rejected == []
    assert (report.imported, report.updated) == (80, 20)
    assert Question.objects.filter(numbered_by_subject=True).count() == 100


def test_a_paper_imported_a_subject_at_a_time_keeps_every_subject(topic):
    for subject in CIVIL_SERVICE:
        one = civil_service_round(2021, subjects=(subject,))
        report = questions_import(topic=topic, sources=[source(f"{subject}.csv", one)])
        assert (report.imported, report.updated, report.rejected) == (20, 0, [])
    assert Question.objects.filter(topic=topic, numbered_by_subject=True).count() == 100
    assert set(Question.objects.values_list("subject", flat=True)) == set(CIVIL_SERVICE)


def test_a_file_renaming_every_subject_of_a_round_updates_it(topic):
    """Same questions under new names (no alias yet): the subjects change, no
    question is added, the round stays numbered through."""
    rows = [
        ["산업안전기사", 2020, 3, f"과목{(n - 1) // 20}", n, f"문제 {n}", ""]
        + [f"{n} 보기 {c}" for c in "가나다라"]
        + [2]
        for n in range(1, 121)
    ]
    questions_import(topic=topic, sources=[source("old.csv", rows)])
    for r in rows:
        r[3] = f"새 {r[3]}"
    report = questions_import(topic=topic, sources=[source("new.csv", rows)])
    assert (report.imported, report.updated) == (0, 120)
    assert report.rounds_by_subject == []
    assert Question.objects.filter(subject__startswith="새 ").count() == 120


def test_aliases_apply_before_a_row_is_matched(topic):
    questions_import(
        topic=topic, sources=[source("2021.csv", civil_service_round(2021))]
    )
    subject_merge(topic=topic, names=["행정법총론"], into="행정법")
    # A later file spells it the old way: matched to the same questions.
    again = questions_import(
        topic=topic, sources=[source("2021.csv", civil_service_round(2021))]
    )
    assert again.unchanged == 100 and again.imported == 0
    assert again.subjects_renamed == [
        {"from": "행정법총론", "to": "행정법", "rows": 20}
    ]
    moved = Question.objects.filter(subject="행정법")
    assert moved.count() == 20
    assert set(moved.values_list("subject_original", flat=True)) == {"행정법총론"}
    # Undone: the questions get their name back and a re-import matches them.
    assert subject_alias_remove(topic=topic, name="행정법총론") == 20
    back = questions_import(
        topic=topic, sources=[source("2021.csv", civil_service_round(2021))]
    )
    assert back.unchanged == 100 and back.subjects_renamed == []


def test_two_subjects_of_one_round_numbered_from_1_cannot_be_merged(topic):
    questions_import(topic=topic, sources=[source("a.csv", civil_service_round(2021))])
    with pytest.raises(SubjectMergeRefused, match="2021년 1회"):
        subject_merge(topic=topic, names=["국어"], into="영어")
    assert Question.objects.filter(subject="국어").count() == 20
    assert not SubjectAlias.objects.exists()


def test_the_dry_run_says_which_names_are_renamed_and_which_are_new(topic):
    questions_import(topic=topic, sources=[source("a.csv", civil_service_round(2021))])
    SubjectAlias.objects.create(topic=topic, name="한국 사", subject="한국사")
    rows = civil_service_round(2022)
    for r in rows:
        r[3] = {"한국사": "한국 사", "영어": "英語"}.get(r[3], r[3])
    report = questions_import(
        topic=topic, sources=[source("b.csv", rows)], dry_run=True
    )
    assert report.subjects_renamed == [{"from": "한국 사", "to": "한국사", "rows": 20}]
    assert report.subjects_new == [{"name": "英語", "rows": 20}]
    assert not Question.objects.filter(exam_year=2022).exists()


@needs_shared
@pytest.mark.parametrize(
    "path",
    [
        *sorted(SHARED_EXAMS.glob("*.csv")),
        *sorted((SHARED_EXAMS / "messy").glob("*.csv")),
    ],
    ids=lambda p: Path(p).name,
)
def test_real_rounds_keep_their_numbering_and_every_row(topic, path):
    report = questions_import(topic=topic, paths=[path])
    assert report.rejected == [] and report.imported == report.rows
    assert report.rounds_by_subject == []  # these papers are numbered through


def test_the_web_dry_run_shows_the_subjects_section(client, user, topic):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    questions_import(topic=topic, sources=[source("a.csv", civil_service_round(2021))])
    subject_merge(topic=topic, names=["행정법총론"], into="행정법")
    rows = civil_service_round(2022)
    for r in rows:
        r[3] = {"영어": "英語"}.get(r[3], r[3])
    client.force_login(user)
    upload = SimpleUploadedFile("9급-2022.csv", civil_service_file(rows))
    response = client.post(
        reverse("study:import_new", args=[topic.pk]), {"files": [upload]}
    )
    html = client.get(response["Location"]).content.decode()
    assert 'data-count="imported">100<' in html and 'data-count="rejected">0<' in html
    assert "<li>행정법총론 → 행정법" in html
    assert "<li>英語" in html
    assert "과목마다 1번부터 번호를 매긴 회차: 2022년 1회." in html
    assert reverse("study:topic_subjects", args=[topic.pk]) in html


def test_an_author_adds_a_question_to_a_round_numbered_by_subject(client, user, topic):
    from django.urls import reverse

    questions_import(topic=topic, sources=[source("a.csv", civil_service_round(2021))])
    subject_merge(topic=topic, names=["행정법총론"], into="행정법")
    client.force_login(user)
    url = reverse("study:question_new", args=[topic.pk])

    def post(subject: str, number: int):
        return client.post(
            url,
            {
                "exam_name": "국가직 9급",
                "exam_year": 2021,
                "exam_session": "1",
                "number": number,
                "subject": subject,
                "stem": f"새 문제 {subject} {number}",
                **{f"choice_{i}": f"보기 {i}" for i in range(1, 5)},
                "correct_choice": 2,
            },
        )

    # 국어 3번 exists; 영어 21번 does not, and neither does 행정법 21번.
    assert (
        "같은 회차에 같은 번호의 문제가 이미 있습니다"
        in post("국어", 3).content.decode()
    )
    assert post("영어", 21).status_code == 302
    assert post("행정법총론", 21).status_code == 302  # the alias is applied
    added = Question.objects.filter(number=21).order_by("id")
    assert [(q.subject, q.numbered_by_subject) for q in added] == [
        ("영어", True),
        ("행정법", True),
    ]
