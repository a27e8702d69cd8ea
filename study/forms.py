from __future__ import annotations

import datetime
import re
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from study.exam_dates import ExamDateError, session_dates_parse
from study.imports.parsing import RowError, parse_answer, parse_session
from study.models import (
    ExamRound,
    Feedback,
    LearnerSettings,
    Question,
    QuizMode,
    QuizStage,
    SubjectAlias,
    Topic,
)
from study.models.exam_plan import PLAN_SIZE_MAX, PLAN_SIZE_MIN
from study.models.question import ANSWER_DEFINING_FIELDS, ROUND_KEY_FIELDS
from study.numbers import (
    AsciiDateField,
    AsciiFloatField,
    AsciiIntegerField,
    AsciiModelChoiceField,
    ascii_formfield,
)
from study.rounds import session_from_canonical
from study.selectors.exam_spec import topic_subject_names
from study.selectors.review_queue import TABS
from study.selectors.subjects import round_numbered_by_subject, subject_aliases
from study.selectors.topics import topic_rounds
from study.services.figures import FigureRejected, figure_prepare, figure_quota_check
from study.services.quiz_sessions import QuizRequest
from study.services.subjects import SubjectMergeRefused, subject_merge_check
from study.services.topics import AI_SETTINGS


class TopicForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = ["name", "description", "is_shared", "is_published"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class TopicEditForm(TopicForm):
    """Editing a topic also sets how its AI explanations are made."""

    class Meta(TopicForm.Meta):
        fields = [*TopicForm.Meta.fields, *AI_SETTINGS]


class ExamSpecForm(forms.Form):
    """Subjects one per line in exam order; blank subjects reset to the bank's."""

    subjects = forms.CharField(
        label=_("과목 (시험 순서대로 한 줄에 하나)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("비워 두면 최근 완전한 회차의 과목을 씁니다."),
    )
    questions_per_subject = AsciiIntegerField(
        label=_("과목당 문제 수"), min_value=1, max_value=100, initial=20
    )
    time_limit_minutes = AsciiIntegerField(
        label=_("시험 시간 (분)"),
        min_value=1,
        max_value=600,
        required=False,
        help_text=_("비워 두면 과목당 30분입니다."),
    )

    def __init__(self, *args, topic: Topic, **kwargs):
        super().__init__(*args, **kwargs)
        self.topic = topic

    def clean_subjects(self) -> list[str]:
        names = [line.strip() for line in self.cleaned_data["subjects"].splitlines()]
        names = list(dict.fromkeys(n for n in names if n))
        if len(names) > 20:
            raise forms.ValidationError(_("과목은 20개까지입니다."))
        if any(len(n) > 200 for n in names):
            raise forms.ValidationError(_("과목 이름은 200자까지입니다."))
        return names


_ROUND_DATE_LINE = re.compile(
    r"^\s*(\d{4})\s*(?:년|-)?\s*(.+?)\s+(\d{4})[-./](\d{1,2})[-./](\d{1,2})\.?\s*$"
)


class ExamDatesForm(forms.Form):
    """When the rounds were held: the usual date of each 회차 and rounds held
    on another day. Old questions are read against the statutes in force on
    their exam date."""

    session_dates = forms.CharField(
        label=_("회차별 보통 시험일 (한 줄에 하나)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "예: 1회 03-05. 비워 두면 기사 필기 기본값(1회 3월 5일, "
            "2회 5월 15일, 3회 8월 15일, 4회 9월 25일)입니다."
        ),
    )
    round_dates = forms.CharField(
        label=_("날짜가 다른 회차 (한 줄에 하나)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("예: 2020 1,2 2020-06-06. 그 회차는 이 날짜로 봅니다."),
    )

    def clean_session_dates(self) -> dict[int, tuple[int, int]]:
        try:
            return session_dates_parse(self.cleaned_data["session_dates"])
        except ExamDateError as exc:
            raise forms.ValidationError(
                _("%(line)s번째 줄을 읽을 수 없습니다. 예: 1회 03-05")
                % {"line": str(exc).split(":")[0]}
            ) from exc

    def clean_round_dates(self) -> dict[tuple[int, str], datetime.date]:
        rounds_held: dict[tuple[int, str], datetime.date] = {}
        for number, raw in enumerate(self.cleaned_data["round_dates"].splitlines(), 1):
            if not raw.strip():
                continue
            found = _ROUND_DATE_LINE.match(raw)
            sitting = ""
            held_on = None
            if found:
                try:
                    canonical = parse_session(found.group(2))
                    parsed = session_from_canonical(canonical)
                    sitting = parsed.sitting if parsed else ""
                    held_on = datetime.date(*(int(found.group(i)) for i in (3, 4, 5)))
                except (RowError, ValueError):
                    held_on = None
            if found is None or not sitting or held_on is None:
                raise forms.ValidationError(
                    _("%(line)s번째 줄을 읽을 수 없습니다. 예: 2020 1,2 2020-06-06")
                    % {"line": number}
                )
            rounds_held[(int(found.group(1)), sitting)] = held_on
        return rounds_held


def clean_session_label(value: str) -> str:
    """The canonical session of what an author typed ("" when left empty)."""
    if not value.strip():
        return ""
    try:
        return parse_session(value)
    except RowError as exc:
        raise forms.ValidationError(
            _("회차를 알 수 없습니다. 예: 3, 1,2, A, 가, 1 추가시험, 1 A")
        ) from exc


class ExamRoundAdminForm(forms.ModelForm):
    class Meta:
        model = ExamRound
        fields = ["topic", "exam_year", "exam_session", "held_on"]

    def clean_exam_session(self) -> str:
        canonical = clean_session_label(self.cleaned_data["exam_session"])
        parsed = session_from_canonical(canonical)
        if parsed is None or not parsed.sitting:
            raise forms.ValidationError(_("회차 번호가 있어야 합니다. 예: 3, 1,2"))
        return parsed.sitting


class QuestionAdminForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = ROUND_KEY_FIELDS  # the admin's fieldsets add the others

    def clean_exam_session(self) -> str:
        return clean_session_label(self.cleaned_data.get("exam_session", ""))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        topic = data.get("topic")
        if topic is not None and "figure" in data:
            try:
                # The admin validates inside the transaction that saves: the
                # owner's figure lock, taken here, holds until the save.
                data["figure"] = figure_clean(
                    data["figure"], owner=topic.owner, lock=True
                )
            except forms.ValidationError as exc:
                self.add_error("figure", exc)
        return data


def figure_clean(figure, *, owner, lock: bool = False):
    """A new upload becomes a checked, re-encoded copy within the owner's quota
    (checked again under the owner's lock by the question service)."""
    if not isinstance(figure, UploadedFile):
        return figure  # unchanged, or cleared
    try:
        clean = figure_prepare(figure)
        figure_quota_check(owner=owner, incoming_bytes=clean.size, lock=lock)
    except FigureRejected as exc:
        raise forms.ValidationError(str(exc)) from exc
    return clean


class QuestionForm(forms.ModelForm):
    correct_choice = forms.TypedChoiceField(
        label=pgettext_lazy("field", "정답"),
        choices=[(i, format_lazy(_("{n}번"), n=i)) for i in range(1, 5)],
        coerce=int,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Question
        formfield_callback = ascii_formfield
        fields = [
            "exam_name",
            *ROUND_KEY_FIELDS,
            "subject",
            "scope",
            *ANSWER_DEFINING_FIELDS,
            "explanation",
            "needs_figure",
            "figure",
        ]
        widgets = {
            "stem": forms.Textarea(attrs={"rows": 4}),
            "choice_1": forms.Textarea(attrs={"rows": 2}),
            "choice_2": forms.Textarea(attrs={"rows": 2}),
            "choice_3": forms.Textarea(attrs={"rows": 2}),
            "choice_4": forms.Textarea(attrs={"rows": 2}),
            "explanation": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "exam_session": (
                _(
                    "예: 3, 통합 시행된 회차는 1,2, 형별은 A 또는 가, "
                    "추가시험은 1 추가시험, 회차와 형별은 1 A"
                )
            ),
            "accepted_choices": _("복수 정답이 인정된 경우만: 예 2,4"),
        }

    def __init__(self, *args, topic: Topic, **kwargs):
        self.topic = topic
        super().__init__(*args, **kwargs)

    def clean_exam_session(self) -> str:
        return clean_session_label(self.cleaned_data.get("exam_session", ""))

    def clean_accepted_choices(self) -> str:
        value = self.cleaned_data.get("accepted_choices", "").strip()
        if not value:
            return ""
        try:
            _correct, accepted = parse_answer(value)
        except RowError as exc:
            raise forms.ValidationError(
                _("1~4 사이 번호를 쉼표로 구분해 입력하세요.")
            ) from exc
        return accepted

    def clean_figure(self):
        return figure_clean(self.cleaned_data.get("figure"), owner=self.topic.owner)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        accepted = data.get("accepted_choices")
        correct = data.get("correct_choice")
        if accepted and correct and str(correct) not in accepted.split(","):
            self.add_error(
                "accepted_choices", _("복수 정답에 정답 번호가 포함되어야 합니다.")
            )
        year, session, number = (
            data.get(k) for k in ("exam_year", "exam_session", "number")
        )
        if any(v not in (None, "") for v in (year, session, number)) and not all(
            v not in (None, "") for v in (year, session, number)
        ):
            raise forms.ValidationError(
                _("연도·회차·번호는 모두 입력하거나 모두 비워 두세요.")
            )
        subject = subject_aliases(topic=self.topic).get(data.get("subject", ""))
        if subject:  # a name the owner files under another subject
            data["subject"] = subject
        data["numbered_by_subject"] = bool(
            year
            and session
            and round_numbered_by_subject(topic=self.topic, year=year, session=session)
        )
        if year and session and number:
            clash = Question.objects.filter(
                topic=self.topic, exam_year=year, exam_session=session, number=number
            ).exclude(pk=self.instance.pk)
            if data["numbered_by_subject"]:
                clash = clash.filter(
                    numbered_by_subject=True, subject=data.get("subject", "")
                )
            if clash.exists():
                raise forms.ValidationError(
                    _("같은 회차에 같은 번호의 문제가 이미 있습니다.")
                )
        return data


class QuizStartForm(forms.Form):
    # 오늘 할 일 starts from its own page (plan_start), not from this form.
    mode = forms.ChoiceField(
        choices=[c for c in QuizMode.choices if c[0] != QuizMode.PLAN]
    )
    stage = forms.ChoiceField(choices=QuizStage.choices, required=False)
    size = AsciiIntegerField(min_value=5, max_value=100, required=False)
    subject_size = AsciiIntegerField(min_value=5, max_value=100, required=False)
    round_key = forms.CharField(required=False)
    subjects = forms.MultipleChoiceField(required=False)
    per_subject = AsciiIntegerField(min_value=1, max_value=100, required=False)
    tab = forms.ChoiceField(choices=list(TABS.items()), required=False)
    feedback = forms.ChoiceField(choices=Feedback.choices, required=False)
    # Leave out questions flagged 개정됨/삭제됨: the mock has its own box,
    # checked by default (a real exam asks today's law).
    skip_amended = forms.BooleanField(required=False)
    mock_skip_amended = forms.BooleanField(required=False)

    def __init__(self, *args, topic: Topic, **kwargs):
        super().__init__(*args, **kwargs)
        self.topic = topic
        if self.data.get("mode") == QuizMode.SUBJECT:  # a GROUP BY only when needed
            cast(forms.ChoiceField, self.fields["subjects"]).choices = [
                (name, name) for name in topic_subject_names(topic=topic)
            ]
        else:  # without JS every mode's inputs are posted; ignore the subjects
            del self.fields["subjects"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        mode = data.get("mode")
        if mode == QuizMode.STAGE and not data.get("stage"):
            self.add_error("stage", _("단계를 고르세요."))
        if mode == QuizMode.ROUND:
            keys = {r.key for r in topic_rounds(topic=self.topic)}
            if data.get("round_key") not in keys:
                self.add_error("round_key", _("회차를 고르세요."))
        if mode == QuizMode.SUBJECT and not data.get("subjects"):
            self.add_error("subjects", _("과목을 하나 이상 고르세요."))
        if mode == QuizMode.REVIEW and not data.get("tab"):
            self.add_error("tab", _("복습 목록을 고르세요."))
        return data

    def error_text(self) -> str:
        errors = [e for field_errors in self.errors.values() for e in field_errors]
        return gettext("퀴즈를 시작할 수 없습니다: %(errors)s") % {
            "errors": " ".join(map(str, errors))
        }

    def to_request(self) -> QuizRequest:
        d = self.cleaned_data
        return QuizRequest(
            mode=d["mode"],
            stage=d.get("stage") or "",
            size=(
                d.get("subject_size")
                if d["mode"] == QuizMode.SUBJECT
                else d.get("size")
            )
            or 20,
            round_key=d.get("round_key") or "",
            subjects=tuple(d.get("subjects") or ()),
            per_subject=d.get("per_subject"),
            tab=d.get("tab") or "",
            feedback=d.get("feedback") or Feedback.END,
            skip_amended=bool(
                d.get("mock_skip_amended")
                if d["mode"] == QuizMode.MOCK
                else d.get("skip_amended")
            ),
        )


class LearnerSettingsForm(forms.ModelForm):
    desired_retention = AsciiFloatField(
        label=_("목표 기억률"),
        min_value=0.7,
        max_value=0.97,
        help_text=_("0.70~0.97. 높을수록 복습 간격이 짧아집니다. 기본 0.90."),
    )

    class Meta:
        model = LearnerSettings
        fields = ["desired_retention"]


class ExamPlanForm(forms.Form):
    topic = AsciiModelChoiceField(
        queryset=Topic.objects.none(),
        label=_("시험(토픽)"),
        empty_label=_("- 시험을 고르세요 -"),
    )
    exam_date = AsciiDateField(
        label=_("시험일"), widget=forms.DateInput(attrs={"type": "date"})
    )
    daily_size = AsciiIntegerField(
        label=_("하루 문제 수"),
        min_value=PLAN_SIZE_MIN,
        max_value=PLAN_SIZE_MAX,
        initial=30,
        help_text=format_lazy(
            _("오늘 할 일에 담을 문제 수 ({min}~{max})."),
            min=PLAN_SIZE_MIN,
            max=PLAN_SIZE_MAX,
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["topic"]
        ).queryset = Topic.objects.visible_to(user)

    def clean_exam_date(self):
        value = self.cleaned_data["exam_date"]
        today = timezone.localdate()
        if value < today:
            raise forms.ValidationError(_("시험일은 오늘이나 그 뒤여야 합니다."))
        if value > today + timedelta(days=3 * 366):
            raise forms.ValidationError(_("시험일은 3년 안이어야 합니다."))
        return value


class SubjectMergeForm(forms.Form):
    """Names of the bank to file under one subject: one of the bank's, or a
    new name typed in (a typo that no round spells right)."""

    names = forms.MultipleChoiceField(
        label=_("합칠 이름"), widget=forms.CheckboxSelectMultiple
    )
    into = forms.ChoiceField(label=_("합칠 과목"), required=False)
    into_new = forms.CharField(
        label=_("또는 새 이름"),
        required=False,
        max_length=200,
        help_text=_("고른 이름들을 이 이름으로 바꿉니다."),
    )

    def __init__(self, *args, names: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [(name, name) for name in names]
        cast(forms.ChoiceField, self.fields["names"]).choices = choices
        cast(forms.ChoiceField, self.fields["into"]).choices = [
            ("", _("— 과목 고르기 —")),
            *choices,
        ]

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        data["target"] = (data.get("into_new") or "").strip() or data.get("into", "")
        if not data["target"]:
            self.add_error("into", _("합칠 과목을 고르거나 새 이름을 쓰세요."))
        return data


class SubjectUnmergeForm(forms.Form):
    name = forms.CharField(max_length=200)


class SubjectAliasAdminForm(forms.ModelForm):
    class Meta:
        model = SubjectAlias
        fields = ("topic", "name", "subject")

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if self.instance.pk is None and not self.errors:
            try:
                subject_merge_check(
                    topic=data["topic"], names=[data["name"]], into=data["subject"]
                )
            except SubjectMergeRefused as exc:
                raise forms.ValidationError(str(exc)) from exc
        return data
