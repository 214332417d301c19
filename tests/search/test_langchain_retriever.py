"""LangChain TwelveLabsRetriever on the emulator: the standard suite, the documents it makes,
and what it sends."""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import httpx
import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests
from search_emulator import Indexed, Scenes, Wire

from tl_integrations import InvalidRequestError, SearchFilter
from tl_integrations.emulator import Emulator
from tl_integrations.langchain import TwelveLabsRetriever


class TestRetrieverOnTheEmulator(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _index(self, indexed: Indexed) -> None:
        emu = indexed.emulator
        self._params = {
            "api_key": emu.api_key,
            "base_url": emu.base_url,
            "index_id": indexed.index_id,
        }

    @property
    def retriever_constructor(self) -> type[TwelveLabsRetriever]:
        return TwelveLabsRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return self._params

    @property
    def retriever_query_example(self) -> str:
        return "water the roses, knead the dough"


def test_documents_carry_what_was_said_and_flat_metadata_on_the_emulator(
    indexed: Indexed,
) -> None:
    emu = indexed.emulator
    retriever = TwelveLabsRetriever(
        api_key=emu.api_key, base_url=emu.base_url, index_name=indexed.index_name, k=2
    )
    (best, _) = retriever.invoke("today we bake sourdough bread")
    meta = best.metadata
    assert "sourdough" in best.page_content
    assert meta["video_id"] == indexed.kitchen
    assert meta["index_id"] == indexed.index_id
    assert meta["filename"] == "kitchen.mp4"
    assert meta["rank"] == 1
    assert meta["start_s"] <= 3.5 < meta["end_s"]
    assert meta["video_url"].endswith(f"#t={meta['start_s']:g}")
    assert (meta["topic"], meta["views"]) == ("cooking", 120)  # the video's user metadata
    only_garden = retriever.invoke("bread", filter=SearchFilter().where("topic", "garden"))
    assert {d.metadata["video_id"] for d in only_garden} == {indexed.garden}


def _retriever(wire: Wire, **kwargs: Any) -> TwelveLabsRetriever:
    return TwelveLabsRetriever(client=wire.client(), async_client=wire.async_client(), **kwargs)


# Names the clips of both videos: three by their words, the silent cyan one by its colour.
EVERY_SCENE = "the sun sets, night falls, cows graze, cyan"


def test_each_video_is_looked_up_once_and_thumbnails_and_streams_are_kept(
    wire: Wire, scenes: Scenes
) -> None:
    docs = _retriever(wire, index_id=scenes.index_id, k=10).invoke(EVERY_SCENE)
    lookups = [r for r in wire.requests if "/videos/" in r.url.path]
    assert len(lookups) == 2  # two videos, four clips
    assert len(docs) == 4
    by_start = {(d.metadata["filename"], d.metadata["start_s"]): d for d in docs}
    night = by_start[("sunset.mp4", 4.0)]
    assert night.page_content == "night falls on the quiet town"
    thumbnail = night.metadata["thumbnail_url"]
    assert f"/_emulator/thumbnails/{scenes.sunset}/6.png?sig=" in thumbnail
    picture = httpx.get(thumbnail)  # signed: served without the key
    assert (picture.status_code, picture.headers["content-type"]) == (200, "image/png")
    assert night.metadata["video_url"].endswith("#t=4")
    assert night.metadata["team"] == "blue"
    assert night.metadata["views"] == 250
    assert "tl_sha256" not in night.metadata  # our bookkeeping, not the user's metadata
    silent = by_start[("meadow.mp4", 4.0)]
    assert silent.page_content == (
        f"meadow.mp4, 0:04-0:08: a moment matching {EVERY_SCENE!r} in picture or sound "
        "(nothing is said)"
    )
    assert "video_url" not in silent.metadata  # no stream, no link
    assert [d.metadata["rank"] for d in docs] == [1, 2, 3, 4]
    assert len({d.id for d in docs}) == 4
    again = _retriever(wire, index_id=scenes.index_id, k=10).invoke(EVERY_SCENE)
    assert [d.id for d in again] == [d.id for d in docs]  # stable ids


def test_a_clip_without_text_gets_the_transcripts_words(wire: Wire, scenes: Scenes) -> None:
    def drop_transcriptions(request: httpx.Request, body: Any) -> Any:
        if request.url.path.endswith("/search"):
            for item in body["data"]:
                item.pop("transcription", None)  # as a server that sends none would
        return body

    wire.edit = drop_transcriptions
    docs = _retriever(wire, index_id=scenes.index_id, k=10).invoke(EVERY_SCENE)
    texts = {
        d.metadata["start_s"]: d.page_content
        for d in docs
        if d.metadata["video_id"] == scenes.sunset
    }
    assert texts[4.0] == "night falls on the quiet town"
    lookup = next(r for r in wire.requests if f"/videos/{scenes.sunset}" in r.url.path)
    assert lookup.url.params["transcription"] == "true"


def test_the_async_path_and_invoke_overrides(wire: Wire, scenes: Scenes) -> None:
    aclient = wire.async_client()
    retriever = TwelveLabsRetriever(
        client=wire.client(),
        async_client=aclient,
        index_name=scenes.index_name,
        k=1,
        options=["transcription"],
    )

    async def ask() -> list[Document]:
        try:
            return await retriever.ainvoke("the sun sets, night falls, cows graze", k=3)
        finally:
            await wire.aclose()  # on the loop its connections were made on

    docs = asyncio.run(ask())
    assert [d.metadata["rank"] for d in docs] == [1, 2, 3]
    assert all(isinstance(d, Document) for d in docs)
    searched = wire.forms[-1]
    assert searched.fields["search_options"] == ["transcription"]
    assert searched.one("page_limit") == "3"
    index_lists = [r for r in wire.requests if r.url.path.endswith("/indexes")]
    retriever.invoke("night falls")
    assert len([r for r in wire.requests if r.url.path.endswith("/indexes")]) == len(index_lists)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give index_id or index_name"),
        ({"index_id": "i", "index_name": "n"}, "give index_id or index_name"),
        ({"index_id": "i", "options": ["speech"]}, "unknown"),
        ({"index_id": "i", "options": ["visual"], "transcription_options": ["lexical"]}, "apply"),
        ({"index_id": "i", "filter": {"width": -5}}, ">= 0"),
    ],
)
def test_bad_settings_fail_on_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        TwelveLabsRetriever(api_key="k", base_url="http://127.0.0.1:9/v1.3", **kwargs)


def test_an_unknown_index_name_says_so(wire: Wire) -> None:
    with pytest.raises(InvalidRequestError, match="no index named 'nope'"):
        _retriever(wire, index_name="nope").invoke("bread")


def test_the_key_is_never_shown_dumped_or_pickled(
    monkeypatch: pytest.MonkeyPatch, emulator: Emulator
) -> None:
    monkeypatch.delenv("TWELVELABS_API_KEY", raising=False)
    retriever = TwelveLabsRetriever(
        api_key="very-secret",
        base_url="http://127.0.0.1:9/v1.3",
        index_id="i1",
        filter=SearchFilter().where("team", "blue"),
    )
    assert retriever.filter == {"team": "blue"}
    for text in (repr(retriever), str(retriever.model_dump()), str(pickle.dumps(retriever))):
        assert "very-secret" not in text
    copy = pickle.loads(pickle.dumps(retriever))
    assert (copy.index_id, copy.k, copy.api_key) == ("i1", 4, None)
    wire = Wire(emulator)
    assert emulator.api_key not in repr(_retriever(wire, index_id="i"))
    wire.close()
