"""Versions of one act: a statute with another 시행일자 is a version of the same
document group, the same version again is a no-op, articles unchanged between
versions are embedded once, and search reads the version in force today."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from study.documents import services
from study.documents.retrieval import search_chunks
from study.documents.services import (
    act_versions_refresh,
    document_add,
    document_ingest,
)
from study.documents.versions import act_version, in_force_on, parse_date
from study.models import Document, DocumentChunk, DocumentStatus, EmbeddingCache


def act_file(
    effective: str, number: str, articles: str, *, law_id: str = "900001"
) -> str:
    return (
        "---\n"
        "제목: 시험안전법\n"
        f"법령ID: '{law_id}'\n"
        f"공포번호: '{number}'\n"
        f"시행일자: {effective}\n"
        "---\n\n# 시험안전법\n\n"
        "##### 제1조 (목적)\n\n이 법은 시험장의 안전을 확보함을 목적으로 한다.\n\n"
        f"{articles}"
    )


V2015 = act_file(
    "2015-01-01",
    "100",
    "##### 제2조 ((점검))\n\n사업주는 압력방출장치를 매년 1회 이상 점검하여야 한다.\n\n"
    "##### 제3조 (봉인)\n\n점검한 후 납으로 봉인하여야 한다.\n",
)
# Rewritten in force from 2020: the inspection article renumbered and its
# interval lengthened; 제3조 unchanged.
V2020 = act_file(
    "2020-01-16",
    "200",
    "##### 제3조 (봉인)\n\n점검한 후 납으로 봉인하여야 한다.\n\n"
    "##### 제5조 (점검)\n\n사업주는 압력방출장치를 2년마다 1회 이상 점검해야 한다.\n",
)
V2099 = act_file(
    "2099-01-01",
    "300",
    "##### 제3조 (봉인)\n\n점검한 후 납으로 봉인하여야 한다.\n\n"
    "##### 제5조 (점검)\n\n사업주는 압력방출장치를 3년마다 1회 이상 점검해야 한다.\n",
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def add(user, topic, text: str, name: str = "act.md"):
    return document_add(
        owner=user,
        topics=[topic],
        title="",
        upload=SimpleUploadedFile(name, text.encode()),
        material_type="law",
        enqueue=False,
    )


def load(user, topic, *texts: str) -> list[Document]:
    """Create every version first, then ingest (as add_documents does)."""
    added = [add(user, topic, text, f"v{i}.md") for i, text in enumerate(texts)]
    for item in added:
        document_ingest(document_id=item.document.pk)
    return [Document.objects.get(pk=item.document.pk) for item in added]


def test_it_reads_the_act_and_version_from_the_front_matter() -> None:
    version = act_version(
        {"법령ID": "001766", "시행일자": "2020-01-16", "공포번호": "16272"}
    )
    assert version is not None
    assert version.act == "법령ID:001766"
    assert version.effective == datetime.date(2020, 1, 16)
    assert version.number == 16272
    by_title = act_version({"제목": "산업안전보건법 시행령", "시행일자": "20200116"})
    assert by_title is not None and by_title.act == "제목:산업안전보건법시행령"
    assert act_version({"제목": "교재"}) is None  # no 시행일자: not a version
    assert parse_date("2020. 1. 16.") == datetime.date(2020, 1, 16)


def test_it_picks_the_version_in_force_on_a_date_by_number_on_a_tie() -> None:
    day = datetime.date(2015, 1, 1)
    rows = [(1, day, 583), (2, day, 117), (3, datetime.date(2014, 12, 31), 116)]
    assert in_force_on(rows, day) == 1
    assert in_force_on(rows, datetime.date(2014, 12, 31)) == 3
    assert in_force_on(rows, datetime.date(2014, 1, 1)) is None


@pytest.mark.django_db
def test_versions_of_one_act_are_one_act_and_search_reads_todays(user, topic) -> None:
    old, current, future = load(user, topic, V2015, V2020, V2099)
    assert {d.status for d in (old, current, future)} == {DocumentStatus.READY}
    assert {d.act_key for d in (old, current, future)} == {"법령ID:900001"}
    assert [d.in_force for d in (old, current, future)] == [False, True, False]
    # Only the version in force carries vectors; the others are read by text.
    with_vectors = DocumentChunk.objects.filter(embedding__isnull=False)
    assert set(with_vectors.values_list("document_id", flat=True)) == {current.pk}
    hits = search_chunks(topic_ids=[topic.pk], query="압력방출장치 점검 주기", k=5)
    assert {h.meta["document_id"] for h in hits} == {current.pk}
    assert any("2년마다" in h.text for h in hits)
    old_hits = search_chunks(
        topic_ids=[topic.pk], query="압력방출장치 점검", document_ids=[old.pk]
    )
    assert old_hits and "매년 1회" in old_hits[0].text
    assert old_hits[0].meta["citation"] == "제2조(점검)"  # ((점검)) read as a title


@pytest.mark.django_db
def test_an_article_unchanged_between_versions_is_embedded_once(
    user, topic, monkeypatch
) -> None:
    embedded: list[str] = []
    real = services.get_embedder()

    class Counting:
        name, dim = real.name, real.dim

        def embed_passages(self, texts):
            embedded.extend(texts)
            return real.embed_passages(texts)

    monkeypatch.setattr(services, "get_embedder", Counting)
    old, current, future = load(user, topic, V2015, V2020, V2099)
    # 2015 is never in force again: not embedded. 2020 and 2099 share 제1조
    # and 제3조: three keys for 2020, one new (제5조) for 2099.
    assert len(embedded) == len(set(embedded)) == 4
    assert EmbeddingCache.objects.count() == 4
    assert sum("제3조(봉인)" in key for key in embedded) == 1


@pytest.mark.django_db
def test_the_same_version_again_is_a_no_op_and_new_text_replaces_it(
    user, topic, other_user
) -> None:
    (first,) = load(user, topic, V2020)
    again = add(user, topic, V2020, "again.md")
    assert again.outcome == "existing" and not again.needs_ingest
    assert again.document.pk == first.pk
    assert Document.objects.count() == 1
    # Another owner's copy is another document.
    add(other_user, topic, V2020)
    assert Document.objects.count() == 2
    fixed = V2020.replace("2년마다", "2년마다(개정)")
    replaced = add(user, topic, fixed, "fixed.md")
    assert replaced.outcome == "replaced"
    assert replaced.document.pk == first.pk
    document = document_ingest(document_id=first.pk)
    assert document.status == DocumentStatus.READY
    assert "2년마다(개정)" in document.text


@pytest.mark.django_db
def test_a_version_coming_into_force_takes_over_search(user, topic) -> None:
    old, current, future = load(user, topic, V2015, V2020, V2099)
    taken = act_versions_refresh(
        owner_id=user.pk,
        act_key=current.act_key,
        today=datetime.date(2099, 1, 1),
    )
    assert taken == future.pk
    current.refresh_from_db()
    future.refresh_from_db()
    assert (current.in_force, future.in_force) == (False, True)
    with_vectors = DocumentChunk.objects.filter(embedding__isnull=False)
    assert set(with_vectors.values_list("document_id", flat=True)) == {future.pk}
    hits = search_chunks(topic_ids=[topic.pk], query="압력방출장치 점검 주기", k=5)
    assert any("3년마다" in h.text for h in hits)
    assert act_versions_refresh(owner_id=user.pk, act_key=current.act_key) == current.pk


@pytest.mark.django_db
def test_add_documents_loads_a_folder_and_a_second_run_is_a_no_op(
    user, topic, tmp_path, capsys
) -> None:
    folder = tmp_path / "history" / "시험안전법"
    folder.mkdir(parents=True)
    for name, text in [
        ("2015-01-01_100.md", V2015),
        ("2020-01-16_200.md", V2020),
        ("2099-01-01_300.md", V2099),
    ]:
        (folder / name).write_text(text, "utf-8")
    (tmp_path / "history" / "README.md").write_text("# 설명\n", "utf-8")
    call_command("add_documents", str(tmp_path / "history"), topic=topic.name)
    first = capsys.readouterr().out
    assert "files=3 " in first and "created=3" in first
    assert Document.objects.filter(status=DocumentStatus.READY).count() == 3
    stamp = list(Document.objects.values_list("pk", "processed_at"))
    call_command("add_documents", str(tmp_path / "history"), topic=topic.name)
    second = capsys.readouterr().out
    assert "created=0" in second and "existing=3" in second
    assert list(Document.objects.values_list("pk", "processed_at")) == stamp


@pytest.mark.django_db
def test_the_documents_page_lists_an_act_once_with_its_versions(
    client, user, topic
) -> None:
    old, current, future = load(user, topic, V2015, V2020, V2099)
    client.force_login(user)
    page = client.get(reverse("study:documents", args=[topic.pk])).content.decode()
    assert page.count('data-act="법령ID:900001"') == 1
    assert f'id="document-{current.pk}"' in page
    assert 'data-versions="3"' in page
    assert "다른 버전 2개" in page
    assert "시행 2015-01-01" in page and "시행 2099-01-01" in page
    # Removing the version in force hands search to the next one.
    client.post(reverse("study:document_delete", args=[topic.pk, current.pk]))
    act_versions_refresh(owner_id=user.pk, act_key=old.act_key)
    old.refresh_from_db()
    assert old.in_force
