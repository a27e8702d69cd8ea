"""Reads behind the owner's subject page: every name the bank uses, where
it is used, which names are likely one subject, and the aliases in force."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count

from study.models import Question, SubjectAlias, Topic
from study.selectors.exam_spec import ExamPaper, topic_bank
from study.subjects import (
    MergeSuggestion,
    SubjectCell,
    merge_suggestions,
    subject_order,
)


def subject_aliases(*, topic: Topic) -> dict[str, str]:
    """name → subject for the topic's aliases (what every import applies)."""
    return dict(SubjectAlias.objects.filter(topic=topic).values_list("name", "subject"))


@dataclass(frozen=True)
class SubjectName:
    name: str
    questions: int
    rounds: int
    first_year: int | None
    last_year: int | None
    on_paper: bool
    aliases: tuple[str, ...] = ()  # other names filed under this one


@dataclass(frozen=True)
class AliasRow:
    name: str
    subject: str
    moved: int  # questions filed under `subject` that came as `name`


@dataclass(frozen=True)
class SubjectsOverview:
    paper: ExamPaper
    names: list[SubjectName]
    suggestions: list[MergeSuggestion]
    aliases: list[AliasRow]


def subjects_overview(*, topic: Topic) -> SubjectsOverview:
    bank = topic_bank(topic=topic)
    cells, paper = bank.cells, bank.paper
    aliases = subject_aliases(topic=topic)
    return SubjectsOverview(
        paper=paper,
        names=_names(cells, paper, aliases),
        suggestions=merge_suggestions(
            cells, paper=paper.subjects, per_subject=paper.per_subject
        ),
        aliases=_alias_rows(topic, aliases),
    )


def _names(
    cells: Sequence[SubjectCell], paper: ExamPaper, aliases: dict[str, str]
) -> list[SubjectName]:
    questions: dict[str, int] = defaultdict(int)
    years: dict[str, set[int]] = defaultdict(set)
    round_keys: dict[str, set[tuple]] = defaultdict(set)
    for c in cells:
        if not c.subject:
            continue
        questions[c.subject] += c.questions
        if c.year is not None and c.session:
            years[c.subject].add(c.year)
            round_keys[c.subject].add((c.year, c.session))
    filed: dict[str, list[str]] = defaultdict(list)
    for name, subject in sorted(aliases.items()):
        filed[subject].append(name)
    on_paper = set(paper.subjects)
    return [
        SubjectName(
            name=name,
            questions=questions[name],
            rounds=len(round_keys[name]),
            first_year=min(years[name], default=None),
            last_year=max(years[name], default=None),
            on_paper=name in on_paper,
            aliases=tuple(filed[name]),
        )
        for name in subject_order(paper=paper.all_subjects, names=questions)
    ]


def _alias_rows(topic: Topic, aliases: dict[str, str]) -> list[AliasRow]:
    moved = dict(
        Question.objects.filter(topic=topic, subject_original__in=list(aliases))
        .values_list("subject_original")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        AliasRow(name, subject, moved.get(name, 0))
        for name, subject in sorted(aliases.items(), key=lambda a: (a[1], a[0]))
    ]


def round_numbered_by_subject(*, topic: Topic, year: int, session: str) -> bool:
    """Does the bank number this round's questions from 1 in each subject?"""
    return Question.objects.filter(
        topic=topic, exam_year=year, exam_session=session, numbered_by_subject=True
    ).exists()
