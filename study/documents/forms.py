from typing import Any

from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from study.documents.extraction import DocumentRejected
from study.documents.quotas import document_quota_check, document_size_check
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


class DocumentAdminForm(forms.ModelForm):
    """The admin's document form: a new file meets the web's size cap and the
    owner's quotas. The admin validates inside the transaction that saves,
    so the owner's quota lock taken here holds until the document is stored."""

    # No Meta: the admin builds it (model and fields) from its own options.
    uploader: AbstractBaseUser | None = None  # set per request by the admin

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if isinstance(upload, UploadedFile):
            editing = self.instance.pk is not None
            owner = self.instance.owner if editing else self.uploader
            size = upload.size or 0
            try:
                document_size_check(size=size)
                document_quota_check(
                    owner=owner,
                    incoming_bytes=size,
                    replacing=self.instance if editing else None,
                )
            except DocumentRejected as exc:
                self.add_error("file", str(exc))
        return data
