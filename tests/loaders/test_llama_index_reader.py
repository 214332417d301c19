"""TwelveLabsVideoReader against the emulator: Documents, async, errors, serialisation, RAG."""

from __future__ import annotations

import hashlib
import logging
import math
import pickle
import re
from collections.abc import Callable

import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import Document, MetadataMode

from tl_integrations import (
    AsyncTwelveLabs,
    IngestError,
    InvalidRequestError,
    InvalidVideoError,
    TaskFailedError,
    TwelveLabs,
)
from tl_integrations.emulator import Emulator
from tl_integrations.llama_index import TwelveLabsVideoReader
from tl_integrations.llama_index._reader import EXCLUDED_METADATA_KEYS

from .conftest import GARDEN_LINES, SECRET_KEY, TALK_LINES, Media


class BagOfWords(BaseEmbedding):
    """A deterministic local embedding: hashed word counts, unit length (retrieval works)."""

    dim: int = 512

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dim
        for word in re.findall(r"[a-z]+", text.lower()):
            vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)


def test_load_data_gives_documents_with_ids_metadata_and_exclusions(
    client: TwelveLabs, media: Media, index_name: str
) -> None:
    reader = TwelveLabsVideoReader(
        index_name=index_name, content=("transcript", "summary", "chapters"), chunk_s=7.0
    )
    reader = TwelveLabsVideoReader(client=client, **reader.to_dict())  # a config round trip
    docs = reader.load_data([media.talk, media.silent])
    talk = [d for d in docs if d.metadata["filename"] == "talk.mp4"]
    windows = [d for d in talk if d.metadata["content_kind"] == "transcript"]
    assert [d.metadata["start_s"] for d in windows] == [0.5, 7.0, 13.5]
    assert " ".join(d.text for d in windows) == " ".join(line for _, _, line in TALK_LINES)
    assert {d.metadata["content_kind"] for d in talk} == {"transcript", "summary", "chapters"}
    silent_kinds = {
        d.metadata["content_kind"] for d in docs if d.metadata["filename"] != "talk.mp4"
    }
    assert silent_kinds == {"summary", "chapters"}

    assert len({d.id_ for d in docs}) == len(docs)
    for doc in docs:
        assert doc.doc_id == doc.id_
        assert set(doc.excluded_embed_metadata_keys) == set(EXCLUDED_METADATA_KEYS)
        assert set(doc.excluded_llm_metadata_keys) == set(EXCLUDED_METADATA_KEYS)
        for mode in (MetadataMode.EMBED, MetadataMode.LLM):
            seen = doc.get_content(metadata_mode=mode)
            assert doc.metadata["video_id"] not in seen
            assert "start_s" not in seen
            assert "content_kind" in seen
            if "chapter_title" in doc.metadata:  # the text's first line: read once, not twice
                assert seen.count(doc.metadata["chapter_title"]) == 1
    assert reader.failures == []


def test_segments_read_with_the_default_definitions_and_dicts(
    client: TwelveLabs, media: Media, index_name: str
) -> None:
    reader = TwelveLabsVideoReader(
        index_name=index_name, content=("segments",), client=client, pegasus_model="pegasus1.6"
    )
    docs = reader.load_data([media.garden])
    assert [d.metadata["segment"] for d in docs] == ["scene"] * len(docs)
    assert docs[0].metadata["start_s"] == 0.0
    assert docs[-1].metadata["end_s"] == pytest.approx(12.0)
    assert {"people", "mood"} <= docs[0].metadata.keys()
    assert GARDEN_LINES[0][2] in docs[0].text
    for mode in (MetadataMode.EMBED, MetadataMode.LLM):
        seen = docs[0].get_content(metadata_mode=mode)
        assert "mood" in seen  # the fields are meaning: embedded, not excluded
        assert docs[0].metadata["asset_id"] not in seen

    said = {"id": "said", "description": "each line someone speaks"}
    dicts = TwelveLabsVideoReader(
        index_name=index_name, content=("segments",), segment_definitions=[said], client=client
    )
    assert dicts.to_dict()["segment_definitions"][0]["fields"][0]["name"] == "description"
    lines = dicts.load_data([media.garden])
    assert [d.metadata["segment"] for d in lines] == ["said"] * 3
    assert [d.metadata["start_s"] for d in lines] == [line[0] for line in GARDEN_LINES]


async def test_aload_data_and_alazy_load_data_are_native_async(
    aclient: AsyncTwelveLabs,
    client: TwelveLabs,
    media: Media,
    index_name: str,
    sent: Callable[[str], int],
) -> None:
    reader = TwelveLabsVideoReader(
        index_name=index_name, content=("transcript",), chunk_s=7.0, async_client=aclient
    )
    streamed = [doc async for doc in reader.alazy_load_data([media.talk, media.garden])]
    listed = await reader.aload_data([media.talk, media.garden])
    synced = TwelveLabsVideoReader(
        index_name=index_name, content=("transcript",), chunk_s=7.0, client=client
    ).load_data([media.talk, media.garden])
    assert sent("index") == 2

    def key(doc: Document) -> tuple[str, str]:
        return (doc.id_, doc.text)

    assert sorted(map(key, streamed)) == sorted(map(key, listed)) == sorted(map(key, synced))


def test_failures_are_raised_once_or_recorded(
    client: TwelveLabs, media: Media, index_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    reader = TwelveLabsVideoReader(index_name=index_name, content=("summary",), client=client)
    with pytest.raises(IngestError) as caught:
        reader.load_data([media.garden, media.short])
    (failure,) = caught.value.failures
    assert failure.source == str(media.short)
    assert isinstance(failure.exception, TaskFailedError)

    reader.on_error = "skip"
    docs = reader.load_data([media.garden, media.short])
    assert [d.metadata["filename"] for d in docs] == ["garden.mp4"]
    assert [f.source for f in reader.failures] == [str(media.short)]
    assert any(
        r.levelno == logging.WARNING and "short.mp4" in r.getMessage() for r in caplog.records
    )


def test_bad_options_and_inputs_raise_before_anything_is_sent(
    client: TwelveLabs, media: Media, requests_sent: Callable[[], int]
) -> None:
    with pytest.raises(InvalidRequestError, match="index_id or index_name"):
        TwelveLabsVideoReader(index_id="i1", index_name="talks", client=client)
    with pytest.raises(InvalidRequestError, match="index_id or index_name"):
        TwelveLabsVideoReader(client=client)
    reader = TwelveLabsVideoReader(index_name="talks", client=client)
    with pytest.raises(InvalidVideoError, match=r"missing\.mp4"):
        reader.load_data([media.talk, "missing.mp4"])
    with pytest.raises(InvalidRequestError):
        reader.load_data(["s3://bucket/a.mp4"])
    assert requests_sent() == 0


def test_the_key_is_excluded_from_every_serialisation(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWELVELABS_API_KEY", raising=False)
    reader = TwelveLabsVideoReader(
        index_name="talks", api_key=SECRET_KEY, base_url=emulator.base_url
    )
    assert reader.is_remote is True
    assert reader.class_name() == "TwelveLabsVideoReader"
    exposed = [
        repr(reader),
        str(reader),
        reader.to_json(),
        str(reader.to_dict()),
        str(reader.model_dump()),
        reader.model_dump_json(),
        pickle.dumps(reader).decode("latin-1"),
    ]
    for text in exposed:
        assert SECRET_KEY not in text
    assert "api_key" not in reader.to_dict()
    assert reader.api_key is not None
    assert reader.api_key.get_secret_value() == SECRET_KEY
    copy = pickle.loads(pickle.dumps(reader))
    assert copy.api_key is None
    assert copy.index_name == "talks"
    assert TwelveLabsVideoReader.from_dict(reader.to_dict()).base_url == emulator.base_url

    monkeypatch.setenv("TWELVELABS_API_KEY", "from-the-environment")
    from_env = TwelveLabsVideoReader(index_name="talks")
    assert from_env.api_key is not None
    assert from_env.api_key.get_secret_value() == "from-the-environment"


def embed_model(kind: str, client: TwelveLabs) -> BaseEmbedding:
    if kind == "bag-of-words":
        return BagOfWords()
    # The project's own Marengo text embedding, served by the emulator.
    from tl_integrations.llama_index import TwelveLabsEmbedding

    return TwelveLabsEmbedding(client=client)


@pytest.mark.parametrize("kind", ["bag-of-words", "twelvelabs"])
def test_a_vector_index_query_returns_the_moment_that_was_said(
    client: TwelveLabs, media: Media, index_name: str, kind: str
) -> None:
    reader = TwelveLabsVideoReader(
        index_name=index_name, content=("transcript",), chunk_s=4.0, client=client
    )
    docs = reader.load_data([media.talk, media.garden])
    index = VectorStoreIndex.from_documents(docs, embed_model=embed_model(kind, client))
    retriever = index.as_retriever(similarity_top_k=1)

    for filename, (start_s, end_s, line) in [
        ("garden.mp4", GARDEN_LINES[1]),
        ("talk.mp4", TALK_LINES[3]),
    ]:
        (hit,) = retriever.retrieve(line)
        meta = hit.node.metadata
        assert meta["filename"] == filename
        assert meta["content_kind"] == "transcript"
        assert meta["start_s"] <= start_s
        assert end_s <= meta["end_s"]
        assert line in hit.node.get_content()


async def test_on_status_is_called_but_never_serialised(
    client: TwelveLabs, aclient: AsyncTwelveLabs, media: Media, index_name: str
) -> None:
    seen: list[tuple[str, str]] = []
    reader = TwelveLabsVideoReader(
        index_name=index_name,
        content=("transcript",),
        on_status=lambda source, status: seen.append((source, status)),
        client=client,
        async_client=aclient,
    )
    reader.load_data([media.garden])
    assert seen[0] == (str(media.garden), "hashing")
    assert seen[-1] == (str(media.garden), "done")
    seen.clear()
    await reader.aload_data([media.garden])  # found again by its hash
    assert [status for _, status in seen] == ["hashing", "looking up", "reading", "done"]
    assert "on_status" not in reader.to_dict()
    assert "on_status" not in reader.to_json()
    assert pickle.loads(pickle.dumps(reader)).on_status is None
    assert TwelveLabsVideoReader.from_dict(reader.to_dict()).on_status is None
