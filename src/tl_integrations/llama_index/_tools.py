"""LlamaIndex tools for agents over TwelveLabs videos: the same tools as the LangChain kit."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, cast

from llama_index.core.tools.tool_spec.base import SPEC_FUNCTION_TYPE, BaseToolSpec
from llama_index.core.tools.types import ToolMetadata
from pydantic import SecretStr

from .._adapters import checked_options, holder_for
from .._errors import InvalidRequestError
from .._video_tools import (
    DEFAULT_INDEX_TIMEOUT_S,
    SPECS_BY_NAME,
    TOOL_SPECS,
    Confirm,
    VideoTools,
)

if TYPE_CHECKING:
    from .._client import AsyncTwelveLabs, TwelveLabs

__all__ = ["TwelveLabsToolSpec"]

P = ParamSpec("P")


class _AsyncCalls:
    """Stands in for the spec inside an async twin: its ``_call`` is the spec's ``_acall``."""

    def __init__(self, spec: TwelveLabsToolSpec) -> None:
        self._call = spec._acall


def _async_twin(
    method: Callable[Concatenate[Any, P], str],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, str]]:
    # A tool's body only names the tool and its arguments; on the stand-in it returns the
    # awaitable of the async run, so each async tool has its sync twin's signature.
    async def twin(self: TwelveLabsToolSpec, /, *args: P.args, **kwargs: P.kwargs) -> str:
        return await cast(Awaitable[str], method(_AsyncCalls(self), *args, **kwargs))

    functools.update_wrapper(twin, method)
    twin.__name__ = f"a{method.__name__}"
    twin.__qualname__ = f"TwelveLabsToolSpec.{twin.__name__}"
    twin.__doc__ = f"The async :meth:`{method.__name__}`."
    return twin


class TwelveLabsToolSpec(BaseToolSpec):
    """Tools for a LlamaIndex agent to search, question, list and index TwelveLabs videos.

    The same five tools as :class:`~tl_integrations.langchain.TwelveLabsToolkit`, with the
    same names, descriptions, argument schemas, short outputs and ``Error: ...`` texts
    (one implementation serves both): ``search_videos``, ``ask_about_video``,
    ``list_indexes``, ``list_videos`` and ``index_video``. Each has a native async twin
    (``asearch_videos``...) that ``FunctionTool.acall`` uses. The tools that spend credits
    say so; leave them out with ``include_credit_tools=False`` or gate them with
    ``confirm(tool_name, args) -> bool``.

    Args:
        index_id / index_name: the index the tools use when the model names none.
        include_credit_tools: False leaves out ``ask_about_video`` and ``index_video``.
        tools: only these tool names (default: all allowed).
        confirm: asked before a credit-spending tool runs (may be async on async paths).
        index_timeout_s: how long ``index_video`` waits for a video to be ready.
        client / async_client / api_key / base_url: as for the retriever.

    Example:
        >>> spec = TwelveLabsToolSpec(index_name="talks", include_credit_tools=False,
        ...                           api_key="tlk_...")
        >>> [tool.metadata.name for tool in spec.to_tool_list()]
        ['search_videos', 'list_indexes', 'list_videos']
        >>> agent = FunctionAgent(tools=spec.to_tool_list(), llm=llm)  # doctest: +SKIP
    """

    @checked_options
    def __init__(
        self,
        *,
        index_id: str | None = None,
        index_name: str | None = None,
        include_credit_tools: bool = True,
        tools: tuple[str, ...] | list[str] | None = None,
        confirm: Confirm | None = None,
        index_timeout_s: float = DEFAULT_INDEX_TIMEOUT_S,
        client: TwelveLabs | None = None,
        async_client: AsyncTwelveLabs | None = None,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
    ) -> None:
        if index_id is not None and index_name is not None:
            raise InvalidRequestError("give index_id or index_name, not both")
        unknown = sorted(set(tools or ()) - set(SPECS_BY_NAME))
        if unknown:
            raise InvalidRequestError(f"unknown tools {unknown}; choose from {list(SPECS_BY_NAME)}")
        self._logic = VideoTools(
            index_id=index_id,
            index_name=index_name,
            confirm=confirm,
            index_timeout_s=index_timeout_s,
        )
        self._holder = holder_for(
            api_key=api_key, base_url=base_url, client=client, async_client=async_client
        )
        self.spec_functions: list[SPEC_FUNCTION_TYPE] = [
            (spec.name, f"a{spec.name}")
            for spec in TOOL_SPECS
            if (include_credit_tools or not spec.spends_credits)
            and (tools is None or spec.name in tools)
        ]

    def get_metadata_from_fn_name(
        self, fn_name: str, spec_functions: list[SPEC_FUNCTION_TYPE] | None = None
    ) -> ToolMetadata | None:
        """The tool's name, description and argument schema, shared with LangChain.

        Example:
            >>> TwelveLabsToolSpec(api_key="k").get_metadata_from_fn_name("list_videos").name
            'list_videos'
        """
        name = fn_name if fn_name in SPECS_BY_NAME else fn_name.removeprefix("a")
        spec = SPECS_BY_NAME[name]
        return ToolMetadata(
            name=spec.name, description=spec.description, fn_schema=spec.args_schema
        )

    def _call(self, name: str, args: dict[str, Any]) -> str:
        return self._holder.run(self._logic.plan(name, args))

    async def _acall(self, name: str, args: dict[str, Any]) -> str:
        return await self._holder.arun(self._logic.plan(name, args))

    # --- the tools (one line each: the logic is shared) ---------------------------------

    def search_videos(
        self,
        query: str = "",
        image: str | None = None,
        index: str | None = None,
        max_results: int = 5,
    ) -> str:
        """Moments matching words (what is shown, said or heard) or an image, one a line."""
        return self._call(
            "search_videos", _given(query=query, image=image, index=index, max_results=max_results)
        )

    def ask_about_video(self, video_id: str, question: str) -> str:
        """Pegasus' short answer to a question about one video (spends credits)."""
        return self._call("ask_about_video", {"video_id": video_id, "question": question})

    def list_indexes(self) -> str:
        """The indexes, with their ids and video counts."""
        return self._call("list_indexes", {})

    def list_videos(self, index: str | None = None) -> str:
        """The videos of an index, with ids, file names and durations."""
        return self._call("list_videos", _given(index=index))

    def index_video(self, source: str, index: str | None = None) -> str:
        """Upload (once) and index a video file or URL, and wait for it (spends credits)."""
        return self._call("index_video", _given(source=source, index=index))

    # The async tools (FunctionTool.acall uses them): the same bodies, run through _acall.
    asearch_videos = _async_twin(search_videos)
    aask_about_video = _async_twin(ask_about_video)
    alist_indexes = _async_twin(list_indexes)
    alist_videos = _async_twin(list_videos)
    aindex_video = _async_twin(index_video)

    def close(self) -> None:
        """Close the connection pool this spec opened (not an injected client).

        Example:
            >>> TwelveLabsToolSpec(api_key="k").close()
        """
        self._holder.close()


def _given(**args: Any) -> dict[str, Any]:
    return {key: value for key, value in args.items() if value is not None}
