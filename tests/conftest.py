import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from study.models import Question, Topic


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts and ends in the default language: a request through the
    test client activates the learner's language for the thread, and a test after
    it would otherwise read English where it expects Korean."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_latency_estimate():
    """Each test reads the LLM latency estimate from its own jobs (a process
    keeps it LATENCY_MEMO_S), so query counts do not depend on test order."""
    from study.ai import states

    states._latency_memo = None
    yield
    states._latency_memo = None


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(
        username="learner", password="pw-learner-1"
    )


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user(username="other", password="pw-other-1")


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_user(
        username="staff", password="pw-staff-1", is_staff=True, is_superuser=True
    )


@pytest.fixture
def topic(user):
    # The independent check (a second LLM call, on for new topics) is off
    # here so a test programs exactly the replies it means; the tests of the
    # check turn it on.
    return Topic.objects.create(
        name="산업안전기사", owner=user, ai_independent_check=False
    )


def make_question(topic, number=1, *, year=2020, session="1", **kwargs):
    defaults = {
        "exam_name": "산업안전기사",
        "exam_year": year,
        "exam_session": session,
        "number": number,
        "subject": "안전관리론",
        "stem": f"문제 {number}: 다음 중 옳은 것은?",
        "choice_1": "보기 가",
        "choice_2": "보기 나",
        "choice_3": "보기 다",
        "choice_4": "보기 라",
        "correct_choice": 2,
    }
    defaults.update(kwargs)
    return Question.objects.create(topic=topic, **defaults)


@pytest.fixture
def question(topic):
    return make_question(topic)


@pytest.fixture
def fake_llm(settings):
    """A real local OpenAI-compatible server; the app is configured to use it."""
    from study.llm.client import forget_working_forms
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI() as fake:
        settings.LLM_BASE_URL = fake.base_url
        settings.LLM_MODEL = "fake-model"
        settings.LLM_TIMEOUT_S = 5
        settings.LLM_GATE_WAIT_S = 10
        # A timed-out call keeps its slot this long (the server may still be
        # working on it); short here so tests never wait on it.
        settings.LLM_TIMEOUT_OVERRUN_S = 0.2
        forget_working_forms()
        yield fake
        forget_working_forms()


def make_document(owner, topic, text: str, *, title: str = "노트", **kwargs):
    """Upload a text document to the topic and process it (extract, chunk, embed)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from study.documents.services import document_create, document_ingest

    document = document_create(
        owner=owner,
        topics=[topic],
        title=title,
        upload=SimpleUploadedFile(f"{title}.txt", text.encode()),
        **kwargs,
    )
    return document_ingest(document_id=document.pk)
