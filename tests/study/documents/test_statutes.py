"""Study documents on real statutes (issue 11): structure-aware chunks with
citations, front matter, bounded extraction, progress, retry, commands,
relevance cut, prompt budget."""

import io
import json
import zlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from study.documents.chunking import (
    CHUNK_MAX,
    chunk_text,
    split_front_matter,
)
from study.documents.extraction import DocumentRejected
from study.documents.retrieval import search_chunks
from study.documents.services import document_create, document_ingest, document_retry
from study.llm.budget import estimate_tokens, pack_best_first, prompt_budget
from study.models import Document, DocumentStatus, MaterialType
from tests.conftest import make_question
from tests.shared_data import SHARED_DOCUMENTS, needs_shared

STATUTE_MD = """---
제목: 시험안전규칙
공포일자: 2025-12-01
시행일자: 2026-01-01
출처: https://www.law.go.kr/법령/시험안전규칙
첨부파일:
- 별표번호: '0003'
  별표가지번호: '00'
  별표구분: 별표
  제목: 작업시작 전 점검사항(제35조제2항 관련)
  PDF링크: https://www.law.go.kr/LSW/flDownload.do?flSeq=1
---

# 시험안전규칙

# 제1편 총칙

## 제1장 통칙

##### 제1조 (목적)

이 규칙은 시험 작업장의 안전에 관한 사항을 규정함을 목적으로 한다.

## 제6장 추락 또는 붕괴에 의한 위험 방지

### 제1절 추락에 의한 위험 방지

##### 제42조 (추락의 방지)

**①** 사업주는 근로자가 추락할 위험이 있는 장소에서 작업발판을 설치하여야 한다. {long1}

**②** 사업주는 작업발판을 설치하기 곤란한 경우 추락방호망을 설치해야 한다. {long2}

  1\\. 추락방호망의 설치위치는 작업면으로부터 망의 처짐까지 10미터 이내일 것
  2\\. 추락방호망은 수평으로 설치할 것

**③** 사업주는 추락방호망을 설치하기 곤란한 경우 안전대를 착용하게 해야 한다.

##### 제42조의2 (사다리의 사용)

사업주는 이동식 사다리를 사용하는 경우 다음 각 호의 사항을 준수하여야 한다.

  1\\. 평탄하고 견고한 바닥에 설치할 것
    가\\. 미끄럼 방지 조치를 할 것

##### 제43조

삭제 <2024.6.28>

## 부칙

부칙 <제1호,2025.12.1>

제1조(시행일) 이 규칙은 공포한 날부터 시행한다.
"""


def statute_text() -> str:
    return STATUTE_MD.format(
        long1="발판의 폭은 40센티미터 이상으로 한다. " * 25,
        long2="망은 한국산업표준에 맞는 것을 사용한다. " * 25,
    )


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def ingest(user, topic, name, data: bytes, **kwargs) -> Document:
    document = document_create(
        owner=user,
        topics=[topic],
        title=kwargs.pop("title", ""),
        upload=SimpleUploadedFile(name, data),
        enqueue=False,
        **kwargs,
    )
    return document_ingest(document_id=document.pk)


# -- chunking -----------------------------------------------------------------


def test_front_matter_becomes_fields_and_is_not_chunked():
    meta, body = split_front_matter(statute_text())
    assert meta.title == "시험안전규칙"
    assert (meta.promulgated, meta.effective) == ("2025-12-01", "2026-01-01")
    assert meta.source_url.startswith("https://www.law.go.kr/")
    assert meta.annexes == [
        {
            "label": "별표 3",
            "title": "작업시작 전 점검사항(제35조제2항 관련)",
            "url": "https://www.law.go.kr/LSW/flDownload.do?flSeq=1",
        }
    ]
    assert all(
        "공포일자" not in c.text and "flSeq" not in c.text for c in chunk_text(body)
    )


def test_malformed_front_matter_is_kept_as_text_not_lost():
    meta, body = split_front_matter("---\n제목: [깨진\n---\n본문")
    assert meta.title == "" and "본문" in body and "깨진" in body


def test_statute_chunks_carry_citations_and_never_span_two_articles():
    _, body = split_front_matter(statute_text())
    chunks = chunk_text(body)
    citations = [c.citation for c in chunks]
    assert citations[0] == "제1조(목적)"
    assert chunks[0].section == "제1편 총칙 › 제1장 통칙"
    art42 = [c for c in chunks if c.article == "제42조"]
    assert len(art42) >= 2, "a long article is split at 항"
    assert [c.citation for c in art42][0].startswith("제42조(추락의 방지) ①")
    assert any(c.citation.endswith("③") for c in art42)
    for chunk in art42:  # the article heading is repeated in every piece
        assert chunk.text.startswith("제42조(추락의 방지)\n")
        assert chunk.section.endswith("제1절 추락에 의한 위험 방지")
        assert "제42조의2" not in chunk.text
    assert "1. 추락방호망의 설치위치" in "\n".join(c.text for c in art42)
    sub = next(c for c in chunks if c.article == "제42조의2")
    assert sub.citation == "제42조의2(사다리의 사용)"
    assert "가. 미끄럼 방지" in sub.text  # 호 and 목 stay with their article
    assert not any(c.article == "제43조" for c in chunks), "deleted article skipped"
    addenda = [c for c in chunks if c.article.startswith("부칙")]
    assert addenda and addenda[0].citation == "부칙 제1조(시행일)"
    assert all(len(c.text) <= CHUNK_MAX for c in chunks)


def test_plain_text_statutes_as_extracted_from_pdf_are_recognised():
    text = (
        "제2장 안전보건관리체제\n"
        "제15조(안전보건관리책임자) ① 사업주는 사업장을 총괄하여 관리하는 사람에게 "
        "다음 각 호의 업무를 총괄하게 하여야 한다.\n"
        "1. 산업재해 예방계획의 수립에 관한 사항\n"
        "② 안전보건관리책임자는 안전관리자를 지휘ㆍ감독한다.\n"
        "제16조(관리감독자) 사업주는 관리감독자에게 업무를 하도록 하여야 한다. "
        "제15조에 따라 지휘한다.\n"
    )
    chunks = chunk_text(text)
    assert [c.citation for c in chunks] == [
        "제15조(안전보건관리책임자)",
        "제16조(관리감독자)",
    ]
    assert chunks[0].section == "제2장 안전보건관리체제"
    assert "제15조에 따라" in chunks[1].text  # a reference is not a new article


def test_other_documents_keep_their_markdown_heading_path():
    text = (
        "# 교재\n\n## 2장 기계 안전\n\n### 방호장치\n\n인터록은 가드가 열리면 멈춘다.\n"
    )
    chunks = chunk_text(text)
    assert [(c.citation, c.article) for c in chunks] == [
        ("2장 기계 안전 › 방호장치", "")
    ]


@needs_shared
def test_the_six_shared_statutes_chunk_by_article():
    for path in sorted(SHARED_DOCUMENTS.glob("*.md")):
        if path.name == "README.md":
            continue
        meta, body = split_front_matter(path.read_text(encoding="utf-8"))
        assert meta.title and meta.effective, path.name
        chunks = chunk_text(body)
        assert chunks, path.name
        for chunk in chunks:
            assert len(chunk.text) <= CHUNK_MAX, (path.name, chunk.citation)
            heads = [ln for ln in chunk.text.split("\n") if ln.startswith("제")]
            if chunk.article and not chunk.article.startswith("부칙"):
                assert chunk.citation.startswith(chunk.article), chunk.citation
                assert heads[0].startswith(chunk.article)
    meta, body = split_front_matter(
        (SHARED_DOCUMENTS / "산업안전보건기준에관한규칙.md").read_text("utf-8")
    )
    assert len(meta.annexes) == 23
    art42 = [c.citation for c in chunk_text(body) if c.article == "제42조"]
    assert art42[0].startswith("제42조(추락의 방지) ①")


# -- ingest -------------------------------------------------------------------


def test_ingest_stores_citations_fields_and_progress(user, topic):
    document = ingest(user, topic, "시험안전규칙.md", statute_text().encode())
    assert document.status == DocumentStatus.READY, document.error
    assert document.title == "시험안전규칙"  # from the front matter
    assert document.effective_on == "2026-01-01"
    assert document.annexes[0]["label"] == "별표 3"
    assert "공포일자" not in document.text
    assert document.pieces_done == document.pieces_total == document.chunk_count
    chunk = document.chunks.get(ordinal=0)
    assert (chunk.citation, chunk.article) == ("제1조(목적)", "제1조")
    assert all(c.embedding is not None for c in document.chunks.all())


def test_a_title_typed_by_the_user_wins_over_the_front_matter(user, topic):
    document = ingest(
        user, topic, "rules.md", statute_text().encode(), title="내 규칙 노트"
    )
    assert document.title == "내 규칙 노트"


def test_evidence_names_its_citation(user, topic):
    ingest(user, topic, "시험안전규칙.md", statute_text().encode())
    hits = search_chunks(
        topic_ids=[topic.pk], query="추락방호망의 설치위치는 작업면으로부터 몇 미터"
    )
    assert hits[0].title.startswith("시험안전규칙 제42조(추락의 방지)")
    assert hits[0].meta["article"] == "제42조"


def test_unrelated_queries_get_no_evidence(user, topic):
    ingest(user, topic, "시험안전규칙.md", statute_text().encode())
    query = "매슬로우의 욕구 5단계 이론 중 2단계 욕구는 안전 욕구이다"
    assert search_chunks(topic_ids=[topic.pk], query=query) == []
    assert search_chunks(topic_ids=[topic.pk], query=query, cut=False)


def hostile_pdf(repeat: int) -> bytes:
    """A few KB of PDF whose compressed page expands to a huge amount of text."""
    line = b"(" + b"A" * 200 + b") Tj 0 -1 Td "
    content = zlib.compress(b"BT /F1 1 Tf " + line * repeat + b"ET", 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
        + content
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, xref)
    )
    return out.getvalue()


def test_a_small_pdf_that_expands_to_huge_text_fails_fast_with_a_reason(user, topic):
    data = hostile_pdf(repeat=3000)  # ~600k characters of text
    assert len(data) < 20_000
    document = ingest(user, topic, "bomb.pdf", data)
    assert document.status == DocumentStatus.FAILED
    assert "부풀려진" in document.error
    assert not document.chunks.exists()


def test_too_many_pdf_pages_are_refused(user, topic, monkeypatch):
    monkeypatch.setattr("study.documents.extraction.MAX_PDF_PAGES", 0)
    document = ingest(user, topic, "one.pdf", hostile_pdf(repeat=1))
    assert document.status == DocumentStatus.FAILED and "쪽수" in document.error


def test_extraction_that_exceeds_its_cpu_or_memory_limit_fails(
    user, topic, monkeypatch
):
    """pypdf runs in a child process; a memory cap it cannot live under is a
    clear failure, not a dead worker."""
    monkeypatch.setattr("study.documents.extraction.EXTRACT_MEMORY_BYTES", 32 * 2**20)
    document = ingest(user, topic, "small.pdf", hostile_pdf(repeat=1))
    assert document.status == DocumentStatus.FAILED
    assert "메모리" in document.error or "읽을 수 없습니다" in document.error


def test_very_long_text_files_are_refused_at_upload(user, topic, monkeypatch):
    # A text file is read when it is added (its front matter names the act and
    # version), so a file over the limit is refused then, with the reason, and
    # nothing is stored.
    monkeypatch.setattr("study.documents.extraction.MAX_TEXT_CHARS", 1000)
    with pytest.raises(DocumentRejected, match="너무 깁니다"):
        ingest(user, topic, "long.txt", ("가" * 1001).encode())
    assert not Document.objects.filter(owner=user).exists()


def test_a_document_whose_worker_died_is_taken_over_then_given_up(user, topic):
    document = document_create(
        owner=user,
        topics=[topic],
        title="",
        upload=SimpleUploadedFile("r.md", statute_text().encode()),
        enqueue=False,
    )
    long_ago = timezone.now() - timedelta(hours=1)
    Document.objects.filter(pk=document.pk).update(
        status=DocumentStatus.PROCESSING, heartbeat_at=long_ago, attempts=1
    )
    # a live worker (recent heartbeat) is left alone
    Document.objects.filter(pk=document.pk).update(heartbeat_at=timezone.now())
    assert document_ingest(document_id=document.pk).status == DocumentStatus.PROCESSING
    # a dead one is taken over and finished
    Document.objects.filter(pk=document.pk).update(heartbeat_at=long_ago)
    assert document_ingest(document_id=document.pk).status == DocumentStatus.READY
    # after MAX_ATTEMPTS dead workers the document fails with a reason
    Document.objects.filter(pk=document.pk).update(
        status=DocumentStatus.PROCESSING, heartbeat_at=long_ago, attempts=3
    )
    failed = document_ingest(document_id=document.pk)
    assert failed.status == DocumentStatus.FAILED and "중단" in failed.error


def test_the_safety_net_schedule_picks_up_stuck_documents(user, topic):
    from study.tasks import documents_ingest_pending

    document = document_create(
        owner=user,
        topics=[topic],
        title="",
        upload=SimpleUploadedFile("r.md", statute_text().encode()),
        enqueue=False,
    )
    Document.objects.filter(pk=document.pk).update(
        status=DocumentStatus.PROCESSING,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )
    assert documents_ingest_pending() == 1
    assert Document.objects.get(pk=document.pk).status == DocumentStatus.READY


def test_a_failed_document_says_why_and_can_be_retried(client, user, other_user, topic):
    document = ingest(user, topic, "empty.txt", b"  \n ")
    assert document.status == DocumentStatus.FAILED
    client.force_login(user)
    page = client.get(reverse("study:documents", args=[topic.pk])).content.decode()
    assert "처리 실패" in page and "다시 시도" in page
    retry = reverse("study:document_retry", args=[topic.pk, document.pk])
    client.force_login(other_user)
    assert client.post(retry).status_code == 404
    client.force_login(user)
    assert client.get(retry).status_code == 405
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        assert client.post(retry).status_code == 302
    assert Document.objects.get(pk=document.pk).status == DocumentStatus.PENDING
    assert callbacks, "the retry is queued"


def test_retry_leaves_ready_documents_alone(user, topic):
    document = ingest(user, topic, "r.md", statute_text().encode())
    assert document_retry(document=document).status == DocumentStatus.READY


def test_documents_page_shows_progress_and_polls_only_while_working(
    client, user, topic
):
    document = ingest(user, topic, "r.md", statute_text().encode())
    client.force_login(user)
    url = reverse("study:documents", args=[topic.pk])
    page = client.get(url).content.decode()
    assert "hx-trigger" not in page.split('id="document-rows"')[1].split(">")[0]
    assert "시행 2026-01-01" in page and "별표 3" in page
    Document.objects.filter(pk=document.pk).update(
        status=DocumentStatus.PROCESSING,
        pieces_total=10,
        pieces_done=4,
        started_at=timezone.now() - timedelta(seconds=20),
        heartbeat_at=timezone.now(),
    )
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 2s"' in partial
    assert "4 / 10조각" in partial and "40%" in partial and "남음" in partial
    assert "<html" not in partial


# -- commands -------------------------------------------------------------------


def test_add_documents_loads_files_with_a_progress_bar(tmp_path, user, topic):
    user.is_superuser = True
    user.save()
    path = tmp_path / "시험안전규칙.md"
    path.write_text(statute_text(), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "add_documents",
        str(path),
        "--topic",
        topic.name,
        "--material-type",
        "law",
        stdout=out,
        stderr=err,
    )
    document = Document.objects.get(title="시험안전규칙")
    assert document.status == DocumentStatus.READY
    assert document.material_type == MaterialType.LAW
    assert "시험안전규칙" in out.getvalue() and "failed=0" in out.getvalue()
    assert "조각" in err.getvalue()  # tqdm bar
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    with pytest.raises(CommandError, match="1개 파일"):
        call_command("add_documents", str(bad), "--topic", topic.name, stdout=out)
    with pytest.raises(CommandError, match="파일이 없습니다"):
        call_command("add_documents", "/nope.md", "--topic", topic.name)


def test_evidence_command_prints_what_the_prompt_gets(user, topic):
    ingest(user, topic, "시험안전규칙.md", statute_text().encode())
    make_question(
        topic,
        7,
        year=2021,
        session="2",
        stem="추락방호망의 설치위치는 작업면으로부터 망의 처짐까지 몇 미터 이내인가?",
        choice_1="10미터",
        choice_2="15미터",
        choice_3="20미터",
        choice_4="5미터",
        correct_choice=1,
    )
    make_question(
        topic,
        8,
        year=2021,
        session="2",
        stem="매슬로우의 욕구 5단계 이론 중 2단계 욕구는?",
        choice_1="안전 욕구",
        choice_2="생리적 욕구",
        choice_3="사회적 욕구",
        choice_4="존경 욕구",
        correct_choice=1,
    )
    out = io.StringIO()
    call_command(
        "evidence",
        "--topic",
        topic.name,
        "--question",
        "2021-2-7",
        "--json",
        stdout=out,
    )
    payload = json.loads(out.getvalue())
    first = payload["evidence"][0]
    assert first["kind"] == "document"
    assert first["citation"].startswith("시험안전규칙 제42조(추락의 방지)")
    assert "10미터 이내" in first["text"] and first["score"] > 0
    assert payload["prompt_tokens_estimate"] <= payload["prompt_budget"]
    out = io.StringIO()
    call_command(
        "evidence", "--topic", topic.name, "--question", "2021-2-8", stdout=out
    )
    assert "근거 없음" in out.getvalue() or "document" not in out.getvalue()
    with pytest.raises(CommandError, match="형식"):
        call_command("evidence", "--topic", topic.name, "--question", "2021/2/8")
    with pytest.raises(CommandError, match="없습니다"):
        call_command("evidence", "--topic", topic.name, "--question", "1999-1-1")


# -- prompt budget ----------------------------------------------------------------


def test_token_estimate_counts_hangul_heavier_than_ascii():
    assert estimate_tokens("") == 0
    assert estimate_tokens("가" * 100) == 70
    assert estimate_tokens("a" * 100) == 35
    assert estimate_tokens("가 나") == 2  # 0.7 + 0.1 + 0.7, rounded up


def test_packing_keeps_whole_items_best_first_within_the_budget():
    items = ["가" * 1000, "나" * 100, "다" * 2000, "라" * 10]
    packed = pack_best_first(items, cost=estimate_tokens, budget=800)
    assert packed == ["가" * 1000, "나" * 100, "라" * 10]  # "다" (1400) skipped
    assert pack_best_first(items, cost=estimate_tokens, budget=80) == [
        "나" * 100,
        "라" * 10,
    ]


def test_prompt_budget_follows_the_settings(settings):
    assert prompt_budget() == 1800
    settings.LLM_CONTEXT_TOKENS = 2048
    assert prompt_budget() == 2048 - 1024 - 64
    settings.LLM_CONTEXT_TOKENS = 32768
    settings.LLM_PROMPT_TOKENS = 8000
    assert prompt_budget() == 8000


def test_the_default_explanation_prompt_stays_within_1800_tokens(user, topic):
    from study.ai.explanations import SYSTEM_PROMPT, explanation_prompt
    from study.documents.retrieval import Evidence, explanation_evidence

    ingest(user, topic, "규칙.md", statute_text().encode())
    question = make_question(
        topic,
        9,
        stem="추락의 방지를 위한 작업발판과 추락방호망 설치에 관한 설명으로 옳은 것은?",
        choice_1="작업발판을 설치하여야 한다",
        choice_2="추락방호망은 수직으로 설치한다",
        choice_3="안전대는 필요 없다",
        choice_4="사다리는 아무 곳에나 둔다",
        correct_choice=1,
    )
    found = explanation_evidence(question=question)
    assert found and found[0].title.startswith("시험안전규칙 제42조")
    article = (
        "사업주는 근로자가 추락할 위험이 있는 장소에서 작업발판을 설치하여야 한다. "
    )
    extra = [
        Evidence(
            kind="document",
            ref=f"doc:99#{n}",
            title=f"규칙 제{100 + n}조(시험)",
            text=article * (4 + n),
            score=0.5 - n / 100,
        )
        for n in range(8)
    ]
    evidence = found + extra
    prompt, packed = explanation_prompt(question, evidence)
    total = estimate_tokens(SYSTEM_PROMPT) + estimate_tokens(prompt)
    assert 1000 < total <= 1800
    assert packed and len(packed) < len(evidence), "the budget left some out"
    documents = [e for e in packed if e.kind == "document"]
    assert documents == sorted(documents, key=lambda e: -e.score)
    assert found[0] in packed  # the best evidence is never the one left out
    for item in packed:  # whole chunks, never a cut window
        assert item.text in prompt
    for item in set(map(id, evidence)) - set(map(id, packed)):
        left_out = next(e for e in evidence if id(e) == item)
        assert left_out.text not in prompt


def test_larger_servers_raise_the_budget_by_setting(user, topic, settings):
    from study.ai.explanations import explanation_prompt
    from study.documents.retrieval import Evidence

    question = make_question(topic, 10)
    evidence = [
        Evidence(kind="document", ref=f"d{n}", title="t", text="가" * 600, score=1)
        for n in range(10)
    ]
    _, small = explanation_prompt(question, evidence)
    settings.LLM_CONTEXT_TOKENS = 32768
    settings.LLM_PROMPT_TOKENS = 8000
    _, large = explanation_prompt(question, evidence)
    assert len(small) < len(large) == 10


def test_an_annex_listed_without_a_body_is_named_not_pretended(user, topic):
    from study.ai.explanations import explanation_prompt
    from study.documents.retrieval import explanation_evidence

    ingest(user, topic, "시험안전규칙.md", statute_text().encode())
    question = make_question(
        topic,
        11,
        stem="프레스를 사용하여 작업할 때 작업시작 전 점검사항이 아닌 것은?",
        choice_1="언로드밸브의 기능",
        choice_2="클러치 및 브레이크의 기능",
        choice_3="금형 및 고정볼트 상태",
        choice_4="방호장치의 기능",
        correct_choice=1,
    )
    evidence = explanation_evidence(question=question)
    notes = [e for e in evidence if e.kind == "annex"]
    assert [n.title for n in notes] == [
        "시험안전규칙 별표 3 (작업시작 전 점검사항(제35조제2항 관련)) — 본문 없음"
    ]
    prompt, packed = explanation_prompt(question, evidence)
    assert "본문은 자료에 없습니다" in prompt and notes[0] in packed
    unrelated = make_question(
        topic, 12, stem="연천인율이 45인 사업장의 도수율은 약 얼마인가?"
    )
    assert not [
        e for e in explanation_evidence(question=unrelated) if e.kind != "question"
    ]


def test_benchmark_only_ingest_reports_seconds_per_document(tmp_path, db):
    folder = tmp_path / "statutes"
    folder.mkdir()
    (folder / "시험안전규칙.md").write_text(statute_text(), encoding="utf-8")
    (folder / "README.md").write_text("not a statute", encoding="utf-8")
    path = tmp_path / "bench.json"
    out = io.StringIO()
    call_command(
        "benchmark",
        "--only",
        "ingest",
        "--documents",
        str(folder),
        "--json",
        str(path),
        stdout=out,
        stderr=out,
    )
    result = json.loads(path.read_text(encoding="utf-8"))
    ingest_figures = result["ingest"]
    assert ingest_figures["documents"] == 1 and ingest_figures["failed"] == []
    assert ingest_figures["chunks"] >= 4 and ingest_figures["characters_per_s"] > 0
    assert result["ingest_s"] == ingest_figures["seconds"]
    assert "시험안전규칙.md" in out.getvalue() and "chars/s" in out.getvalue()
    assert not Document.objects.exists(), "the run is rolled back"
