"""LangChain tools for agents over TwelveLabs videos, and the toolkit that hands them out."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.tools import BaseTool, BaseToolkit
from pydantic import ConfigDict, Field, PrivateAttr

from .._adapters import AdapterClients, ClientHolder
from .._errors import InvalidRequestError
from .._retrieval import SearchSettings
from .._video_tools import (
    DEFAULT_INDEX_TIMEOUT_S,
    TOOL_SPECS,
    Confirm,
    VideoTools,
    arguments_error,
)

__all__ = ["TwelveLabsToolkit"]


class _VideoTool(BaseTool):
    """One TwelveLabs tool; its logic is :class:`~tl_integrations._video_tools.VideoTools`."""

    _tools: VideoTools = PrivateAttr()
    _holder: ClientHolder = PrivateAttr()

    def model_post_init(self, context: Any) -> None:
        # Arguments the schema refuses come back to the model as text it can act on.
        name = self.name
        self.handle_validation_error = lambda invalid: arguments_error(name, invalid)

    def _run(self, run_manager: CallbackManagerForToolRun | None = None, **kwargs: Any) -> str:
        return self._holder.run(self._tools.plan(self.name, kwargs))

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> str:
        return await self._holder.arun(self._tools.plan(self.name, kwargs))


class TwelveLabsToolkit(AdapterClients, BaseToolkit):
    """Tools for an agent to search, question, list and index TwelveLabs videos.

    ``get_tools()`` gives ``search_videos`` (moments matching words or an image),
    ``ask_about_video`` (a question answered by Pegasus), ``list_indexes``, ``list_videos``
    and ``index_video`` (a local file or URL, uploaded once, waited for). Outputs are short
    texts sized for a model (a line per moment: file, video id, times, what is said), and
    errors come back as an ``Error: ...`` text saying what to do next, never as an
    exception that ends the agent's run. Tools that spend credits (``ask_about_video``,
    ``index_video``) say so in their descriptions; leave them out with
    ``include_credit_tools=False`` or gate them with ``confirm``.

    Args:
        index_id / index_name: the index the tools use when the model names none.
        include_credit_tools: False leaves out the tools that spend credits.
        tools: only these tool names (default: all allowed).
        confirm: ``confirm(tool_name, args) -> bool`` asked before a credit-spending tool
            runs (may be async on the async path); False makes the tool answer that the
            user declined. Not serialised.
        index_timeout_s: how long ``index_video`` waits for a video to be ready.
        options / operator / filter: how ``search_videos`` searches (as the retriever).
        api_key / base_url / client / async_client: as for every adapter.

    Example:
        >>> toolkit = TwelveLabsToolkit(index_name="talks",
        ...                             confirm=lambda name, args: input(f"{name}? ") == "y")
        >>> [tool.name for tool in toolkit.get_tools()]  # doctest: +SKIP
        ['search_videos', 'ask_about_video', 'list_indexes', 'list_videos', 'index_video']
        >>> agent = create_agent(model, tools=toolkit.get_tools())  # doctest: +SKIP
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    index_id: str | None = None
    index_name: str | None = None
    include_credit_tools: bool = True
    tools: tuple[str, ...] | None = None
    confirm: Confirm | None = Field(default=None, exclude=True, repr=False)
    index_timeout_s: float = Field(default=DEFAULT_INDEX_TIMEOUT_S, gt=0)
    options: tuple[str, ...] | None = None
    operator: Literal["or", "and"] | None = None
    filter: dict[str, Any] | None = None

    _logic: VideoTools = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        if self.index_id is not None and self.index_name is not None:
            raise InvalidRequestError("give index_id or index_name, not both")
        known = {spec.name for spec in TOOL_SPECS}
        unknown = sorted(set(self.tools or ()) - known)
        if unknown:
            raise InvalidRequestError(f"unknown tools {unknown}; choose from {sorted(known)}")
        settings = SearchSettings(
            **({"search_options": self.options} if self.options else {}),
            operator=self.operator,
            filter=self.filter,
        )
        self._logic = VideoTools(
            index_id=self.index_id,
            index_name=self.index_name,
            confirm=self.confirm,
            index_timeout_s=self.index_timeout_s,
            settings=settings,
        )

    def get_tools(self) -> list[BaseTool]:
        """The tools, sharing this toolkit's clients and settings.

        Example:
            >>> names = [t.name for t in TwelveLabsToolkit(index_id="i1",
            ...     include_credit_tools=False, api_key="k").get_tools()]
            >>> names
            ['search_videos', 'list_indexes', 'list_videos']
        """
        made: list[BaseTool] = []
        for spec in TOOL_SPECS:
            if spec.spends_credits and not self.include_credit_tools:
                continue
            if self.tools is not None and spec.name not in self.tools:
                continue
            tool = _VideoTool(
                name=spec.name, description=spec.description, args_schema=spec.args_schema
            )
            tool._tools = self._logic
            tool._holder = self._clients()
            made.append(tool)
        return made
