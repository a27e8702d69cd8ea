"""A real local HTTP server speaking the OpenAI-compatible API, for tests.

    with FakeOpenAI() as fake:
        fake.reply_json({"answer": 2})
        client = LLMClient(LLMConfig(base_url=fake.base_url, model="m"))

Chat replies are programmed in a FIFO queue (``reply_json``, ``reply_text``,
``reply_status``, ``close_connection``); when it is empty the default reply
is used. Embeddings and reranking answer deterministically from the text, so
texts that share words come out similar, as with a real model.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

# What llama.cpp's server answers when it does not know the json_schema form.
LLAMA_CPP_JSON_SCHEMA_ERROR = {
    "error": {
        "code": 500,
        "message": 'response_format type must be one of "text" or "json_object", '
        "but got: json_schema",
        "type": "server_error",
    }
}
# What LM Studio answers to the json_object form.
JSON_OBJECT_REFUSAL_ERROR = {
    "error": "'response_format.type' must be 'json_schema' or 'text'"
}


@dataclass(frozen=True)
class FakeReply:
    status: int = 200
    content: str | None = None  # the chat message; None sends ``body`` as is
    body: str = ""
    drop: bool = False  # close the socket without answering
    delay_s: float | None = None  # None: the server-wide delay
    headers: tuple[tuple[str, str], ...] = ()  # extra response headers


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float = 0.0  # time.time() when it arrived


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


class FakeOpenAI:
    def __init__(
        self, *, model_name: str | None = "fake-model", embedding_dim: int = 384
    ) -> None:
        self.model_name = model_name  # None leaves "model" out of chat replies
        self.embedding_dim = embedding_dim
        self.reject_json_schema = False
        self.reject_json_object = False
        self.default_reply = FakeReply(content='{"ok": true}')
        # When set, the content of every chat reply not programmed otherwise
        # is computed from the request (a model that reads its prompt).
        self.reply_function: Callable[[dict], str] | None = None
        self.requests: list[RecordedRequest] = []
        self.concurrent_max = 0
        self._in_flight = 0
        self._delay_s = 0.0
        self._queue: deque[FakeReply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------

    def start(self) -> Self:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-openai",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    # -- programming replies ---------------------------------------------

    def reply_json(
        self, obj: Any, *, delay_s: float | None = None, default: bool = False
    ) -> None:
        content = json.dumps(obj, ensure_ascii=False)
        self._program(FakeReply(content=content, delay_s=delay_s), default)

    def reply_text(
        self, text: str, *, delay_s: float | None = None, default: bool = False
    ) -> None:
        self._program(FakeReply(content=text, delay_s=delay_s), default)

    def reply_status(
        self,
        code: int,
        body: str | dict = "",
        *,
        delay_s: float | None = None,
        default: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        text = json.dumps(body) if isinstance(body, dict) else body
        extra = tuple((headers or {}).items())
        reply = FakeReply(status=code, body=text, delay_s=delay_s, headers=extra)
        self._program(reply, default)

    def close_connection(self, *, default: bool = False) -> None:
        self._program(FakeReply(drop=True), default)

    def delay(self, seconds: float) -> None:
        """Wait this long before every later reply that sets no delay itself."""
        self._delay_s = seconds

    def _program(self, reply: FakeReply, default: bool) -> None:
        with self._lock:
            if default:
                self.default_reply = reply
            else:
                self._queue.append(reply)

    # -- used by the request handler -------------------------------------

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        with self._lock:
            self._in_flight += 1
            self.concurrent_max = max(self.concurrent_max, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def respond(self, path: str, body: Any) -> _Response | None:
        route = path.split("?", 1)[0].rstrip("/")
        if not isinstance(body, dict):
            return _json_response(400, {"error": {"message": "body is not JSON"}})
        if route.endswith("/chat/completions"):
            return self._chat(body)
        if route.endswith("/embeddings"):
            return _json_response(200, self._embeddings(body))
        if route.endswith(("/rerank", "/reranking")):
            return _json_response(200, self._rerank(body))
        return _json_response(404, {"error": {"message": f"no route {path}"}})

    def models(self) -> _Response:
        model = {"id": self.model_name or "fake-model", "object": "model"}
        return _json_response(200, {"object": "list", "data": [model]})

    # -- endpoints -------------------------------------------------------

    def _chat(self, body: dict) -> _Response | None:
        refusal = self._format_refusal(body)
        if refusal is not None:
            return refusal  # servers validate before generating: no delay
        with self._lock:
            reply = self._queue.popleft() if self._queue else None
        if reply is None:
            reply = self.default_reply
            if self.reply_function is not None:
                reply = FakeReply(content=self.reply_function(body))
        delay_s = self._delay_s if reply.delay_s is None else reply.delay_s
        if delay_s > 0:
            self._stopping.wait(delay_s)
        if reply.drop:
            return None
        if reply.content is None:
            return _Response(
                reply.status, reply.body.encode(), _guess_type(reply), reply.headers
            )
        return _json_response(reply.status, self._completion(body, reply.content))

    def _format_refusal(self, body: dict) -> _Response | None:
        form = (body.get("response_format") or {}).get("type")
        if form == "json_schema" and self.reject_json_schema:
            return _json_response(500, LLAMA_CPP_JSON_SCHEMA_ERROR)
        if form == "json_object" and self.reject_json_object:
            return _json_response(400, JSON_OBJECT_REFUSAL_ERROR)
        return None

    def _completion(self, body: dict, content: str) -> dict:
        prompt_tokens = sum(
            len(_tokens(str(message.get("content", ""))))
            for message in body.get("messages", [])
        )
        completion_tokens = len(_tokens(content))
        completion = {
            "id": f"chatcmpl-fake-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model_name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        if self.model_name is None:
            del completion["model"]
        return completion

    def _embeddings(self, body: dict) -> dict:
        given = body.get("input", "")
        texts = [given] if isinstance(given, str) else [str(text) for text in given]
        data = [
            {
                "object": "embedding",
                "index": index,
                "embedding": fake_embedding(text, self.embedding_dim),
            }
            for index, text in enumerate(texts)
        ]
        tokens = sum(len(_tokens(text)) for text in texts)
        return {
            "object": "list",
            "data": data,
            "model": body.get("model") or self.model_name,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def _rerank(self, body: dict) -> dict:
        query = str(body.get("query", ""))
        documents = [
            doc if isinstance(doc, str) else str(doc.get("text", ""))
            for doc in body.get("documents", [])
        ]
        results: list[dict[str, Any]] = [
            {"index": index, "relevance_score": rerank_score(query, doc)}
            for index, doc in enumerate(documents)
        ]
        results.sort(key=lambda result: -result["relevance_score"])
        if body.get("top_n"):
            results = results[: int(body["top_n"])]
        if body.get("return_documents"):
            for result in results:
                result["document"] = {"text": documents[result["index"]]}
        return {"model": body.get("model") or self.model_name, "results": results}


def fake_embedding(text: str, dim: int = 384) -> list[float]:
    """A unit vector: the sum of one pseudo-random vector per word of text."""
    vector = [0.0] * dim
    for token in _tokens(text) or [text]:
        rng = random.Random(hashlib.sha256(token.encode()).digest())
        for index in range(dim):
            vector[index] += rng.gauss(0.0, 1.0)
    norm = math.sqrt(sum(value * value for value in vector)) or 1.0
    return [value / norm for value in vector]


def rerank_score(query: str, document: str) -> float:
    """The share of the query's words that the document contains."""
    query_tokens = set(_tokens(query))
    if not query_tokens:
        return 0.0
    return len(query_tokens & set(_tokens(document))) / len(query_tokens)


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _json_response(status: int, payload: Any) -> _Response:
    return _Response(status, json.dumps(payload, ensure_ascii=False).encode())


def _guess_type(reply: FakeReply) -> str:
    try:
        json.loads(reply.body)
    except ValueError:
        return "text/plain; charset=utf-8"
    return "application/json"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenAI

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out and hang up are expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    server: _Server

    def do_POST(self) -> None:
        fake = self.server.fake
        body = self._read_json()
        headers = {name.lower(): value for name, value in self.headers.items()}
        fake.record(RecordedRequest("POST", self.path, headers, body, time.time()))
        with fake.in_flight():
            response = fake.respond(self.path, body)
            if response is None:
                self.close_connection = True
            else:
                self._send(response)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0].rstrip("/").endswith("/models"):
            self._send(self.server.fake.models())
        else:
            self._send(_json_response(404, {"error": {"message": "not found"}}))

    def _read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return None

    def _send(self, response: _Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:  # the client gave up waiting
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass
