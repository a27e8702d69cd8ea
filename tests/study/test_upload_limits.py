"""M3: per-user upload quotas and a hostile PDF. L5: figures checked and re-encoded."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from study.documents.services import document_ingest
from study.models import Document, DocumentStatus, Question
from tests.conftest import make_question
from tests.study.hostile_pdf import inflating_stream_pdf, nested_forms_pdf
from tests.study.test_browsing_and_authoring import form_data


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def image_bytes(fmt="PNG", size=(40, 30), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "white").save(out, fmt, **save)
    return out.getvalue()


def upload_document(client, topic, name, data):
    return client.post(
        reverse("study:documents", args=[topic.pk]),
        {
            "title": name,
            "material_type": "notes",
            "file": SimpleUploadedFile(name, data),
        },
    )


# --- documents ----------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile", [inflating_stream_pdf, nested_forms_pdf], ids=["inflating", "nested"]
)
def test_a_tiny_pdf_that_inflates_hugely_fails_with_a_reason(
    client, user, topic, media, hostile
):
    data = hostile()
    assert len(data) < 64 * 1024  # tiny on the wire
    client.force_login(user)

    assert upload_document(client, topic, "bomb.pdf", data).status_code == 302
    document = document_ingest(document_id=Document.objects.get().pk)

    assert document.status == DocumentStatus.FAILED
    assert document.error.startswith("PDF 1쪽의 내용이 너무 큽니다 (압축을 푼 크기")
    assert document.text == "" and document.chunks.count() == 0
    page = client.get(reverse("study:documents", args=[topic.pk])).content.decode()
    assert "내용이 너무 큽니다" in page  # the learner sees why


def test_an_ordinary_pdf_is_within_the_bounds(user, topic, media):
    from study.documents.services import document_create
    from tests.study.documents.test_documents import pdf_bytes

    document = document_create(
        owner=user,
        topics=[topic],
        title="정상",
        upload=SimpleUploadedFile("ok.pdf", pdf_bytes(["Interlock guard"] * 40)),
    )
    document = document_ingest(document_id=document.pk)
    assert document.status == DocumentStatus.READY, document.error


def test_a_user_may_have_only_a_few_documents_processing(
    client, user, topic, media, settings
):
    settings.DOCUMENT_MAX_PROCESSING = 2
    client.force_login(user)
    for n in range(2):
        upload_document(client, topic, f"n{n}.txt", "안전 노트".encode())

    refused = upload_document(client, topic, "n3.txt", "안전 노트".encode())

    assert refused.status_code == 200
    assert "처리 중인 자료가 2개 있습니다" in refused.content.decode()
    assert Document.objects.count() == 2
    # Another user is not held up by this one.
    other = get_user_model().objects.create_user(username="o", password="x")
    topic.is_shared = True
    topic.save()
    other_topic = topic.__class__.objects.create(name="다른", owner=other)
    client.force_login(other)
    assert upload_document(client, other_topic, "a.txt", b"x").status_code == 302


def test_document_bytes_and_count_quotas(client, user, topic, media, settings):
    settings.DOCUMENT_QUOTA_BYTES = 1000
    client.force_login(user)
    upload_document(client, topic, "a.txt", b"a" * 600)
    Document.objects.update(status=DocumentStatus.READY)

    too_big = upload_document(client, topic, "b.txt", b"b" * 600)
    assert "자료 저장 한도(0MB)를 넘습니다" in too_big.content.decode()

    settings.DOCUMENT_QUOTA_BYTES = 10**9
    settings.DOCUMENT_QUOTA_COUNT = 1
    too_many = upload_document(client, topic, "c.txt", b"c")
    assert "자료는 1개까지" in too_many.content.decode()
    assert Document.objects.count() == 1


# --- figures ------------------------------------------------------------------


def post_figure(client, question, name, data):
    return client.post(
        reverse("study:question_edit", args=[question.pk]),
        form_data(
            exam_year=2020,
            exam_session="1",
            number=question.number,
            needs_figure="on",
            figure=SimpleUploadedFile(name, data, content_type="image/png"),
        ),
    )


@pytest.fixture
def figure_question(topic):
    return make_question(topic, 7, needs_figure=True)


def test_a_huge_pixel_count_is_refused(client, user, figure_question, media):
    bomb = image_bytes(size=(12000, 12000), mode="1")
    assert len(bomb) < 1024 * 1024  # small file, 144 million pixels
    client.force_login(user)

    response = post_figure(client, figure_question, "bomb.png", bomb)

    assert response.status_code == 200
    assert "그림이 너무 큽니다 (최대 16백만 화소" in response.content.decode()
    figure_question.refresh_from_db()
    assert not figure_question.figure


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("fig.bmp", image_bytes("BMP")),
        ("fig.tif", image_bytes("TIFF")),
        ("fig.ico", image_bytes("ICO", size=(16, 16))),
        ("fig.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
        ("fig.pdf", b"%PDF-1.4 not an image"),
    ],
)
def test_only_png_jpeg_gif_webp_are_accepted(
    client, user, figure_question, media, name, data
):
    client.force_login(user)
    response = post_figure(client, figure_question, name, data)
    assert response.status_code == 200
    figure_question.refresh_from_db()
    assert not figure_question.figure


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
    ],
)
def test_a_figure_is_stored_and_served_as_its_real_type(
    client, user, figure_question, media, fmt, content_type
):
    client.force_login(user)

    response = post_figure(client, figure_question, "figure.pdf", image_bytes(fmt))

    assert response.status_code == 302
    figure_question.refresh_from_db()
    assert figure_question.figure.name.endswith(
        "." + content_type.split("/")[1].replace("jpeg", "jpg")
    )
    served = client.get(reverse("study:question_figure", args=[figure_question.pk]))
    assert served["Content-Type"] == content_type
    assert Question.objects.quizzable().filter(pk=figure_question.pk).exists()


def test_a_figure_is_re_encoded_without_its_extra_bytes(
    client, user, figure_question, media
):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    data = image_bytes("PNG", pnginfo=info) + b"<html><script>alert(2)</script>"
    client.force_login(user)

    post_figure(client, figure_question, "f.png", data)

    figure_question.refresh_from_db()
    stored = figure_question.figure.read()
    assert b"script" not in stored
    assert Image.open(io.BytesIO(stored)).size == (40, 30)


def test_a_stored_file_that_is_not_an_image_is_not_served(
    client, user, figure_question, media
):
    (media / "figures").mkdir()
    (media / "figures" / "old.png").write_bytes(b"%PDF-1.4 old upload")
    Question.objects.filter(pk=figure_question.pk).update(figure="figures/old.png")
    client.force_login(user)

    response = client.get(reverse("study:question_figure", args=[figure_question.pk]))

    assert response.status_code == 404


def test_figures_have_a_per_owner_quota(
    client, user, topic, figure_question, media, settings
):
    first = make_question(topic, 8, needs_figure=True)
    client.force_login(user)
    assert post_figure(client, first, "a.png", image_bytes()).status_code == 302
    first.refresh_from_db()
    settings.FIGURE_QUOTA_BYTES = first.figure.size + 10

    response = post_figure(client, figure_question, "b.png", image_bytes())

    assert "그림 저장 한도" in response.content.decode()
    figure_question.refresh_from_db()
    assert not figure_question.figure


def test_the_admin_checks_figures_too(client, staff_user, figure_question, media):
    client.force_login(staff_user)
    url = reverse("admin:study_question_change", args=[figure_question.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        topic=figure_question.topic_id,
        figure=SimpleUploadedFile("x.png", image_bytes(size=(12000, 12000), mode="1")),
        ai_explanation_status="none",
    )

    response = client.post(url, data)

    assert response.status_code == 200
    assert "그림이 너무 큽니다" in response.content.decode()
    figure_question.refresh_from_db()
    assert not figure_question.figure
