"""An owner's topic moves to another instance: questions, figures, documents."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from study.documents.services import document_create
from study.models import ExamSpec, Question, Topic
from study.services.exam_specs import exam_spec_save
from tests.conftest import make_question
from tests.study.exports.helpers import give_figure
from tests.study.learner_helpers import make_bank

pytestmark = pytest.mark.django_db


@pytest.fixture
def exported(client, user, topic, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    questions = make_bank(topic)
    give_figure(questions[2])
    make_question(topic, None, year=None, session="", stem="회차 없는 문제")
    document_create(
        owner=user,
        topics=[topic],
        title="안전 노트",
        upload=SimpleUploadedFile("notes.md", "# 추락\n안전난간".encode()),
        material_type="notes",
        enqueue=False,
    )
    exam_spec_save(
        topic=topic,
        subjects=["과목1", "과목2"],
        questions_per_subject=5,
        time_limit_minutes=30,
    )
    client.force_login(user)
    response = client.get(reverse("study:topic_export", args=[topic.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_an_exported_topic_imports_whole_on_another_account(client, exported, topic):
    newcomer = get_user_model().objects.create_user(
        username="new", password="pw-new-12345"
    )
    client.force_login(newcomer)
    upload = SimpleUploadedFile("topic.zip", exported, content_type="application/zip")
    response = client.post(reverse("study:topic_import"), {"file": upload, "name": ""})

    copy = Topic.objects.get(owner=newcomer)
    assert response.status_code == 302 and response["Location"].endswith(f"/{copy.pk}/")
    assert copy.name == topic.name
    fields = ("exam_year", "exam_session", "number", "stem", "correct_choice")
    source = sorted(Question.objects.filter(topic=topic).values_list(*fields), key=str)
    copied = sorted(Question.objects.filter(topic=copy).values_list(*fields), key=str)
    assert copied == source and len(copied) == 31
    original = Question.objects.get(topic=topic, figure__gt="")
    twin = Question.objects.get(topic=copy, figure__gt="")
    assert (twin.exam_year, twin.exam_session, twin.number) == (
        original.exam_year,
        original.exam_session,
        original.number,
    )
    assert twin.figure.name != original.figure.name
    assert twin.figure.open("rb").read()[:8] == b"\x89PNG\r\n\x1a\n"
    document = copy.documents.get()
    assert (document.title, document.material_type) == ("안전 노트", "notes")
    assert document.file.open("rb").read() == "# 추락\n안전난간".encode()
    assert ExamSpec.objects.get(topic=copy).subjects == ["과목1", "과목2"]


def test_importing_twice_under_one_name_is_refused_and_saves_nothing(
    client, user, exported
):
    upload = SimpleUploadedFile("topic.zip", exported)
    response = client.post(reverse("study:topic_import"), {"file": upload}, follow=True)
    assert "토픽이 이미 있습니다" in response.content.decode()
    assert Topic.objects.filter(owner=user).count() == 1


@pytest.mark.parametrize("mangle", ["not a zip", "bad figure", "bad question"])
def test_a_broken_file_is_refused_with_a_message_and_nothing_saved(
    client, user, exported, mangle
):
    if mangle == "not a zip":
        data = b"PK\x03\x04 nonsense"
    else:
        source = zipfile.ZipFile(io.BytesIO(exported))
        manifest = json.loads(source.read("gichul-topic.json"))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as out:
            for name in source.namelist():
                body = source.read(name)
                if name.startswith("figures/") and mangle == "bad figure":
                    body = b"<svg onload=alert(1)>"
                if name == "gichul-topic.json":
                    if mangle == "bad question":
                        manifest["questions"][0]["correct_choice"] = 9
                    body = json.dumps(manifest).encode()
                out.writestr(name, body)
        data = buffer.getvalue()
    upload = SimpleUploadedFile("topic.zip", data)
    response = client.post(
        reverse("study:topic_import"), {"file": upload, "name": "복사본"}, follow=True
    )
    assert response.status_code == 200
    assert (
        response.context["messages"]
        and not Topic.objects.filter(name="복사본").exists()
    )


def test_only_an_owner_exports(client, other_user, topic):
    client.force_login(other_user)
    assert client.get(reverse("study:topic_export", args=[topic.pk])).status_code == 404


def test_the_commands_move_a_topic(user, topic, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    make_bank(topic)
    out = tmp_path / "topic.zip"
    call_command("export_topic", str(out), "--topic", topic.name)
    call_command("import_topic", str(out), "--owner", user.username, "--name", "사본")
    assert Question.objects.filter(topic__name="사본").count() == 30
