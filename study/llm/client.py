"""Client for the OpenAI-compatible chat-completions API.

One code path serves llama.cpp's server, Ollama, vLLM, LM Studio and OpenAI.
They differ in how they accept structured output, so the client tries
OpenAI's ``json_schema`` form, then llama.cpp's ``json_object`` + ``schema``
form, then no ``response_format`` at all. A form is given up only when the
server rejects that form itself (not on any transient error); the fallback is
remembered per server and the better forms are probed again after
FORM_REPROBE_S, since servers get upgraded. Every reply goes through
``parse_json_reply``, which also copes with servers that ignore the format and
wrap JSON in prose or code fences.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Self

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)

BODY_EXCERPT_CHARS = 500
# How many "{" positions parse_json_reply tries before giving up; replies are
# short, and this bounds the work on pathological text.
MAX_OBJECT_CANDIDATES = 50

RESPONSE_FORMS = ("json_schema", "json_object", "none")
REFUSAL_STATUSES = frozenset({400, 404, 415, 422, 500, 501})
# Client errors to a standard request that differs only in its json_schema
# form: servers that do not know that form answer so, often with a body that
# names nothing useful. A 5xx is a refusal only when its body names the format.
FIRST_FORM_REFUSAL_STATUSES = frozenset({400, 422})
REFUSAL_WORDS = ("response_format", "schema", "json_object", "json_schema")
FORM_REPROBE_S = 600.0
RETRY_AFTER_MAX_S = 3600.0

# base URL -> (index of the form that worked, monotonic time it was learned)
_working_form_by_url: dict[str, tuple[int, float]] = {}
_working_form_lock = threading.Lock()
_clock = time.monotonic


class LLMError(Exception):
    code = "unknown"


class LLMNotConfigured(LLMError):
    code = "not_configured"


class LLMTimeout(LLMError):
    code = "llm_timeout"

    def __init__(self, message: str, *, may_still_run: bool = False) -> None:
        super().__init__(message)
        # True when the request reached the server, which may still work on it.
        self.may_still_run = may_still_run


class LLMHTTPError(LLMError):
    code = "llm_http_error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: str = "",
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body[:BODY_EXCERPT_CHARS]
        self.retry_after_s = retry_after_s


class LLMParseError(LLMError):
    code = "parse_fail"

    def __init__(self, message: str, *, raw: str) -> None:
        super().__init__(message)
        self.raw = raw


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    model: str
    api_key: str = ""
    timeout_s: float = 60.0

    @classmethod
    def from_settings(cls) -> LLMConfig:
        return cls(
            base_url=settings.LLM_BASE_URL.strip(),
            model=settings.LLM_MODEL,
            api_key=settings.LLM_API_KEY,
            timeout_s=float(settings.LLM_TIMEOUT_S),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.base_url.strip())

    @property
    def chat_url(self) -> str:
        return f"{self.base_url.strip().rstrip('/')}/chat/completions"


def llm_configured() -> bool:
    return LLMConfig.from_settings().enabled


@dataclass
class LLMReply:
    data: dict
    raw: str
    model: str
    latency_s: float


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The TLS context every LLM client shares: building one loads the CA
    bundle (30-35 ms), which each call paid twice per explanation job."""
    return httpx.create_ssl_context()


class LLMClient:
    def __init__(
        self,
        config: LLMConfig | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config or LLMConfig.from_settings()
        self._http = httpx.Client(
            timeout=httpx.Timeout(self.config.timeout_s),
            transport=transport,
            verify=_tls_context(),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def chat_json(
        self,
        *,
        system: str,
        user: str,
        schema: dict,
        schema_name: str = "reply",
        max_tokens: int = 1024,
        temperature: float = 0.2,
    ) -> LLMReply:
        if not self.config.enabled:
            raise LLMNotConfigured("LLM_BASE_URL is not set")
        started = time.monotonic()
        request = {
            "model": self.config.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": False,
        }
        completion = self._complete(request, schema=schema, schema_name=schema_name)
        raw = _message_content(completion)
        if not raw.strip():
            raise LLMTimeout("empty reply")
        return LLMReply(
            data=_parse_completion(raw, completion),
            raw=raw,
            model=completion.get("model") or self.config.model,
            latency_s=time.monotonic() - started,
        )

    def _complete(self, request: dict, *, schema: dict, schema_name: str) -> dict:
        base_url = self.config.base_url
        first = _first_form(base_url)
        deadline = _clock() + self.config.timeout_s
        for index in range(first, len(RESPONSE_FORMS)):
            form = RESPONSE_FORMS[index]
            body = _with_response_format(request, form, schema, schema_name)
            response = self._post(body, deadline=deadline)
            if response.is_success:
                _remember_working_form(base_url, index, first=first)
                return _completion_json(response)
            if form == RESPONSE_FORMS[-1] or not _refuses_form(response, form):
                raise _http_error(response)
            logger.info(
                "LLM server refused response_format %s (HTTP %s: %s); falling back",
                form,
                response.status_code,
                response.text[:200],
            )
        raise AssertionError("the last form either returns or raises")

    def _post(self, body: dict, *, deadline: float) -> httpx.Response:
        """One POST, within what is left of the call's LLM_TIMEOUT_S."""
        remaining = deadline - _clock()
        if remaining <= 0:
            raise LLMTimeout(
                f"no reply from the LLM within {self.config.timeout_s:g} s"
            )
        try:
            return self._http.post(
                self.config.chat_url,
                json=body,
                headers=self._headers(),
                timeout=httpx.Timeout(remaining),
            )
        except httpx.ConnectTimeout as exc:
            raise LLMTimeout(f"LLM server unreachable: {exc}") from exc
        except httpx.TimeoutException as exc:
            raise LLMTimeout(
                f"no reply from the LLM within {self.config.timeout_s:g} s",
                may_still_run=True,
            ) from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise LLMTimeout(f"LLM server unreachable: {exc}") from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise LLMNotConfigured(f"LLM_BASE_URL is not usable: {exc}") from exc
        except httpx.HTTPError as exc:
            raise LLMHTTPError(f"LLM request failed: {exc}") from exc

    def _headers(self) -> dict[str, str]:
        if not self.config.api_key:
            return {}
        return {"Authorization": f"Bearer {self.config.api_key}"}


def _with_response_format(
    request: dict, form: str, schema: dict, schema_name: str
) -> dict:
    if form == "json_schema":
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": schema_name, "schema": schema, "strict": True},
        }
    elif form == "json_object":
        response_format = {"type": "json_object", "schema": schema}
    else:
        return dict(request)
    return {**request, "response_format": response_format}


def _refuses_form(response: httpx.Response, form: str) -> bool:
    """True only when the server rejected the response_format itself."""
    status = response.status_code
    if form == "json_schema" and status in FIRST_FORM_REFUSAL_STATUSES:
        return True
    text = response.text.lower()
    return status in REFUSAL_STATUSES and any(word in text for word in REFUSAL_WORDS)


def _first_form(base_url: str) -> int:
    """The form that worked for this server, unless it is time to probe the
    better ones again."""
    with _working_form_lock:
        index, learned_at = _working_form_by_url.get(base_url, (0, 0.0))
    if index and _clock() - learned_at > FORM_REPROBE_S:
        return 0
    return index


def _remember_working_form(base_url: str, index: int, *, first: int) -> None:
    """Keep when a fallback was learned (or re-learned after a probe)."""
    with _working_form_lock:
        known = _working_form_by_url.get(base_url)
        if known is None or known[0] != index or index != first:
            _working_form_by_url[base_url] = (index, _clock())


def forget_working_forms() -> None:
    """Forget which response_format each server accepted (tests, server swaps)."""
    with _working_form_lock:
        _working_form_by_url.clear()


def _http_error(response: httpx.Response) -> LLMHTTPError:
    return LLMHTTPError(
        f"LLM server answered HTTP {response.status_code}",
        status=response.status_code,
        body=response.text,
        retry_after_s=retry_after_seconds(response.headers.get("retry-after")),
    )


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(0.0, seconds), RETRY_AFTER_MAX_S)


def _completion_json(response: httpx.Response) -> dict:
    try:
        completion = response.json()
    except ValueError:
        completion = None
    if not isinstance(completion, dict):
        raise LLMHTTPError(
            "LLM server answered with something other than a JSON object",
            status=response.status_code,
            body=response.text,
        )
    return completion


def _message_content(completion: dict) -> str:
    try:
        content = completion["choices"][0]["message"].get("content")
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise LLMHTTPError(
            "LLM reply has no choices[0].message",
            status=200,
            body=json.dumps(completion, ensure_ascii=False),
        ) from exc
    if isinstance(content, list):  # content parts, as some servers send
        return "".join(str(part.get("text", "")) for part in content)
    return content or ""


def _parse_completion(raw: str, completion: dict) -> dict:
    try:
        return parse_json_reply(raw)
    except LLMParseError as exc:
        finish_reason = completion["choices"][0].get("finish_reason")
        if finish_reason == "length":
            raise LLMParseError(
                "reply was cut off at max_tokens before the JSON ended", raw=raw
            ) from exc
        raise


_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL)
_FENCED_BLOCK = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def parse_json_reply(text: str) -> dict:
    """The JSON object in a model's reply, however it was wrapped."""
    # Reasoning models may think aloud first, braces included.
    cleaned = _THINK_BLOCK.sub("", text).strip()
    try:
        whole = json.loads(cleaned, strict=False)
    except (ValueError, RecursionError):  # a hostile reply nests 50,000 deep
        pass
    else:
        if isinstance(whole, dict):
            return whole
        raise LLMParseError("reply is JSON but not an object", raw=text)
    for candidate in [*_FENCED_BLOCK.findall(cleaned), cleaned]:
        found = _first_json_object(candidate)
        if found is not None:
            return found
    raise LLMParseError("reply contains no JSON object", raw=text)


def _first_json_object(text: str) -> dict | None:
    start = text.find("{")
    for _ in range(MAX_OBJECT_CANDIDATES):
        if start < 0:
            return None
        end = _balanced_end(text, start)
        if end is not None:
            try:
                found = json.loads(text[start : end + 1], strict=False)
            except (ValueError, RecursionError):
                found = None
            if isinstance(found, dict):
                return found
        start = text.find("{", start + 1)
    return None


def _balanced_end(text: str, start: int) -> int | None:
    """Index of the "}" closing the "{" at start; braces in strings don't count."""
    depth = 0
    in_string = False
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return None
