"""LangChain TwelveLabsRetriever: the standard suite on the emulator, the rest on the fake."""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests
from search_emulator import Indexed
from search_fakes import API_KEY, FakeSearchAPI

from tl_integrations import InvalidRequestError, SearchFilter
from tl_integrations.langchain import TwelveLabsRetriever

LINES = [(0.0, 4.0, "welcome to the kitchen"), (4.0, 8.0, "we bake sourdough bread")]


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


@pytest.fixture
def kitchen(api: FakeSearchAPI) -> str:
    index = api.add_index("kitchen")
    video = api.add_video(
        index, "talk.mp4", LINES, user_metadata={"team": "blue", "tl_sha256": "ab", "n": None}
    )
    api.add_silent_clip(video, 8.0, 12.0)
    api.add_video(index, "other.mp4", [(0.0, 3.0, "bread again")], stream=False)
    return index


def _retriever(api: FakeSearchAPI, **kwargs: Any) -> TwelveLabsRetriever:
    return TwelveLabsRetriever(client=api.client(), async_client=api.async_client(), **kwargs)


def test_each_video_is_looked_up_once_and_thumbnails_and_streams_are_kept(
    api: FakeSearchAPI, kitchen: str
) -> None:
    docs = _retriever(api, index_id=kitchen, k=10).invoke("bread")
    lookups = [r for r in api.requests if "/videos/" in r.url.path]
    assert len(lookups) == 2  # two videos, four clips
    assert len(docs) == 4
    by_start = {(d.metadata["filename"], d.metadata["start_s"]): d for d in docs}
    bread = by_start[("talk.mp4", 4.0)]
    assert bread.page_content == "we bake sourdough bread"
    assert (
        bread.metadata["thumbnail_url"] == f"https://thumbs.test/{bread.metadata['video_id']}/4.jpg"
    )
    assert bread.metadata["video_url"].endswith(".m3u8#t=4")
    assert bread.metadata["team"] == "blue"
    assert "tl_sha256" not in bread.metadata  # our bookkeeping, not the user's metadata
    assert "n" not in bread.metadata
    silent = by_start[("talk.mp4", 8.0)]
    assert silent.page_content == (
        "talk.mp4, 0:08-0:12: a moment matching 'bread' in picture or sound (nothing is said)"
    )
    assert "video_url" not in by_start[("other.mp4", 0.0)].metadata  # no stream, no link
    assert [d.metadata["rank"] for d in docs] == [1, 2, 3, 4]
    assert len({d.id for d in docs}) == 4
    again = _retriever(api, index_id=kitchen, k=10).invoke("bread")
    assert [d.id for d in again] == [d.id for d in docs]  # stable ids


def test_a_clip_without_text_gets_the_transcripts_words(api: FakeSearchAPI, kitchen: str) -> None:
    video = next(iter(api.videos))
    for clip in api.clips:
        if clip.video_id == video:
            clip.transcription = None  # the server sent no transcription for these clips
    docs = _retriever(api, index_id=kitchen, k=10).invoke("bread")
    texts = {d.metadata["start_s"]: d.page_content for d in docs if d.metadata["video_id"] == video}
    assert texts[4.0] == "we bake sourdough bread"
    lookup = next(r for r in api.requests if f"/videos/{video}" in r.url.path)
    assert lookup.url.params["transcription"] == "true"


def test_the_async_path_and_invoke_overrides(api: FakeSearchAPI, kitchen: str) -> None:
    retriever = _retriever(api, index_name="kitchen", k=1, options=["transcription"])
    docs = asyncio.run(retriever.ainvoke("bread", k=3))
    assert [d.metadata["rank"] for d in docs] == [1, 2, 3]
    assert all(isinstance(d, Document) for d in docs)
    searched = api.forms[-1]
    assert searched.fields["search_options"] == ["transcription"]
    assert searched.one("page_limit") == "3"
    index_lists = [r for r in api.requests if r.url.path.endswith("/indexes")]
    retriever.invoke("bread")
    assert len([r for r in api.requests if r.url.path.endswith("/indexes")]) == len(index_lists)


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


def test_an_unknown_index_name_says_so(api: FakeSearchAPI, kitchen: str) -> None:
    with pytest.raises(InvalidRequestError, match="no index named 'nope'"):
        _retriever(api, index_name="nope").invoke("bread")


def test_the_key_is_never_shown_dumped_or_pickled(monkeypatch: pytest.MonkeyPatch) -> None:
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
    assert API_KEY not in repr(_retriever(FakeSearchAPI(), index_id="i"))
