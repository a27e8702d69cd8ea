"""The unnest insert builder refuses columns whose stored value is not the
attribute as it is (Django would convert it or set it on save)."""

import pytest
from django.db import models
from django.test.utils import isolate_apps

from study.models import Attempt, ExamPlan, QuestionProgress
from study.services.bulk_insert import unnest_insert_sql


def test_every_column_but_the_key_is_written():
    for model in (Attempt, QuestionProgress):
        fields, sql = unnest_insert_sql(model)
        expected = [f.column for f in model._meta.concrete_fields if not f.primary_key]
        assert [f.column for f in fields] == expected
        assert sql.count("%s") == len(expected)


def test_a_converted_column_is_refused():
    with pytest.raises(TypeError, match="not written as is"):
        unnest_insert_sql(ExamPlan)  # a DateField


@isolate_apps("study")
def test_a_column_set_on_save_is_refused():
    class Stamped(models.Model):  # noqa: DJ008 (isolated registry: no migration)
        name = models.CharField(max_length=10)
        changed = models.DateTimeField(auto_now=True)

        class Meta:
            app_label = "study"

    with pytest.raises(TypeError, match="set on save"):
        unnest_insert_sql(Stamped)
