"""Security pass 2 (issue 24): uploaded question files move from a bytea column
to the file storage (read as streams), a failed import keeps its reason as a
code with parameters, and every LLM call is recorded against the user who
caused it (the per-user AI budget)."""

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
        ("study", "0015_regrade_counts_labels"),
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
    ]
