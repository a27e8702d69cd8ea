"""The pure core of subjects: the exam's current paper read from the bank's
rounds, and which names are likely one subject."""

from study.subjects import (
    SubjectCell,
    current_subjects,
    merge_suggestions,
    name_similarity,
)

SIX = ("A과목", "B과목", "C과목", "D과목", "E과목", "F과목")
_ids = iter(range(1, 1_000_000))


def paper(year, session, subjects, per=20, *, by_subject=False, short=None):
    """Cells of one round numbered through (or by subject); `short` takes one
    question off a subject."""
    cells = []
    for i, name in enumerate(subjects):
        n = per - 1 if name == short else per
        first = 1 if by_subject else i * per + 1
        cells.append(SubjectCell(year, session, name, n, first, next(_ids), by_subject))
    return cells


def test_the_newest_complete_round_shared_by_another_sitting_is_the_paper():
    cells = [
        *paper(2019, "1", SIX),
        *paper(2020, "1", SIX),
        *paper(2021, "1", SIX, short="C과목"),  # incomplete
        *paper(2022, "1", ("X", "Y", "Z", "W")),  # one odd round, the newest
    ]
    found = current_subjects(cells)
    assert found.subjects == SIX and found.per_subject == 20
    assert [r.key for r in found.rounds] == ["2020-1", "2019-1"]
    assert set(found.old) == {"X", "Y", "Z", "W"}


def test_a_new_paper_shared_by_two_recent_sittings_wins_over_older_eras():
    new = ("A과목", "B과목", "새 과목", "D과목", "E과목", "F과목")
    cells = [
        *(c for y in range(2005, 2020) for c in paper(y, "1", SIX)),
        *paper(2021, "1", new),
        *paper(2021, "2", new),
    ]
    found = current_subjects(cells)
    assert found.subjects == new
    assert found.old == ("C과목",)


def test_forms_of_one_sitting_do_not_confirm_each_other():
    cells = [
        *paper(2020, "1", SIX),
        *paper(2020, "2", SIX),
        *paper(2021, "1_A", ("X", "Y")),
        *paper(2021, "1_B", ("X", "Y")),
    ]
    assert current_subjects(cells).subjects == SIX


def test_a_lone_newest_round_is_the_paper_when_nothing_is_confirmed():
    cells = [*paper(2020, "1", SIX[:5]), *paper(2021, "1", SIX)]
    found = current_subjects(cells)
    assert found.subjects == SIX and [r.key for r in found.rounds] == ["2021-1"]


def test_without_a_complete_round_every_name_in_order_of_first_number():
    cells = [
        *paper(2020, "1", SIX, short="A과목"),
        SubjectCell(None, "", "따로", 3, 500, next(_ids)),
        SubjectCell(2020, "1", "", 2, 200, next(_ids)),
    ]
    found = current_subjects(cells)
    assert found.per_subject is None and found.old == () and found.rounds == ()
    assert found.subjects == (*SIX, "따로")


def test_small_samples_and_rounds_with_unnamed_questions_are_not_complete():
    sample = paper(2020, "1", SIX, per=5)
    unnamed = [*paper(2021, "1", SIX), SubjectCell(2021, "1", "", 1, 121, 0)]
    assert current_subjects(sample).per_subject is None
    assert current_subjects(unnamed).per_subject is None


def test_subjects_numbered_from_1_keep_the_files_order_and_their_size():
    civil = ("국어", "영어", "한국사", "행정법총론", "행정학개론")
    cells = paper(2021, "1", civil, per=25, by_subject=True)
    found = current_subjects(cells)
    assert found.subjects == civil and found.per_subject == 25


def test_names_read_alike_whatever_their_spaces_and_punctuation():
    assert name_similarity("건설 재료학", "건설재료학") == 1.0
    assert name_similarity("산업심리及 교육", "산업심리 및 교육") > 0.8
    assert name_similarity("안전관리론", "산업안전관리론") > 0.8
    assert name_similarity("기계위험방지기술", "인간공학 및 시스템안전") < 0.2
    assert name_similarity("", "국어") == 0.0


def test_a_rename_a_typo_and_a_split_subject_are_suggested():
    old = ("A과목론", *SIX[1:])
    typo = ("A과목", "B 과목", *SIX[2:])
    # 2021 1회: three rows of F과목 spelled with a trailing space.
    split = [c for c in paper(2021, "1", SIX) if c.subject != "F과목"]
    split.append(SubjectCell(2021, "1", "F과목", 17, 101, next(_ids)))
    split.append(SubjectCell(2021, "1", "F과목 ", 3, 118, next(_ids)))
    cells = [
        *paper(2018, "1", old),
        *paper(2019, "1", typo),
        *paper(2020, "1", SIX),
        *paper(2020, "2", SIX),
        *split,
    ]
    found = {s.name: s for s in merge_suggestions(cells, paper=SIX, per_subject=20)}
    assert set(found) == {"A과목론", "B 과목", "F과목 "}
    assert found["B 과목"].into == "B과목" and not found["B 과목"].shares_rounds
    assert found["F과목 "].into == "F과목" and found["F과목 "].shares_rounds
    rename = found["A과목론"]
    assert rename.into == "A과목" and rename.same_place and rename.takes_over


def test_a_renamed_paper_is_suggested_by_place_and_time_even_unlike_in_name():
    before = ("기계위험방지기술", "전기위험방지기술", "화학설비위험방지기술")
    after = ("기계·기구 및 설비 안전 관리", "전기설비 안전 관리", "화학설비 안전 관리")
    cells = [
        *paper(2020, "1", before),
        *paper(2021, "1", before),
        *paper(2022, "1", after),
        *paper(2022, "2", after),
    ]
    found = merge_suggestions(cells, paper=after, per_subject=20)
    assert {(s.name, s.into) for s in found} == set(zip(before, after, strict=True))


def test_two_subjects_of_one_round_are_never_suggested_as_one():
    a = ("기계위험방지기술", "전기위험방지기술", "건설안전기술")
    b = ("인간공학 및 시스템안전", "건설시공학", "건설안전기술")
    cells = [
        *paper(2019, "1", a),
        *paper(2021, "1", b),
        *paper(2022, "1", b),
    ]
    found = merge_suggestions(cells, paper=b, per_subject=20)
    # 기계/전기 share a round as two full subjects and read alike (0.88); the
    # old era's subjects are neither alike nor in the same place as the new.
    assert [(s.name, s.into) for s in found] == []
