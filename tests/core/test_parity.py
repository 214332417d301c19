"""The sync and async twins expose the same methods and make the same requests."""

from __future__ import annotations

import asyncio
import functools
import inspect
import pathlib
from typing import Any

import pytest

from testkit import FakeClock
from tl_integrations import AsyncTwelveLabs, TwelveLabs

from .fakeapi import FakeTwelveLabs


def resources(client: object, prefix: str = "") -> dict[str, object]:
    """Every resource hanging off a client, found by walking it (so none is forgotten)."""
    found: dict[str, object] = {}
    lazy = [  # resources made on first use (``client.embed``) are class-level cached properties
        name
        for cls in type(client).__mro__
        for name, attr in vars(cls).items()
        if isinstance(attr, functools.cached_property)
    ]
    for name in [*vars(client), *lazy]:
        value = getattr(client, name)
        if name.startswith("_") or not type(value).__module__.startswith("tl_integrations._res"):
            continue
        found[prefix + name] = value
        found.update(resources(value, prefix + name + "."))
    return found


def public_methods(resource: object) -> dict[str, Any]:
    methods = {
        name: getattr(type(resource), name)
        for name in dir(type(resource))
        if not name.startswith("_") and callable(getattr(type(resource), name))
    }
    if callable(resource):
        methods["__call__"] = type(resource).__call__
    return methods


# Objects that iterate both ways (``for`` on a sync client, ``async for`` on an async one).
DUAL = {"AnalyzeStream"}


def test_constructors_match() -> None:
    sync = inspect.signature(TwelveLabs.__init__).parameters
    async_ = inspect.signature(AsyncTwelveLabs.__init__).parameters
    assert list(sync) == list(async_)
    assert [p.default for p in sync.values()] == [p.default for p in async_.values()]


def test_every_resource_has_a_twin() -> None:
    sync = resources(TwelveLabs(api_key="k"))
    async_ = resources(AsyncTwelveLabs(api_key="k"))
    assert sorted(sync) == sorted(async_)
    assert {"indexes", "tasks", "videos", "search", "analyze", "embed", "embed.tasks"} <= set(sync)


@pytest.mark.parametrize("name", sorted(resources(TwelveLabs(api_key="k"))))
def test_twins_have_the_same_signatures_and_docstrings(name: str) -> None:
    sync = public_methods(resources(TwelveLabs(api_key="k"))[name])
    async_ = public_methods(resources(AsyncTwelveLabs(api_key="k"))[name])
    assert sorted(sync) == sorted(async_)
    for method in sync:
        left = inspect.signature(sync[method]).parameters
        right = inspect.signature(async_[method]).parameters
        assert [(p.name, p.kind, p.default) for p in left.values()] == [
            (p.name, p.kind, p.default) for p in right.values()
        ], f"{name}.{method}"
        assert sync[method].__doc__, method
        assert sync[method].__doc__ == async_[method].__doc__, method
        twin = async_[method]
        returns = str(inspect.signature(twin).return_annotation)
        assert (
            inspect.iscoroutinefunction(twin)
            or inspect.isasyncgenfunction(twin)
            or returns.startswith(("AsyncIterator", "AsyncWaiting"))
            or returns in DUAL
        ), f"{name}.{method} is not async"


def scenario_requests(kind: str, video: pathlib.Path) -> list[tuple[str, str, str]]:
    """Run one scenario against a fresh fake; return the requests it made."""
    api = FakeTwelveLabs(clock=FakeClock())
    index_id = api.add_index("talks")
    existing = [api.add_task(index_id, ready_after_s=30.0 + i) for i in range(3)]

    def sync_run() -> None:
        with api.client() as client:
            client.indexes.get_or_create("talks")
            task = client.tasks.create(index_id=index_id, file=video)
            client.tasks.wait(task.id)
            list(client.tasks.wait_many(existing_tasks(client)))
            client.videos.retrieve(index_id, task.video_id or "", transcription=True)
            list(client.search.query(index_id=index_id, query_text="x", max_results=12))
            client.analyze("6711a09ae4a1b37f8a9c5d01", "summary")
            client._http.close()

    async def async_run() -> None:
        async with api.async_client() as client:
            await client.indexes.get_or_create("talks")
            task = await client.tasks.create(index_id=index_id, file=video)
            await client.tasks.wait(task.id)
            refs = [await client.tasks.retrieve(t.id) for t in existing]
            [t async for t in client.tasks.wait_many(refs)]
            await client.videos.retrieve(index_id, task.video_id or "", transcription=True)
            [
                c
                async for c in client.search.query(
                    index_id=index_id, query_text="x", max_results=12
                )
            ]
            await client.analyze("6711a09ae4a1b37f8a9c5d01", "summary")
            await client._http.aclose()

    def existing_tasks(client: TwelveLabs) -> list[Any]:
        return [client.tasks.retrieve(t.id) for t in existing]

    if kind == "sync":
        sync_run()
    else:
        asyncio.run(async_run())
    return [
        (r.method, r.url.path, "&".join(sorted(k for k in r.url.params if k != "tl_upload_token")))
        for r in api.requests
    ]


def test_both_twins_make_the_same_requests(tmp_path: pathlib.Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"v" * 1000)
    sync = scenario_requests("sync", video)
    async_ = scenario_requests("async", video)
    assert sync == async_
    assert len(sync) > 10
