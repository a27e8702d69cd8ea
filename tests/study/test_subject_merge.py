"""The owner merges subjects in a few clicks on the topic's subject page: a
suggestion is one click, a manual merge picks names and a subject, an alias
is undone in one click. Every change goes through the subject service (and
the question service beneath it); bad input is a 400 that changes nothing."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from publishing.models import EventKind, OutboxEvent
from study.imports.services import questions_import
from study.models import ExamSpec, Question, SubjectAlias
from study.selectors.exam_spec import exam_paper_for_topic
from study.services.exam_specs import exam_spec_save
from study.services.subjects import SubjectMergeRefused, subject_merge
from tests.study.subject_bank import (
    CURRENT,
    TYPO_ROWS,
    TYPO_SUBJECT,
    construction_sources,
)


@pytest.fixture
def bank(topic):
    questions_import(topic=topic, sources=construction_sources())
    return topic


@pytest.fixture
def owner(client, user):
    client.force_login(user)
    return client


def page(client, topic) -> str:
    response = client.get(reverse("study:topic_subjects", args=[topic.pk]))
    assert response.status_code == 200
    return response.content.decode()


def merge(client, topic, **data):
    return client.post(reverse("study:subject_merge", args=[topic.pk]), data)


def test_the_page_shows_the_paper_its_rounds_names_and_suggestions(owner, bank):
    html = page(owner, bank)
    assert "2022년 1회 · 2020년 3회 · 2020년 1회" in html
    assert "6과목 × 20문제 · 180분" in html
    assert [s in html for s in CURRENT] == [True] * 6
    assert html.count('class="suggestion"') == 3
    assert 'data-suggestion="안전관리론"' in html
    assert 'data-suggestion="기계위험방지기술"' not in html
    assert "이름 83% 비슷" in html and "같은 회차에 함께 나온 적 없음" in html


def test_a_suggestion_merges_in_one_click_and_is_undone_in_one(owner, bank):
    before = Question.objects.filter(subject=TYPO_SUBJECT).count()
    response = merge(owner, bank, names=TYPO_SUBJECT, into="산업심리 및 교육")
    assert response.status_code == 302
    assert not Question.objects.filter(subject=TYPO_SUBJECT).exists()
    assert SubjectAlias.objects.get(topic=bank).subject == "산업심리 및 교육"
    html = page(owner, bank)
    assert f'data-alias="{TYPO_SUBJECT}"' in html
    assert f'data-suggestion="{TYPO_SUBJECT}"' not in html
    undo = owner.post(
        reverse("study:subject_unmerge", args=[bank.pk]), {"name": TYPO_SUBJECT}
    )
    assert undo.status_code == 302
    assert Question.objects.filter(subject=TYPO_SUBJECT).count() == before
    assert not SubjectAlias.objects.exists()


def test_names_are_merged_into_a_new_name_and_the_spec_follows(owner, bank):
    exam_spec_save(
        topic=bank,
        subjects=["안전관리론", *CURRENT[1:]],
        questions_per_subject=20,
        time_limit_minutes=None,
    )
    response = merge(
        owner,
        bank,
        names=["안전관리론", "산업안전관리론"],
        into_new="산업재해 예방 및 안전보건교육",
    )
    assert response.status_code == 302
    new = "산업재해 예방 및 안전보건교육"
    assert Question.objects.filter(subject=new).count() == 8 * 20
    assert ExamSpec.objects.get(topic=bank).subjects[0] == new
    # Later imports spell it either old way: filed under the new name.
    again = questions_import(topic=bank, sources=construction_sources())
    assert again.imported == again.updated == 0
    assert {r["from"] for r in again.subjects_renamed} == {
        "안전관리론",
        "산업안전관리론",
    }


def test_merging_moves_questions_through_the_question_service(
    settings, owner, bank, django_capture_on_commit_callbacks
):
    settings.STUDY_PUBLISH_ENABLED = True
    bank.is_shared = bank.is_published = True
    bank.save(update_fields=["is_shared", "is_published"])
    moved = list(Question.objects.filter(subject=TYPO_ROWS))
    started = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        merge(owner, bank, names=TYPO_ROWS, into="건설재료학")
    for question in moved:
        question.refresh_from_db()
        assert question.subject == "건설재료학" and question.updated_at >= started
        assert question.subject_original == TYPO_ROWS
    events = OutboxEvent.objects.filter(aggregate_id__in=[q.pk for q in moved])
    assert {e.kind for e in events} == {EventKind.QUESTION}
    assert {e.snapshot["subject"] for e in events} == {"건설재료학"}


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"into": "건설재료학"},
        {"names": TYPO_ROWS},
        {"names": "없는 이름", "into": "건설재료학"},
        {"names": TYPO_ROWS, "into": "없는 과목"},
        {"names": TYPO_ROWS, "into_new": "가" * 201},
        {"names": "건설재료학", "into": "건설재료학"},
    ],
)
def test_bad_merges_are_400_and_change_nothing(owner, bank, data):
    response = merge(owner, bank, **data)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not SubjectAlias.objects.exists()
    assert Question.objects.filter(subject=TYPO_ROWS).count() == 3


def test_a_name_already_merged_is_refused_with_its_subject(bank):
    subject_merge(topic=bank, names=[TYPO_ROWS], into="건설재료학")
    with pytest.raises(SubjectMergeRefused, match="이미 ‘건설재료학’로"):
        subject_merge(topic=bank, names=[TYPO_ROWS], into="건설시공학")
    # Merging into an alias files under its subject (no chains of aliases).
    subject_merge(topic=bank, names=["건설시공학"], into=TYPO_ROWS)
    assert dict(SubjectAlias.objects.values_list("name", "subject")) == {
        TYPO_ROWS: "건설재료학",
        "건설시공학": "건설재료학",
    }


def test_unknown_undo_is_400(owner, bank):
    url = reverse("study:subject_unmerge", args=[bank.pk])
    assert owner.post(url, {"name": "없는 이름"}).status_code == 400
    assert owner.post(url, {}).status_code == 400


def test_only_the_owner_sees_and_changes_subjects(client, other_user, bank):
    bank.is_shared = True
    bank.save(update_fields=["is_shared"])
    client.force_login(other_user)
    assert (
        client.get(reverse("study:topic_subjects", args=[bank.pk])).status_code == 404
    )
    response = merge(client, bank, names=TYPO_ROWS, into="건설재료학")
    assert response.status_code == 404
    assert not SubjectAlias.objects.exists()
    html = client.get(reverse("study:topic", args=[bank.pk])).content.decode()
    assert reverse("study:topic_subjects", args=[bank.pk]) not in html


def test_the_page_never_writes(owner, bank):
    before = Question.objects.order_by("-updated_at").values_list(
        "updated_at", flat=True
    )[0]
    page(owner, bank)
    after = Question.objects.order_by("-updated_at").values_list(
        "updated_at", flat=True
    )[0]
    assert before == after and not SubjectAlias.objects.exists()


def test_the_exam_spec_is_set_on_the_subject_page(owner, bank):
    url = reverse("study:exam_spec_edit", args=[bank.pk])
    bad = owner.post(url, {"questions_per_subject": 0})
    assert bad.status_code == 400 and "과목 정리" in bad.content.decode()
    good = owner.post(
        url,
        {"subjects": "\n".join(CURRENT[:4]), "questions_per_subject": 20},
    )
    assert good.status_code == 302
    paper = exam_paper_for_topic(topic=bank)
    assert paper.is_set and paper.subjects == CURRENT[:4]
    assert set(CURRENT[4:]) <= set(paper.old_subjects)


def test_the_admin_merges_and_undoes_through_the_service(staff_user, bank):
    admin = Client()
    admin.force_login(staff_user)
    add = reverse("admin:study_subjectalias_add")
    response = admin.post(
        add, {"topic": bank.pk, "name": TYPO_ROWS, "subject": "건설재료학"}
    )
    assert response.status_code == 302
    assert Question.objects.filter(subject_original=TYPO_ROWS).count() == 3
    refused = admin.post(add, {"topic": bank.pk, "name": "건설 재료학", "subject": "x"})
    assert refused.status_code == 200 and "이미" in refused.content.decode()
    alias = SubjectAlias.objects.get()
    delete = reverse("admin:study_subjectalias_delete", args=[alias.pk])
    assert admin.post(delete, {"post": "yes"}).status_code == 302
    assert Question.objects.filter(subject=TYPO_ROWS).count() == 3


def test_the_page_reads_in_english(client, user, topic):
    for year in (2021, 2022):
        for s, name in enumerate(("Math", "Physics", "Chemistry")):
            for k in range(10):
                n = s * 10 + k + 1
                spelled = "Physic" if (year, name, k) == (2021, "Physics", 0) else name
                Question.objects.create(
                    topic=topic,
                    exam_year=year,
                    exam_session="1",
                    number=n,
                    subject=spelled,
                    stem=f"Question {year}-{n}",
                    choice_1="a",
                    choice_2="b",
                    choice_3="c",
                    choice_4="d",
                    correct_choice=1,
                )
    subject_merge(topic=topic, names=["Chemistry"], into="Chem")
    topic.name = "Sciences"
    topic.save(update_fields=["name"])
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "en"})
    html = page(client, topic)
    from tests.test_i18n import hangul_left

    assert 'data-suggestion="Physic"' in html and 'data-alias="Chemistry"' in html
    assert hangul_left(html) == []
