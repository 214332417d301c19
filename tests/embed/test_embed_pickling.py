"""Pickles of the embedding adapters: configuration only, no key, no clients, no log noise."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tl_integrations import TwelveLabs
from tl_integrations.langchain import TwelveLabsEmbeddings
from tl_integrations.llama_index import TwelveLabsEmbedding

OFFLINE = "http://127.0.0.1:9/v1.3"
KEY = "pickle-S3CR3T-key"

ADAPTERS: dict[str, Callable[..., Any]] = {
    "langchain": TwelveLabsEmbeddings,
    "llama-index": TwelveLabsEmbedding,
}


@pytest.fixture
def injected() -> Iterator[TwelveLabs]:
    with TwelveLabs(api_key=KEY, base_url=OFFLINE) as client:
        yield client


@pytest.mark.parametrize("name", list(ADAPTERS))
def test_a_pickle_carries_no_key_and_the_copy_reads_the_environment(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWELVELABS_API_KEY", raising=False)
    adapter = ADAPTERS[name](api_key=KEY, base_url=OFFLINE, max_concurrency=3)
    adapter._clients().sync()  # a live pool must not travel either
    blob = pickle.dumps(adapter)
    adapter.close()
    assert KEY.encode() not in blob
    monkeypatch.setenv("TWELVELABS_API_KEY", "from-env")
    copy = pickle.loads(blob)
    assert copy.api_key.get_secret_value() == "from-env"
    assert (copy.base_url, copy.max_concurrency, copy._holder) == (OFFLINE, 3, None)
    monkeypatch.delenv("TWELVELABS_API_KEY")
    assert pickle.loads(blob).api_key is None


@pytest.mark.parametrize("name", list(ADAPTERS))
@pytest.mark.parametrize("kind", ["client", "async_client"])
def test_injected_clients_are_dropped_quietly_and_their_server_kept(
    name: str, kind: str, injected: TwelveLabs, caplog: pytest.LogCaptureFixture
) -> None:
    client = injected if kind == "client" else injected.twin()
    adapter = ADAPTERS[name](**{kind: client})
    with caplog.at_level(logging.DEBUG):
        blob = pickle.dumps(adapter)
    assert KEY.encode() not in blob
    assert [r.getMessage() for r in caplog.records if r.name == "root"] == []
    copy = pickle.loads(blob)
    assert (copy.client, copy.async_client) == (None, None)
    assert copy.base_url == OFFLINE
    assert adapter.client is client or adapter.async_client is client  # the original keeps it
