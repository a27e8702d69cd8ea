"""Security pass 2 (issue 24): uploaded question files move from a bytea column
to the file storage (read as streams), a failed import keeps its reason as a
code with parameters, and every LLM call is recorded against the user who
caused it (the per-user AI budget), whose reason joins the job error codes."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import migrations, models

import study.models.question_import


def bytes_to_files(apps, schema_editor):
    QuestionImportFile = apps.get_model("study", "QuestionImportFile")
    for upload in QuestionImportFile.objects.iterator():
        data = bytes(upload.data or b"")
        upload.file.save(f"{uuid.uuid4().hex}.upload", ContentFile(data), save=True)


class Migration(migrations.Migration):
    dependencies = [
        ("study", "0018_vocabulary_and_jobs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="questionimportfile",
            name="file",
            field=models.FileField(
                blank=True,
                max_length=200,
                upload_to=study.models.question_import.import_file_path,
                verbose_name="올린 파일",
            ),
        ),
        migrations.RunPython(bytes_to_files, migrations.RunPython.noop),
        migrations.RemoveField(model_name="questionimportfile", name="data"),
        migrations.AddField(
            model_name="questionimport",
            name="error_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("too_many_rows", "행이 너무 많음"),
                    ("files_gone", "올린 파일이 지워짐"),
                    ("report_not_saved", "보고서를 저장하지 못함"),
                    ("enqueue_failed", "작업 큐에 넣지 못함"),
                    ("unexpected", "예상하지 못한 오류"),
                ],
                max_length=20,
                verbose_name="실패 이유",
            ),
        ),
        migrations.AddField(
            model_name="questionimport",
            name="error_params",
            field=models.JSONField(
                blank=True, default=dict, verbose_name="실패 이유의 값"
            ),
        ),
        migrations.AddConstraint(
            model_name="questionimport",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    error_code__in=[
                        "",
                        "too_many_rows",
                        "files_gone",
                        "report_not_saved",
                        "enqueue_failed",
                        "unexpected",
                    ]
                ),
                name="study_questionimport_error_code_valid",
            ),
        ),
        migrations.CreateModel(
            name="AISpend",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("purpose", models.CharField(max_length=40, verbose_name="용도")),
                (
                    "tokens",
                    models.PositiveIntegerField(default=0, verbose_name="토큰 (추정)"),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="시각"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="사용자",
                    ),
                ),
            ],
            options={
                "verbose_name": "AI 사용 기록",
                "verbose_name_plural": "AI 사용 기록",
                "indexes": [
                    models.Index(
                        fields=["user", "created_at"], name="study_aispend_user_time"
                    ),
                    models.Index(fields=["created_at"], name="study_aispend_time"),
                ],
            },
        ),
        # The AI budget's reason is one of the job error codes.
        migrations.RemoveConstraint(
            model_name="questionjob",
            name="study_qjob_error_code_valid",
        ),
        migrations.RemoveConstraint(
            model_name="sessionjob",
            name="study_sjob_error_code_valid",
        ),
        migrations.RemoveConstraint(
            model_name="subjectnote",
            name="study_subject_note_error_code_valid",
        ),
        migrations.AlterField(
            model_name="questionjob",
            name="error_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("llm_timeout", "LLM이 제한 시간 안에 답하지 않았습니다"),
                    (
                        "gate_timeout",
                        "LLM이 다른 요청을 처리하느라 차례가 오지 않았습니다",
                    ),
                    ("llm_http_error", "LLM 서버가 오류로 답했습니다"),
                    ("parse_fail", "LLM의 답이 약속한 형식이 아니었습니다"),
                    (
                        "guard_fail",
                        "LLM이 쓴 해설이 정답과 맞지 않아 보여 주지 않습니다",
                    ),
                    ("content_changed", "생성 중에 문제가 수정되었습니다"),
                    ("stale_processing", "작업하던 워커가 멈췄습니다"),
                    ("not_configured", "LLM 서버가 설정되어 있지 않습니다"),
                    ("unknown", "예상하지 못한 오류가 났습니다"),
                    ("busy", "다른 요청이 같은 내용을 만들고 있습니다"),
                    ("evidence_missing", "근거로 쓸 자료가 없습니다"),
                    ("no_attempts", "분석할 답안이 없습니다"),
                    ("budget_exceeded", "이 계정의 AI 사용 한도를 다 썼습니다"),
                ],
                max_length=40,
                verbose_name="오류 코드",
            ),
        ),
        migrations.AlterField(
            model_name="sessionjob",
            name="error_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("llm_timeout", "LLM이 제한 시간 안에 답하지 않았습니다"),
                    (
                        "gate_timeout",
                        "LLM이 다른 요청을 처리하느라 차례가 오지 않았습니다",
                    ),
                    ("llm_http_error", "LLM 서버가 오류로 답했습니다"),
                    ("parse_fail", "LLM의 답이 약속한 형식이 아니었습니다"),
                    (
                        "guard_fail",
                        "LLM이 쓴 해설이 정답과 맞지 않아 보여 주지 않습니다",
                    ),
                    ("content_changed", "생성 중에 문제가 수정되었습니다"),
                    ("stale_processing", "작업하던 워커가 멈췄습니다"),
                    ("not_configured", "LLM 서버가 설정되어 있지 않습니다"),
                    ("unknown", "예상하지 못한 오류가 났습니다"),
                    ("busy", "다른 요청이 같은 내용을 만들고 있습니다"),
                    ("evidence_missing", "근거로 쓸 자료가 없습니다"),
                    ("no_attempts", "분석할 답안이 없습니다"),
                    ("budget_exceeded", "이 계정의 AI 사용 한도를 다 썼습니다"),
                ],
                max_length=40,
                verbose_name="오류 코드",
            ),
        ),
        migrations.AlterField(
            model_name="subjectnote",
            name="error_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("llm_timeout", "LLM이 제한 시간 안에 답하지 않았습니다"),
                    (
                        "gate_timeout",
                        "LLM이 다른 요청을 처리하느라 차례가 오지 않았습니다",
                    ),
                    ("llm_http_error", "LLM 서버가 오류로 답했습니다"),
                    ("parse_fail", "LLM의 답이 약속한 형식이 아니었습니다"),
                    (
                        "guard_fail",
                        "LLM이 쓴 해설이 정답과 맞지 않아 보여 주지 않습니다",
                    ),
                    ("content_changed", "생성 중에 문제가 수정되었습니다"),
                    ("stale_processing", "작업하던 워커가 멈췄습니다"),
                    ("not_configured", "LLM 서버가 설정되어 있지 않습니다"),
                    ("unknown", "예상하지 못한 오류가 났습니다"),
                    ("busy", "다른 요청이 같은 내용을 만들고 있습니다"),
                    ("evidence_missing", "근거로 쓸 자료가 없습니다"),
                    ("no_attempts", "분석할 답안이 없습니다"),
                    ("budget_exceeded", "이 계정의 AI 사용 한도를 다 썼습니다"),
                ],
                max_length=40,
                verbose_name="오류 코드",
            ),
        ),
        migrations.AddConstraint(
            model_name="questionjob",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "error_code__in",
                        [
                            "",
                            "llm_timeout",
                            "gate_timeout",
                            "llm_http_error",
                            "parse_fail",
                            "guard_fail",
                            "content_changed",
                            "stale_processing",
                            "not_configured",
                            "unknown",
                            "busy",
                            "evidence_missing",
                            "no_attempts",
                            "budget_exceeded",
                        ],
                    )
                ),
                name="study_qjob_error_code_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="sessionjob",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "error_code__in",
                        [
                            "",
                            "llm_timeout",
                            "gate_timeout",
                            "llm_http_error",
                            "parse_fail",
                            "guard_fail",
                            "content_changed",
                            "stale_processing",
                            "not_configured",
                            "unknown",
                            "busy",
                            "evidence_missing",
                            "no_attempts",
                            "budget_exceeded",
                        ],
                    )
                ),
                name="study_sjob_error_code_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="subjectnote",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "error_code__in",
                        [
                            "",
                            "llm_timeout",
                            "gate_timeout",
                            "llm_http_error",
                            "parse_fail",
                            "guard_fail",
                            "content_changed",
                            "stale_processing",
                            "not_configured",
                            "unknown",
                            "busy",
                            "evidence_missing",
                            "no_attempts",
                            "budget_exceeded",
                        ],
                    )
                ),
                name="study_subject_note_error_code_valid",
            ),
        ),
    ]
