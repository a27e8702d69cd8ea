from typing import Any

from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from study.models import Topic
from study.numbers import AsciiModelChoiceField


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".csv,.jsonl"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any | None = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class QuestionImportForm(forms.Form):
    # The form metaclass takes declared fields off the class: no clash with
    # BaseForm.files at run time.
    files = MultipleFileField(  # type: ignore[assignment]
        label=_("문제 파일 (CSV 또는 JSON Lines, 여러 개 가능)"),
        help_text=_("먼저 검사만 합니다. 결과를 보고 ‘가져오기’를 눌러야 저장됩니다."),
    )


class AdminQuestionImportForm(QuestionImportForm):
    """The topic is one the staff user may manage (as on the topic page)."""

    topic = AsciiModelChoiceField(label=_("토픽"), queryset=Topic.objects.none())

    field_order = ["topic", "files"]

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        topic = self.fields["topic"]
        assert isinstance(topic, forms.ModelChoiceField)
        topic.queryset = Topic.objects.editable_by(user).order_by("name", "id")
