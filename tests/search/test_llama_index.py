"""LlamaIndex TwelveLabsRetriever and TwelveLabsToolSpec, on the emulator."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode, NodeWithScore
from search_emulator import Indexed, Scenes, Wire, emulator_async_client, emulator_client

from tl_integrations import InvalidRequestError, SearchFilter
from tl_integrations.langchain import TwelveLabsToolkit
from tl_integrations.llama_index import TwelveLabsRetriever, TwelveLabsToolSpec


def test_the_retriever_scores_by_rank_and_keeps_the_metadata(indexed: Indexed) -> None:
    emu = indexed.emulator
    retriever = TwelveLabsRetriever(
        index_name=indexed.index_name, k=3, api_key=emu.api_key, base_url=emu.base_url
    )
    hits = retriever.retrieve("today we bake sourdough bread")
    assert all(isinstance(hit, NodeWithScore) for hit in hits)
    assert [hit.score for hit in hits] == [1 / hit.node.metadata["rank"] for hit in hits]
    assert hits[0].score == 1.0
    best = hits[0].node
    assert "sourdough" in best.get_content()
    assert best.metadata["video_id"] == indexed.kitchen
    assert best.metadata["filename"] == "kitchen.mp4"
    assert best.metadata["topic"] == "cooking"
    llm_text = best.get_content(metadata_mode=MetadataMode.LLM)
    assert "filename: kitchen.mp4" in llm_text  # the model can cite the file and time
    assert "start_s:" in llm_text
    assert "video_url" not in llm_text  # links are not for the model's context
    retriever.close()


def test_the_async_path_is_native_and_agrees(indexed: Indexed) -> None:
    emu = indexed.emulator

    async def both() -> tuple[list[str], list[str]]:
        async with emulator_async_client(emu) as aclient:
            retriever = TwelveLabsRetriever(
                index_id=indexed.index_id,
                k=4,
                async_client=aclient,
                filter=SearchFilter().where("topic", "garden"),
                api_key=emu.api_key,
                base_url=emu.base_url,
            )
            got = [h.node.node_id for h in await retriever.aretrieve("roses at dawn")]
        with emulator_client(emu) as client:
            sync = TwelveLabsRetriever(
                index_id=indexed.index_id, k=4, client=client, filter={"topic": "garden"}
            )
            want = [h.node.node_id for h in sync.retrieve("roses at dawn")]
        return got, want

    got, want = asyncio.run(both())
    assert got
    assert got == want


def test_the_retriever_works_in_a_query_engine(indexed: Indexed) -> None:
    emu = indexed.emulator
    with emulator_client(emu) as client:
        retriever = TwelveLabsRetriever(index_id=indexed.index_id, k=2, client=client)
        engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM(max_tokens=8))
        response = engine.query("water the roses, knead the dough")
    assert len(response.source_nodes) == 2
    assert {n.node.metadata["index_id"] for n in response.source_nodes} == {indexed.index_id}
    assert str(response)


def test_thumbnails_and_links_are_kept_out_of_the_llms_view(wire: Wire, scenes: Scenes) -> None:
    retriever = TwelveLabsRetriever(index_id=scenes.index_id, k=1, client=wire.client())
    (hit,) = retriever.retrieve("night falls on the town")
    meta = hit.node.metadata
    assert (meta["video_id"], meta["start_s"]) == (scenes.sunset, 4.0)
    assert f"/_emulator/thumbnails/{scenes.sunset}/6.png?sig=" in meta["thumbnail_url"]
    assert meta["video_url"].endswith("#t=4")
    assert "thumbnail_url" in hit.node.excluded_llm_metadata_keys


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give index_id or index_name"),
        ({"index_id": "i", "k": 0}, "k must be"),
        ({"index_id": "i", "options": ["smell"]}, "unknown"),
        ({"index_id": "i", "filter": {"id": "v"}}, "list of video ids"),
    ],
)
def test_bad_retriever_settings_fail_on_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        TwelveLabsRetriever(api_key="k", **kwargs)


def test_the_tool_spec_offers_the_toolkits_tools_exactly() -> None:
    spec = TwelveLabsToolSpec(api_key="k", base_url="http://127.0.0.1:9/v1.3")
    lc = {t.name: t for t in TwelveLabsToolkit(api_key="k").get_tools()}
    tools = spec.to_tool_list()
    assert [t.metadata.name for t in tools] == list(lc)
    for tool in tools:
        twin = lc[tool.metadata.name]
        assert tool.metadata.description == twin.description
        assert tool.metadata.fn_schema is twin.args_schema
    names = [
        t.metadata.name
        for t in TwelveLabsToolSpec(api_key="k", include_credit_tools=False).to_tool_list()
    ]
    assert names == ["search_videos", "list_indexes", "list_videos"]
    with pytest.raises(InvalidRequestError, match="unknown tools"):
        TwelveLabsToolSpec(api_key="k", tools=["rm"])


def test_the_tools_run_sync_and_async_on_the_emulator(indexed: Indexed) -> None:
    emu = indexed.emulator

    async def run() -> tuple[str, str, str]:
        async with emulator_async_client(emu) as aclient:
            with emulator_client(emu) as client:
                spec = TwelveLabsToolSpec(
                    index_id=indexed.index_id, client=client, async_client=aclient
                )
                tools = {t.metadata.name: t for t in spec.to_tool_list()}
                found = tools["search_videos"].call(query="water the roses", max_results=2)
                listed = await tools["list_videos"].acall()
                asked = await tools["ask_about_video"].acall(
                    video_id=indexed.garden, question="What grows?"
                )
        return str(found), str(listed), str(asked)

    found, listed, asked = asyncio.run(run())
    assert found.splitlines()[1].startswith(f"1. garden.mp4 (video {indexed.garden})")
    assert "kitchen.mp4" in listed
    assert asked
    assert not asked.startswith("Error")


def test_errors_and_gates_are_text(wire: Wire, scenes: Scenes) -> None:
    spec = TwelveLabsToolSpec(client=wire.client(), confirm=lambda name, args: False)
    assert spec.search_videos("x").startswith("Error: no index given")
    assert spec.ask_about_video(scenes.sunset, "Why?").startswith(
        "Not done: the user did not allow"
    )
    assert wire.sent("POST", "/analyze") == []
    listed = spec.list_videos(index=scenes.index_name)
    assert listed.startswith(f"Videos in index {scenes.index_name}:")
