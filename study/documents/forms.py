from django import forms
from django.utils.translation import gettext_lazy as _

from study.models import MaterialType
from study.numbers import AsciiIntegerField


class DocumentUploadForm(forms.Form):
    title = forms.CharField(label=_("제목"), max_length=300, required=False)
    file = forms.FileField(label=_("파일 (PDF, Markdown, 텍스트 · 최대 20MB)"))
    material_type = forms.ChoiceField(
        label=_("자료 종류"),
        choices=MaterialType.choices,
        initial=MaterialType.TEXTBOOK,
    )
    jurisdiction = forms.CharField(
        label=_("관할 (예: 대한민국)"), max_length=100, required=False
    )
    year = AsciiIntegerField(
        label=_("연도"), min_value=1950, max_value=2100, required=False
    )


class DocumentSearchForm(forms.Form):
    q = forms.CharField(label=_("검색어"), max_length=300, required=False)
    material_type = forms.ChoiceField(
        label=_("자료 종류"),
        choices=[("", _("전체")), *MaterialType.choices],
        required=False,
    )
    jurisdiction = forms.CharField(label=_("관할"), max_length=100, required=False)
    year = AsciiIntegerField(
        label=_("연도"), min_value=1950, max_value=2100, required=False
    )
