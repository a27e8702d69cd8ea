"""Statuses and other choice fields: TextChoices, held by a database check."""

import pytest
from django.apps import apps
from django.db import IntegrityError, models

from study.models import SubjectNote, SubjectNoteStatus

# Choice fields a check constraint does not (yet) hold; each needs a reason.
UNCHECKED = {
    # study_attempt_choice_matches_outcome holds it with the chosen answer.
    ("study", "attempt", "outcome"),
}


def choice_fields():
    for app in ("study", "publishing"):
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, models.CharField) and field.choices:
                    yield model, field


def checked_values(model, field_name: str) -> set[str] | None:
    for constraint in model._meta.constraints:
        if not isinstance(constraint, models.CheckConstraint):
            continue
        for child in constraint.condition.children:
            if isinstance(child, tuple) and child[0] == f"{field_name}__in":
                return set(child[1])
    return None


@pytest.mark.parametrize(
    ("model", "field"),
    list(choice_fields()),
    ids=[f"{m._meta.label}.{f.name}" for m, f in choice_fields()],
)
def test_every_choice_field_is_held_by_a_check_constraint(model, field):
    key = (model._meta.app_label, model._meta.model_name, field.name)
    if key in UNCHECKED:
        pytest.skip("documented exception")
    allowed = {value for value, _ in field.choices} | ({""} if field.blank else set())
    assert checked_values(model, field.name) == allowed


def test_status_fields_all_have_choices():
    bare = [
        f"{model._meta.label}.{field.name}"
        for app in ("study", "publishing")
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.concrete_fields
        if field.name.endswith("status") and not field.choices
    ]
    assert bare == []


def test_the_database_refuses_an_unknown_subject_note_status(topic):
    note = SubjectNote.objects.create(topic=topic, subject="안전관리론")
    assert note.status == SubjectNoteStatus.NONE
    with pytest.raises(IntegrityError):
        SubjectNote.objects.filter(pk=note.pk).update(status="done")
