"""The importer against the real sample rounds and crafted defective files."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from study.models import AIExplanationStatus, Question, Topic
from tests.shared_data import SHARED_EXAMS, needs_shared

HEADER = (
    "Test Name,Year,Session,Subject,Number,Question,Question_image,"
    "Option 1,Option 2,Option 3,Option 4,Answer"
)


def row(
    number, *, year="2020", session="3", answer="2", image="", stem=None, opts=None
):
    stem = stem or f"문제 {number} 다음 중 옳은 것은?"
    opts = opts or ["가", "나", "다", "라"]
    return ",".join(
        [
            "산업안전기사",
            year,
            session,
            "안전관리론",
            str(number),
            stem,
            image,
            *opts,
            answer,
        ]
    )


def write(tmp_path, name, lines, *, encoding="utf-8", bom=False):
    path = tmp_path / name
    data = "\n".join(lines) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode(encoding))
    return path


def run_import(*paths, topic="테스트", owner="learner", tmp_path=None, extra=()):
    report_path = (tmp_path or Path(paths[0]).parent) / "report.json"
    call_command(
        "import_questions",
        *map(str, paths),
        "--topic",
        topic,
        "--owner",
        owner,
        "--report",
        str(report_path),
        *extra,
        verbosity=0,
    )
    report = json.loads(report_path.read_text(encoding="utf-8"))
    counted = report["imported"] + report["updated"] + report["unchanged"]
    assert counted + report["rejected_count"] == report["rows"]
    assert report["rejected_count"] == len(report["rejected"])  # all listed
    return report


def reasons(report):
    """(line, reason code) of every rejected row."""
    return {(r["line"], r["code"]) for r in report["rejected"]}


def texts(report):
    """(line, reason as the report words it) of every rejected row."""
    return {(r["line"], r["reason"]) for r in report["rejected"]}


@needs_shared
def test_it_imports_every_clean_round_and_is_idempotent(user):
    files = sorted(SHARED_EXAMS.glob("*.csv"))
    first = run_import(*files, tmp_path=None)
    assert first["files"] == 15
    assert first["rows"] == first["imported"] == 1800
    assert first["rejected"] == []
    again = run_import(*files)
    assert again["unchanged"] == 1800 and again["imported"] == again["updated"] == 0
    assert Question.objects.count() == 1800


@needs_shared
def test_it_keeps_the_merged_2020_round_as_one(user):
    run_import(SHARED_EXAMS / "ind-safety-2020-1.csv")
    q = Question.objects.get(number=1)
    assert q.exam_session == "1,2"
    assert q.round_label == "2020년 1·2회"
    assert q.round_key == "2020-1,2"


@needs_shared
def test_it_flags_figure_questions_from_real_rounds(user):
    run_import(SHARED_EXAMS / "ind-safety-2016-1.csv")
    flagged = Question.objects.filter(needs_figure=True)
    assert flagged.count() >= 2
    assert not flagged.filter(pk__in=Question.objects.quizzable()).exists()


@needs_shared
def test_it_handles_the_messy_samples_without_losing_rows(user, tmp_path):
    messy = sorted((SHARED_EXAMS / "messy").glob("*.csv"))
    report = run_import(*messy, tmp_path=tmp_path)
    by_file = {}
    for r in report["rejected"]:
        by_file.setdefault(Path(r["file"]).name, set()).add(r["reason"])
    assert by_file == {}
    # A session written as "B" is the booklet form of its round: 2019년 B형.
    edu = Question.objects.filter(exam_name="소방안전교육사")
    assert edu.count() == 100
    assert {q.round_label for q in edu} == {"2019년 B형"}
    # Rows whose figure column was dropped are realigned, not lost.
    hygiene = Question.objects.get(exam_year=2017, exam_session="3", number=14)
    assert hygiene.correct_choice == 3 and hygiene.choice_1.startswith("HR")
    # `image` header, `o` as a figure marker, a trailing empty column.
    assert Question.objects.filter(exam_year=2019, exam_session="1").count() == 80
    assert Question.objects.filter(exam_year=2021, needs_figure=True).count() == 12


def test_it_reads_bom_image_header_law_column_and_trailing_columns(user, tmp_path):
    header = HEADER.replace("Question_image", "image") + ",Law,,"
    lines = [header] + [row(n) + ",산업안전보건법,," for n in (1, 2)]
    report = run_import(write(tmp_path, "a.csv", lines, bom=True), tmp_path=tmp_path)
    assert report["imported"] == 2
    assert Question.objects.get(number=1).exam_name == "산업안전기사"


def test_it_imports_a_file_without_a_header_row(user, tmp_path):
    report = run_import(write(tmp_path, "a.csv", [row(1), row(2)]), tmp_path=tmp_path)
    assert report["imported"] == 2 and report["rows"] == 2


def test_it_skips_junk_lines_before_the_header(user, tmp_path):
    lines = ["```csv", HEADER, row(1), row(2), "```"]
    report = run_import(write(tmp_path, "a.csv", lines), tmp_path=tmp_path)
    assert report["imported"] == 2 and report["rows"] == 2


def test_it_rejects_rows_with_the_wrong_number_of_fields(user, tmp_path):
    lines = [
        HEADER,
        row(1),
        "산업안전기사,2020,3,안전관리론,2,짧은 행,,가,나",
        row(3) + ",x,y",
    ]
    report = run_import(write(tmp_path, "a.csv", lines), tmp_path=tmp_path)
    assert report["imported"] == 1
    assert texts(report) == {
        (3, "칸이 9개입니다 (12개여야 합니다)."),
        (4, "칸이 14개입니다 (12개여야 합니다)."),
    }


def test_it_parses_answers_and_rejects_bad_ones(user, tmp_path):
    lines = [
        HEADER,
        row(1, answer="4"),
        row(2, answer='"2,4"'),
        row(3, answer='"1,2,3,4"'),
        row(4, answer=""),
        row(5, answer="5"),
        row(6, answer="정답"),
    ]
    report = run_import(write(tmp_path, "a.csv", lines), tmp_path=tmp_path)
    assert reasons(report) == {
        (5, "missing_value"),
        (6, "invalid_answer"),
        (7, "invalid_answer"),
    }
    assert (5, "정답 칸이 비어 있습니다.") in texts(report)
    assert (
        7,
        "정답은 1~4 중 하나이거나 쉼표로 나눈 번호여야 합니다: '정답'",
    ) in texts(report)
    two = Question.objects.get(number=2)
    assert two.accepted_set == {2, 4} and two.is_correct(4) and not two.is_correct(1)
    assert Question.objects.get(number=3).accepted_set == {1, 2, 3, 4}
    assert Question.objects.get(number=1).accepted_set == {4}


def test_it_rejects_text_corrupted_upstream(user, tmp_path):
    lines = [HEADER, row(1, stem="깨진 \ufffd 문자"), row(2)]
    report = run_import(write(tmp_path, "a.csv", lines), tmp_path=tmp_path)
    assert reasons(report) == {(2, "corrupted_text")}


def test_it_rejects_undecodable_bytes_but_keeps_the_good_rows(user, tmp_path):
    path = tmp_path / "a.csv"
    good = (HEADER + "\n" + row(1) + "\n").encode()
    bad = row(2, stem="깨진XX").encode().replace(b"XX", b"\xff\xfe")
    path.write_bytes(good + bad + b"\n")
    report = run_import(path, tmp_path=tmp_path)
    assert report["imported"] == 1
    assert texts(report) == {
        (3, "문제 칸에 깨진 글자(U+FFFD)가 있습니다. 파일 인코딩을 확인하세요.")
    }


def test_it_reads_cp949_files(user, tmp_path):
    report = run_import(
        write(tmp_path, "a.csv", [HEADER, row(1)], encoding="cp949"), tmp_path=tmp_path
    )
    assert report["imported"] == 1
    assert Question.objects.get().subject == "안전관리론"


def test_it_flags_figure_questions_and_keeps_them_out_of_quizzes(user, tmp_path):
    lines = [
        HEADER,
        row(1, image="O"),
        row(
            2,
            opts=[
                "image_2020_3_4_1",
                "image_2020_3_4_2",
                "image_2020_3_4_3",
                "image_2020_3_4_4",
            ],
        ),
        row(3),
    ]
    run_import(write(tmp_path, "a.csv", lines), tmp_path=tmp_path)
    assert set(
        Question.objects.filter(needs_figure=True).values_list("number", flat=True)
    ) == {1, 2}
    assert list(Question.objects.quizzable().values_list("number", flat=True)) == [3]


def test_it_keeps_the_first_of_duplicate_keys(user, tmp_path):
    a = write(tmp_path, "a.csv", [HEADER, row(1, stem="처음"), row(1, stem="두번째")])
    b = write(tmp_path, "b.csv", [HEADER, row(1, stem="다른 파일")])
    report = run_import(a, b, tmp_path=tmp_path)
    assert report["imported"] == 1
    assert {r["reason"] for r in report["rejected"]} == {
        f"{a} 2번째 줄과 같은 문제입니다."
    }
    assert Question.objects.get().stem == "처음"


def test_it_rejects_years_and_sessions_that_name_no_round(user, tmp_path):
    lines = [
        HEADER,
        row(1, year="이천이십"),
        row(2, session="ì¶”ê°€ì‹œí—˜"),  # 추가시험, UTF-8 read as Latin-1
        row(3, session="異붽°€떆뿕"),  # … read as CP949
        row(4, session="2차"),
        row(5, session="0"),
        row(6, session=""),
        row(7, session='"1,2"'),
    ]
    report = run_import(write(tmp_path, "a.csv", lines), tmp_path=tmp_path)
    assert reasons(report) == {
        (2, "not_a_number"),
        (3, "bad_session"),
        (4, "bad_session"),
        (5, "bad_session"),
        (6, "bad_session"),
        (7, "missing_value"),
    }
    assert {
        (2, "연도 값이 올바른 숫자가 아닙니다: '이천이십'"),
        (7, "회차 칸이 비어 있습니다."),
    } <= texts(report)
    assert Question.objects.get().round_label == "2020년 1·2회"


def test_reimport_updates_changed_rows_and_marks_explanations_stale(user, tmp_path):
    path = write(tmp_path, "a.csv", [HEADER, row(1), row(2), row(3)])
    run_import(path, tmp_path=tmp_path)
    Question.objects.filter(number__in=[1, 2]).update(
        ai_explanation="기존 해설", ai_explanation_status=AIExplanationStatus.READY
    )
    write(
        tmp_path,
        "a.csv",
        [HEADER, row(1, answer="3"), row(2), row(3, stem="바뀐 문제")],
    )
    report = run_import(path, tmp_path=tmp_path)
    assert (report["imported"], report["updated"], report["unchanged"]) == (0, 2, 1)
    one = Question.objects.get(number=1)
    assert one.ai_explanation_status == AIExplanationStatus.STALE
    assert one.ai_explanation == "기존 해설" and one.correct_choice == 3
    assert (
        Question.objects.get(number=2).ai_explanation_status
        == AIExplanationStatus.READY
    )
    assert Question.objects.count() == 3


def test_dry_run_writes_nothing(user, tmp_path):
    path = write(tmp_path, "a.csv", [HEADER, row(1), row(2)])
    report = run_import(path, tmp_path=tmp_path, extra=("--dry-run",))
    assert report["imported"] == 2
    assert Question.objects.count() == 0


def test_it_imports_json_lines(user, tmp_path):
    lines = [
        json.dumps(
            {
                "exam": "데모",
                "year": 2023,
                "session": "1",
                "number": 1,
                "subject": "안전관리론",
                "question": "JSONL 문제?",
                "choices": ["a", "b", "c", "d"],
                "answer": [2, 4],
                "explanation": "사람이 쓴 해설",
            },
            ensure_ascii=False,
        ),
        "",
        "{not json",
        json.dumps(
            {
                "year": 2023,
                "session": 1,
                "number": 2,
                "question": "보기 부족",
                "choices": ["a"],
                "answer": 1,
            }
        ),
    ]
    report = run_import(write(tmp_path, "a.jsonl", lines), tmp_path=tmp_path)
    assert report["rows"] == 3 and report["imported"] == 1
    assert {r["line"] for r in report["rejected"]} == {3, 4}
    q = Question.objects.get()
    assert q.accepted_set == {2, 4} and q.explanation == "사람이 쓴 해설"


def test_it_creates_the_topic_for_the_owner_and_reuses_it(user, tmp_path):
    path = write(tmp_path, "a.csv", [HEADER, row(1)])
    run_import(path, topic="새 토픽", tmp_path=tmp_path)
    run_import(path, topic="새 토픽", tmp_path=tmp_path)
    assert Topic.objects.get(name="새 토픽").owner == user


def test_it_refuses_unknown_owners_and_missing_files(user, tmp_path):
    path = write(tmp_path, "a.csv", [HEADER, row(1)])
    with pytest.raises(CommandError, match="nobody"):
        call_command("import_questions", str(path), "--topic", "x", "--owner", "nobody")
    with pytest.raises(CommandError, match="파일이 없습니다"):
        call_command("import_questions", str(tmp_path / "no.csv"), "--topic", "x")


# --- session labels ------------------------------------------------------------

LABELS = [
    # (spelled in the file, canonical session, shown as)
    ("3", "3", "2020년 3회"),
    ("제3회", "3", "2020년 3회"),
    ('"1,2"', "1,2", "2020년 1·2회"),
    ("1·2회", "1,2", "2020년 1·2회"),
    ("A", "A", "2020년 A형"),
    ("b", "B", "2020년 B형"),
    ("C형", "C", "2020년 C형"),
    ("D책형", "D", "2020년 D형"),
    ("가", "가", "2020년 가책형"),
    ("나책형", "나", "2020년 나책형"),
    ("다형", "다", "2020년 다책형"),
    ("추가시험", "1추가", "2020년 1회 추가시험"),
    ("1_추가시험", "1추가", "2020년 1회 추가시험"),
    ("1_extra", "1추가", "2020년 1회 추가시험"),
    ("2회 추가시험", "2추가", "2020년 2회 추가시험"),
    ("1회 A형", "1_A", "2020년 1회 A형"),
    ("2_가", "2_가", "2020년 2회 가책형"),
]


@pytest.mark.parametrize(("spelled", "session", "label"), LABELS)
def test_it_imports_every_session_label_into_its_round(
    user, tmp_path, spelled, session, label
):
    path = write(tmp_path, "a.csv", [HEADER, row(1, session=spelled), row(2)])
    report = run_import(path, tmp_path=tmp_path)
    assert report["imported"] == 2 and report["rejected"] == []
    q = Question.objects.get(number=1)
    assert (q.exam_session, q.round_label) == (session, label)
    assert q.round_key == f"2020-{session}"


def test_one_round_spelled_two_ways_is_one_round(user, tmp_path):
    a = write(
        tmp_path, "a.csv", [HEADER, row(1, session="추가시험"), row(2, session="B")]
    )
    b = write(
        tmp_path,
        "b.csv",
        [HEADER, row(1, session="1_extra"), row(3, session="1_추가시험")]
        + [row(2, session="B형", stem="다시 쓴 2번")],
    )
    report = run_import(a, b, tmp_path=tmp_path)
    assert report["imported"] == 3
    assert reasons(report) == {(2, "duplicate"), (4, "duplicate")}
    assert {r["reason"] for r in report["rejected"]} == {
        f"{a} 2번째 줄과 같은 문제입니다.",
        f"{a} 3번째 줄과 같은 문제입니다.",
    }
    assert set(Question.objects.values_list("exam_session", flat=True)) == {
        "1추가",
        "B",
    }
    # Re-importing the other spelling changes nothing.
    again = run_import(b, tmp_path=tmp_path)
    assert again["imported"] == 0 and Question.objects.count() == 3


def test_forms_of_a_round_are_separate_papers(user, tmp_path):
    lines = [HEADER, row(1, session="A"), row(1, session="B"), row(1, session="가")]
    report = run_import(write(tmp_path, "a.csv", lines), tmp_path=tmp_path)
    assert report["imported"] == 3


def test_json_lines_carry_session_labels_too(user, tmp_path):
    def line(number, session):
        record = {
            "year": 2005,
            "session": session,
            "number": number,
            "question": f"문제 {number}",
            "choices": ["a", "b", "c", "d"],
            "answer": 1,
        }
        return json.dumps(record, ensure_ascii=False)

    lines = [line(1, "1_추가시험"), line(2, "가"), line(3, 2), line(4, "B형")]
    report = run_import(write(tmp_path, "a.jsonl", lines), tmp_path=tmp_path)
    assert report["imported"] == 4
    assert sorted(q.round_label for q in Question.objects.all()) == [
        "2005년 1회 추가시험",
        "2005년 2회",
        "2005년 B형",
        "2005년 가책형",
    ]


# --- figure choices, oversized and hostile fields ------------------------------


def test_it_imports_rows_whose_choices_were_figures_and_flags_them(user, tmp_path):
    lines = [
        HEADER,
        row(1, opts=["", "", "", ""]),
        row(2, opts=["[그림]", "(그림 2)", "<img src='c.png'>", "![](d.png)"]),
        row(3, opts=["그림1.png", "", "", ""]),
        row(4, opts=["가", "", "다", "라"]),  # one text choice missing: a defect
        row(5),
    ]
    report = run_import(write(tmp_path, "a.csv", lines), tmp_path=tmp_path)
    assert report["imported"] == 4
    assert texts(report) == {
        (5, "보기 2 칸이 비어 있습니다 (그림 문제라면 그림 칸에 표시하세요).")
    }
    flagged = Question.objects.filter(needs_figure=True)
    assert set(flagged.values_list("number", flat=True)) == {1, 2, 3}
    assert list(Question.objects.quizzable().values_list("number", flat=True)) == [5]


def test_an_oversized_field_rejects_only_its_row(user, tmp_path):
    huge = "가" * 131_073
    lines = [HEADER, row(1), row(2, stem=huge), row(3)]
    report = run_import(write(tmp_path, "a.csv", lines), tmp_path=tmp_path)
    assert report["imported"] == 2 and report["rows"] == 3
    assert reasons(report) == {(3, "field_too_long")}
    jsonl = json.dumps(
        {
            "year": 2020,
            "session": 1,
            "number": 9,
            "question": huge,
            "choices": list("abcd"),
            "answer": 1,
        }
    )
    report = run_import(write(tmp_path, "b.jsonl", [jsonl]), tmp_path=tmp_path)
    assert reasons(report) == {(1, "field_too_long")}
    assert report["rejected"][0]["reason"] == "한 칸이 131072자를 넘습니다."


def test_values_the_database_would_refuse_reject_their_row(user, tmp_path):
    lines = [
        HEADER,
        row(1, stem="널 \x00 문자"),
        row(2).replace("안전관리론", "과" * 201),
        row(3),
    ]
    report = run_import(write(tmp_path, "a.csv", lines), tmp_path=tmp_path)
    assert reasons(report) == {(2, "nul_character"), (3, "text_too_long")}
    assert (3, "과목 칸이 201자로 너무 깁니다 (최대 200자).") in texts(report)
    assert report["imported"] == 1


def test_a_separate_form_column_and_korean_headers(user, tmp_path):
    lines = [
        "시험명,연도,회차,형별,과목,번호,문제,그림,보기1,보기2,보기3,보기4,정답",
        "9급,2019,1,A,행정법,1,문제?,,가,나,다,라,1",
        "9급,2019,,B책형,행정법,1,문제?,,가,나,다,라,1",
        "9급,2019,2,,행정법,1,문제?,,가,나,다,라,1",
    ]
    report = run_import(write(tmp_path, "a.csv", lines), tmp_path=tmp_path)
    assert report["imported"] == 3
    assert sorted(Question.objects.values_list("exam_session", flat=True)) == [
        "1_A",
        "2",
        "B",
    ]


def test_a_literal_backslash_n_is_a_line_break_except_latex_in_math(user, tmp_path):
    # Exporters write line breaks as the two characters \n, before Korean,
    # a bullet "O", a variable ("\np : 확률") or a formula alike; only in math
    # is a letter after it LaTeX ($\nu$).
    stem = r'"식으로 틀린 것은?\n\nn : 대안의 수\np$_k$ : 확률\nO 심박동수 $\nu = 2$"'
    opts = [r"{1}\nR(t) = 0.9", r"$\neq$", r"$$a\n b$$", "라"]
    report = run_import(
        write(tmp_path, "a.csv", [HEADER, row(1, stem=stem, opts=opts)]),
        tmp_path=tmp_path,
    )
    assert report["imported"] == 1
    q = Question.objects.get(number=1)
    assert (
        q.stem
        == "식으로 틀린 것은?\n\nn : 대안의 수\np$_k$ : 확률\nO 심박동수 $\\nu = 2$"
    )
    assert q.choices[:3] == ["{1}\nR(t) = 0.9", "$\\neq$", "$$a\n b$$"]


@needs_shared
def test_the_messy_samples_keep_no_literal_backslash_n_outside_math(user, tmp_path):
    messy = sorted((SHARED_EXAMS / "messy").glob("*.csv"))
    run_import(*messy, tmp_path=tmp_path)
    from study.templatetags.study_markdown import MATH_SPAN

    texts = [t for q in Question.objects.all() for t in (q.stem, *q.choices)]
    outside = [MATH_SPAN.sub("", t) for t in texts]
    assert not [t for t in outside if "\\n" in t]
    # 101 breaks in these files are written so, 21 of them before a Latin letter.
    apgar = Question.objects.get(stem__contains="Apgar")
    assert "\nO 심박동수 110 회/분\nO " in apgar.stem


def test_reimporting_a_file_mends_text_stored_with_literal_backslash_n(user, tmp_path):
    path = write(tmp_path, "a.csv", [HEADER, row(1, stem=r"문제?\nO 가\nO 나")])
    run_import(path, tmp_path=tmp_path)
    # As an earlier importer stored it (a break before a letter kept literal).
    Question.objects.filter(number=1).update(stem="문제?\\nO 가\\nO 나")
    report = run_import(path, tmp_path=tmp_path)
    assert report["updated"] == 1
    assert Question.objects.get(number=1).stem == "문제?\nO 가\nO 나"


def test_mend_question_text_mends_stored_text_through_the_edit_service(user, tmp_path):
    lines = [
        HEADER,
        row(1, stem=r"문제?\nO 가\nO 나"),
        row(2, stem="그대로인 문제", opts=[r"$\nu$", "나", "다", "라"]),
        row(3),
    ]
    run_import(write(tmp_path, "a.csv", lines), tmp_path=tmp_path)
    old = "문제?\\nO 가\\nO 나"  # as an earlier importer stored it
    Question.objects.filter(number=1).update(
        stem=old, choice_2="{1}\\nR(t)", embedding_status="ready"
    )
    other = Topic.objects.create(name="다른 토픽", owner=user)
    Question.objects.create(
        topic=other,
        stem=old,
        choice_1="가",
        choice_2="나",
        choice_3="다",
        choice_4="라",
        correct_choice=1,
    )
    out = StringIO()
    call_command("mend_question_text", "--topic", "테스트", "--dry-run", stdout=out)
    assert "고칠 문제 1 / 살펴본 문제 2" in out.getvalue()
    assert Question.objects.get(number=1).stem == old  # a dry run writes nothing

    call_command("mend_question_text", "--topic", "테스트", stdout=out)
    mended = Question.objects.get(topic__name="테스트", number=1)
    assert (mended.stem, mended.choice_2) == ("문제?\nO 가\nO 나", "{1}\nR(t)")
    assert mended.embedding_status == "pending"  # the service's side effects ran
    assert Question.objects.get(number=2).choice_1 == "$\\nu$"  # LaTeX kept
    assert Question.objects.get(topic=other).stem == old  # another topic's
