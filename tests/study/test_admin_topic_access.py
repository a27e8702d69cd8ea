"""Issue 24, N5: the admin obeys topic access and the web's caps and quotas.

A staff user with only import or document permissions works on the topics
they may manage (their own, or all with study.change_topic), like on the web,
and uploads go through the same size cap and quotas."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from study.models import Document, QuestionImport, Topic
from tests.study.imports.test_import_questions import HEADER, row

CSV = ("\n".join([HEADER, row(1), row(2)]) + "\n").encode()


def staff_with(*codenames):
    account = get_user_model().objects.create_user(
        username="-".join(codenames)[:150], password="x", is_staff=True
    )
    account.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return account


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def private_topic(other_user):
    return Topic.objects.create(name="남의 비공개 토픽", owner=other_user)


def test_an_importer_cannot_import_into_a_topic_they_cannot_manage(
    client, media, private_topic
):
    importer = staff_with(
        "add_questionimport", "change_questionimport", "view_questionimport"
    )
    own = Topic.objects.create(name="내 토픽", owner=importer)
    client.force_login(importer)
    add = reverse("admin:study_questionimport_add")
    page = client.get(add).content.decode()
    assert "내 토픽" in page and "남의 비공개 토픽" not in page
    response = client.post(
        add,
        {"topic": private_topic.pk, "files": [SimpleUploadedFile("a.csv", CSV)]},
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not QuestionImport.objects.exists()
    response = client.post(
        add, {"topic": own.pk, "files": [SimpleUploadedFile("a.csv", CSV)]}
    )
    assert response.status_code == 302
    assert QuestionImport.objects.get().topic == own


def test_a_viewer_cannot_read_imports_of_topics_they_cannot_manage(
    client, media, other_user, private_topic
):
    client.force_login(other_user)
    client.post(
        reverse("study:import_new", args=[private_topic.pk]),
        {"files": [SimpleUploadedFile("a.csv", CSV)]},
    )
    run = QuestionImport.objects.get()
    viewer = staff_with("view_questionimport")
    client.force_login(viewer)
    listing = client.get(reverse("admin:study_questionimport_changelist"))
    assert listing.status_code == 200
    assert "남의 비공개 토픽" not in listing.content.decode()
    for name in ("change", "report"):
        url = reverse(f"admin:study_questionimport_{name}", args=[run.pk])
        assert client.get(url).status_code == 404


def document_post(topic, owner, upload):
    return {
        "owner": owner.pk,
        "topics": [topic.pk],
        "title": "교재",
        "file": upload,
        "material_type": "notes",
        "jurisdiction": "",
        "year": "",
        "summary": "",
        "chunks-TOTAL_FORMS": 0,
        "chunks-INITIAL_FORMS": 0,
        "chunks-MIN_NUM_FORMS": 0,
        "chunks-MAX_NUM_FORMS": 0,
    }


def test_admin_uploads_keep_to_managed_topics_the_cap_and_the_quotas(
    client, media, settings, other_user, private_topic
):
    uploader = staff_with("add_document", "view_document")
    own = Topic.objects.create(name="내 토픽", owner=uploader)
    client.force_login(uploader)
    add = reverse("admin:study_document_add")

    def post(topic, upload):
        return client.post(add, document_post(topic, other_user, upload))

    # Another user's private topic is not a choice.
    response = post(private_topic, SimpleUploadedFile("a.txt", b"note"))
    assert response.status_code == 200 and not Document.objects.exists()
    # Over the web's 20 MB cap.
    big = SimpleUploadedFile("big.txt", b"x" * (21 * 2**20))
    response = post(own, big)
    assert "파일이 너무 큽니다 (최대 20MB)" in response.content.decode()
    assert not Document.objects.exists()
    # Within it: stored, owned by the uploader (not the owner posted).
    assert post(own, SimpleUploadedFile("a.txt", b"note")).status_code == 302
    document = Document.objects.get()
    assert document.owner == uploader and list(document.topics.all()) == [own]
    # Past the count quota.
    settings.DOCUMENT_QUOTA_COUNT = 1
    response = post(own, SimpleUploadedFile("b.txt", b"note"))
    assert "자료는 1개까지 올릴 수 있습니다" in response.content.decode()
    assert Document.objects.count() == 1


def test_the_document_list_shows_only_managed_topics_and_own_documents(
    client, media, other_user, private_topic
):
    theirs = Document.objects.create(
        owner=other_user, title="남의 자료", file=SimpleUploadedFile("t.txt", b"t")
    )
    theirs.topics.set([private_topic])
    viewer = staff_with("view_document")
    client.force_login(viewer)
    listing = client.get(reverse("admin:study_document_changelist"))
    assert "남의 자료" not in listing.content.decode()
    change = reverse("admin:study_document_change", args=[theirs.pk])
    assert client.get(change).status_code in (302, 404)
