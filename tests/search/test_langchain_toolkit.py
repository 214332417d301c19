"""LangChain TwelveLabsToolkit on the emulator: the standard tool suites, and what the tools
say and send."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from langchain_core.messages import ToolCall
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests
from search_emulator import Indexed, Scenes, Wire, emulator_async_client, emulator_client

from tl_integrations import InvalidRequestError, TwelveLabs
from tl_integrations.emulator import Emulator, EmulatorConfig, ManualClock
from tl_integrations.langchain import TwelveLabsToolkit

# One index per session for index_video, so indexing again finds what it made.
FRESH_INDEX = f"tools-{uuid.uuid4().hex[:10]}"


class _OnTheEmulator:
    tool_name: str

    @pytest.fixture(autouse=True)
    async def _toolkit(self, indexed: Indexed) -> AsyncIterator[None]:
        emu = indexed.emulator
        self._indexed = indexed
        with emulator_client(emu) as client:
            async with emulator_async_client(emu) as aclient:
                self._kit = TwelveLabsToolkit(
                    index_id=indexed.index_id, client=client, async_client=aclient
                )
                yield

    @property
    def tool_constructor(self) -> BaseTool:
        return next(t for t in self._kit.get_tools() if t.name == self.tool_name)

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        indexed = self._indexed
        return {
            "search_videos": {"query": "sourdough bread", "max_results": 2},
            "ask_about_video": {"video_id": indexed.kitchen, "question": "What is baked?"},
            "list_indexes": {},
            "list_videos": {"index": indexed.index_name},
            "index_video": {"source": str(indexed.media / "garden.mp4"), "index": FRESH_INDEX},
        }[self.tool_name]


class TestSearchVideosUnit(_OnTheEmulator, ToolsUnitTests):
    tool_name = "search_videos"


class TestSearchVideosIntegration(_OnTheEmulator, ToolsIntegrationTests):
    tool_name = "search_videos"


class TestAskAboutVideoUnit(_OnTheEmulator, ToolsUnitTests):
    tool_name = "ask_about_video"


class TestAskAboutVideoIntegration(_OnTheEmulator, ToolsIntegrationTests):
    tool_name = "ask_about_video"


class TestListIndexesUnit(_OnTheEmulator, ToolsUnitTests):
    tool_name = "list_indexes"


class TestListIndexesIntegration(_OnTheEmulator, ToolsIntegrationTests):
    tool_name = "list_indexes"


class TestListVideosUnit(_OnTheEmulator, ToolsUnitTests):
    tool_name = "list_videos"


class TestListVideosIntegration(_OnTheEmulator, ToolsIntegrationTests):
    tool_name = "list_videos"


class TestIndexVideoUnit(_OnTheEmulator, ToolsUnitTests):
    tool_name = "index_video"


class TestIndexVideoIntegration(_OnTheEmulator, ToolsIntegrationTests):
    tool_name = "index_video"


def _tools(kit: TwelveLabsToolkit) -> dict[str, BaseTool]:
    return {tool.name: tool for tool in kit.get_tools()}


def test_outputs_are_short_lines_a_model_can_use(indexed: Indexed) -> None:
    emu = indexed.emulator
    with emulator_client(emu) as client:
        tools = _tools(TwelveLabsToolkit(index_name=indexed.index_name, client=client))
        found = tools["search_videos"].invoke({"query": "today we bake sourdough bread"})
        listed = tools["list_videos"].invoke({})
        indexes = tools["list_indexes"].invoke({})
        answer = tools["ask_about_video"].invoke(
            {"video_id": indexed.kitchen, "question": "What is this video about?"}
        )
    lines = found.splitlines()
    assert re.fullmatch(
        rf"\d+ moments? for 'today we bake sourdough bread' in index {indexed.index_name}:",
        lines[0],
    )
    assert len(lines) >= 2
    assert lines[1].startswith(f"1. kitchen.mp4 (video {indexed.kitchen}) 0:0")
    assert "sourdough" in lines[1]
    assert all(len(line) < 300 for line in lines)
    assert f"kitchen.mp4 (video {indexed.kitchen}, 0:17)" in listed
    assert f"garden.mp4 (video {indexed.garden}, 0:12)" in listed
    assert f"{indexed.index_name} (id {indexed.index_id}): 2 videos" in indexes
    assert answer
    assert not answer.startswith("Error")
    assert len(answer) <= 2000


def test_indexing_a_video_twice_uploads_it_once(indexed: Indexed) -> None:
    emu = indexed.emulator
    name = f"again-{uuid.uuid4().hex[:8]}"
    source = str(indexed.media / "kitchen.mp4")
    with emulator_client(emu) as client:
        tool = _tools(TwelveLabsToolkit(index_name=name, client=client))["index_video"]
        first = tool.invoke({"source": source})
        uploads = emu.stats()["uploads"]
        second = tool.invoke({"source": source})
        assert emu.stats()["uploads"] == uploads
    assert first.startswith("Indexed kitchen.mp4 as video ")
    assert f"in index {name}, 0:17 long, 27 words spoken. It can be searched now." in first
    assert second == first


def test_errors_come_back_as_text_that_says_what_to_do(wire: Wire, scenes: Scenes) -> None:
    name = scenes.index_name
    tools = _tools(TwelveLabsToolkit(client=wire.client()))
    assert tools["search_videos"].invoke({"query": "x"}) == (
        "Error: no index given: pass index (a name or id; list_indexes shows them)."
    )
    assert (
        tools["search_videos"]
        .invoke({"query": "x", "index": "nope"})
        .startswith("Error: no index named 'nope'")
    )
    assert (
        tools["search_videos"]
        .invoke({"query": " ", "index": name})
        .startswith("Error: a search needs query_text, images, or both")
    )
    assert tools["search_videos"].invoke({"query": "x", "max_results": 99}) == (
        "Error: bad arguments for search_videos: max_results: Input should be less than or "
        "equal to 20."
    )
    missing = tools["ask_about_video"].invoke({"video_id": "0" * 24, "question": "Why?"})
    assert missing.startswith("Error: not found (no video 000000000000000000000000 in any index")
    assert missing.endswith("Check the id with list_videos or list_indexes.")
    assert (
        tools["index_video"]
        .invoke({"source": "/no/such.mp4", "index": name})
        .startswith("Error: no such file: '/no/such.mp4'; check the path")
    )
    assert tools["list_videos"].invoke({"index": name}).startswith(f"Videos in index {name}:")


def test_the_key_being_refused_is_said_plainly(emulator_for: Callable[..., Emulator]) -> None:
    config = EmulatorConfig(clock=ManualClock(), api_key="the-right-key")
    emu = emulator_for(config)
    with TwelveLabs(api_key="wrong-key", base_url=emu.base_url) as client:
        tool = _tools(TwelveLabsToolkit(client=client, index_id="0" * 24))["list_indexes"]
        text = tool.invoke({})
    assert text.startswith("Error: TwelveLabs refused the API key")
    assert "wrong-key" not in text


def test_image_search_through_the_tool(wire: Wire, scenes: Scenes) -> None:
    client = wire.client()
    photo = client.assets.upload(scenes.images["purple"])
    url = photo.thumbnail["representative_url"]  # an image the emulator serves
    tool = _tools(TwelveLabsToolkit(index_name=scenes.index_name, client=client))
    text = tool["search_videos"].invoke({"image": url})
    assert text.startswith(f"1 moment for the image in index {scenes.index_name}:")
    assert "sunset.mp4" in text  # its purple scene
    assert wire.forms[-1].fields["query_media_url"] == [url]


def test_credit_tools_can_be_left_out_or_gated(wire: Wire, scenes: Scenes) -> None:
    client = wire.client()
    assert set(_tools(TwelveLabsToolkit(client=client, include_credit_tools=False))) == {
        "search_videos",
        "list_indexes",
        "list_videos",
    }
    assert list(_tools(TwelveLabsToolkit(client=client, tools=("list_videos",)))) == ["list_videos"]
    asked: list[tuple[str, dict[str, Any]]] = []

    def deny(name: str, args: dict[str, Any]) -> bool:
        asked.append((name, args))
        return False

    for spec in TwelveLabsToolkit(client=client).get_tools():
        if spec.name in ("ask_about_video", "index_video"):
            assert "spends TwelveLabs credits" in spec.description
    video = scenes.sunset
    gated = _tools(TwelveLabsToolkit(client=client, confirm=deny))
    text = gated["ask_about_video"].invoke({"video_id": video, "question": "Why?"})
    assert text.startswith("Not done: the user did not allow ask_about_video")
    assert asked == [("ask_about_video", {"video_id": video, "question": "Why?", "index": None})]
    assert wire.sent("POST", "/analyze") == []  # nothing was spent

    async def allow(name: str, args: dict[str, Any]) -> bool:
        return True

    async def ask() -> Any:
        kit = TwelveLabsToolkit(client=client, async_client=wire.async_client(), confirm=allow)
        call = ToolCall(
            name="ask_about_video",
            args={"video_id": video, "question": "Why?"},
            id="1",
            type="tool_call",
        )
        try:
            return await _tools(kit)["ask_about_video"].ainvoke(call)
        finally:
            await wire.aclose()  # on the loop its connections were made on

    answer = asyncio.run(ask())
    assert "sunset.mp4" in answer.content  # the emulator's stand-in answer names the video
    assert len(wire.sent("POST", "/analyze")) == 1


def test_bad_toolkit_settings_fail_on_construction() -> None:
    with pytest.raises(InvalidRequestError, match="unknown tools"):
        TwelveLabsToolkit(api_key="k", tools=("delete_everything",))
    with pytest.raises(InvalidRequestError, match="not both"):
        TwelveLabsToolkit(api_key="k", index_id="i", index_name="n")
    with pytest.raises(InvalidRequestError, match="unknown"):
        TwelveLabsToolkit(api_key="k", options=("speech",))
