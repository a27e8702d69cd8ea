"""The LLM client against a real local OpenAI-compatible server."""

import pytest

from study.llm.client import (
    LLMClient,
    LLMConfig,
    LLMHTTPError,
    LLMNotConfigured,
    LLMParseError,
    LLMTimeout,
    forget_working_forms,
    llm_configured,
    parse_json_reply,
)
from tests.fakes.openai_server import FakeOpenAI

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "integer"}, "why": {"type": "string"}},
    "required": ["answer", "why"],
    "additionalProperties": False,
}


@pytest.fixture
def fake():
    forget_working_forms()
    with FakeOpenAI() as server:
        yield server
    forget_working_forms()


@pytest.fixture
def client(fake):
    config = LLMConfig(base_url=fake.base_url, model="local-model", timeout_s=5)
    with LLMClient(config) as llm:
        yield llm


def ask(llm):
    return llm.chat_json(system="JSON으로만 답하세요.", user="정답은?", schema=SCHEMA)


def response_format_types(fake):
    return [
        (request.body.get("response_format") or {}).get("type")
        for request in fake.requests
    ]


def test_it_returns_the_json_object_with_the_servers_model_name(fake, client):
    fake.reply_json({"answer": 2, "why": "보기 나가 옳다"})

    reply = ask(client)

    assert reply.data == {"answer": 2, "why": "보기 나가 옳다"}
    assert reply.raw == '{"answer": 2, "why": "보기 나가 옳다"}'
    assert reply.model == "fake-model"
    assert reply.latency_s > 0
    sent = fake.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.body["model"] == "local-model"
    assert sent.body["messages"][1] == {"role": "user", "content": "정답은?"}
    assert sent.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "reply", "schema": SCHEMA, "strict": True},
    }


def test_it_falls_back_to_the_llama_cpp_form_and_remembers_it(fake, client):
    fake.reject_json_schema = True
    fake.reply_json({"answer": 1, "why": "첫 번째"})
    fake.reply_json({"answer": 3, "why": "두 번째"})

    first = ask(client)
    second = ask(client)

    assert [first.data["answer"], second.data["answer"]] == [1, 3]
    assert response_format_types(fake) == ["json_schema", "json_object", "json_object"]
    assert fake.requests[1].body["response_format"] == {
        "type": "json_object",
        "schema": SCHEMA,
    }


def test_it_sends_no_response_format_when_both_forms_are_refused(fake, client):
    fake.reject_json_schema = True
    fake.reject_json_object = True
    fake.reply_json({"answer": 4, "why": "형식 없이"})

    reply = ask(client)
    ask(client)

    assert reply.data["answer"] == 4
    assert response_format_types(fake) == ["json_schema", "json_object", None, None]


def test_it_reads_json_in_code_fences(fake, client):
    fake.reply_text('```json\n{"answer": 2, "why": "괄호 } 포함"}\n```')

    assert ask(client).data == {"answer": 2, "why": "괄호 } 포함"}


def test_it_reads_json_surrounded_by_prose(fake, client):
    fake.reply_text('생각해 보면 {그렇다}. 답: {"answer": 3, "why": "a \\"}\\" b"} 끝.')

    assert ask(client).data == {"answer": 3, "why": 'a "}" b'}


def test_it_reports_garbage_with_the_raw_text(fake, client):
    fake.reply_text("죄송합니다, 답할 수 없습니다. {not json}")

    with pytest.raises(LLMParseError) as caught:
        ask(client)

    assert caught.value.raw == "죄송합니다, 답할 수 없습니다. {not json}"
    assert caught.value.code == "parse_fail"


def test_it_refuses_json_that_is_not_an_object():
    with pytest.raises(LLMParseError):
        parse_json_reply('[{"answer": 1}]')
    with pytest.raises(LLMParseError):
        parse_json_reply("42")


def test_it_treats_an_empty_reply_as_a_timeout(fake, client):
    fake.reply_text("  \n ")

    with pytest.raises(LLMTimeout, match="empty reply"):
        ask(client)


def test_it_times_out_when_the_server_is_too_slow(fake):
    fake.delay(3)
    config = LLMConfig(base_url=fake.base_url, model="m", timeout_s=0.3)

    with LLMClient(config) as slow, pytest.raises(LLMTimeout) as caught:
        ask(slow)

    assert caught.value.code == "llm_timeout"


def test_a_transient_server_error_keeps_the_response_format(fake, client):
    """Defect 6: one HTTP 500 used to switch the worker to a weaker format
    for the rest of its life."""
    fake.reply_status(500, "model crashed")

    with pytest.raises(LLMHTTPError) as caught:
        ask(client)

    assert caught.value.status == 500
    assert caught.value.body == "model crashed"
    assert len(fake.requests) == 1  # a crash is not a refusal of the format
    fake.reply_json({"answer": 1, "why": "-"})
    ask(client)
    assert response_format_types(fake) == ["json_schema", "json_schema"]


def test_a_refused_format_is_remembered_and_probed_again_later(
    fake, client, monkeypatch
):
    from study.llm import client as client_module

    now = [1000.0]
    monkeypatch.setattr(client_module, "_clock", lambda: now[0])
    fake.reject_json_schema = True
    fake.reply_json({"answer": 1, "why": "-"}, default=True)
    ask(client)
    ask(client)
    assert response_format_types(fake) == ["json_schema", "json_object", "json_object"]
    fake.reject_json_schema = False  # the server was upgraded
    now[0] += client_module.FORM_REPROBE_S + 1
    ask(client)
    ask(client)
    assert response_format_types(fake)[3:] == ["json_schema", "json_schema"]


def test_retry_after_is_read_from_seconds_and_dates():
    from study.llm.client import retry_after_seconds

    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # past
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_it_reports_a_wrong_api_key_without_retrying(fake, client):
    fake.reply_status(401, {"error": {"message": "Incorrect API key provided"}})

    with pytest.raises(LLMHTTPError) as caught:
        ask(client)

    assert caught.value.status == 401
    assert "Incorrect API key" in caught.value.body
    assert len(fake.requests) == 1


def test_it_treats_a_dropped_connection_as_a_timeout(fake, client):
    fake.close_connection()

    with pytest.raises(LLMTimeout):
        ask(client)


def test_it_treats_an_unreachable_server_as_a_timeout():
    config = LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=2)

    with LLMClient(config) as nowhere, pytest.raises(LLMTimeout):
        ask(nowhere)


def test_it_refuses_to_call_without_a_base_url(settings):
    settings.LLM_BASE_URL = ""

    assert not llm_configured()
    with LLMClient() as unconfigured, pytest.raises(LLMNotConfigured):
        ask(unconfigured)


def test_it_reads_its_configuration_from_settings(settings, fake):
    settings.LLM_BASE_URL = fake.base_url + "/"
    settings.LLM_MODEL = "qwen3-8b"
    settings.LLM_API_KEY = "sk-test-123"

    assert llm_configured()
    with LLMClient() as configured:
        ask(configured)

    assert fake.requests[0].body["model"] == "qwen3-8b"
    assert fake.requests[0].path == "/v1/chat/completions"


def test_it_sends_the_api_key_as_a_bearer_token(fake):
    config = LLMConfig(base_url=fake.base_url, model="m", api_key="sk-test-123")

    with LLMClient(config) as keyed:
        ask(keyed)

    assert fake.requests[0].headers["authorization"] == "Bearer sk-test-123"


def test_it_sends_no_authorization_header_without_a_key(fake, client):
    ask(client)

    assert "authorization" not in fake.requests[0].headers


def test_it_falls_back_to_the_configured_model_name(client, fake):
    fake.model_name = None

    assert ask(client).model == "local-model"
