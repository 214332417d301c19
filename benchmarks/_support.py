"""Set-up helpers shared by the benchmarks: sample media, the SDK client, our client, indexes.

Set-up goes through the official SDK (the protocol's referee) so that a half-finished part
of our client cannot stop the SDK side of a benchmark from running.

Example:
    >>> # with sdk_session(emu) as sdk: index_id = sdk_create_index(sdk, "bench")
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from ._common import work_dir
from ._emu import EmulatorProcess

_MEDIA_LOCK = threading.Lock()
INDEX_MODELS = (("marengo3.0", ("visual", "audio")),)
"""The index models used everywhere (the client's default: Marengo only, as the API takes)."""


def sample_video(*, duration_s: float = 4.0, fps: float = 5.0, seed: int = 0) -> Path:
    """A small generated MP4 (cached under ``benchmarks/.work/media``).

    Example:
        >>> # sample_video(duration_s=4).stat().st_size < 200_000
    """
    from tl_integrations.emulator._media import make_sample_video

    path = work_dir("media") / f"sample-{duration_s:g}s-{fps:g}fps-{seed}.mp4"
    with _MEDIA_LOCK:
        if not path.exists() or path.stat().st_size == 0:
            tmp = path.with_suffix(".tmp.mp4")
            make_sample_video(tmp, duration_s=duration_s, fps=fps, seed=seed)
            tmp.replace(path)
    return path


def sample_videos(n: int, *, duration_s: float = 4.0, fps: float = 5.0) -> list[Path]:
    """``n`` distinct small videos (different seeds, so different bytes).

    Example:
        >>> # len(sample_videos(3)) == 3
    """
    return [sample_video(duration_s=duration_s, fps=fps, seed=i) for i in range(n)]


def sparse_file(size_bytes: int) -> Path:
    """A sparse file of ``size_bytes`` (no disk blocks used until written).

    Example:
        >>> sparse_file(1024).stat().st_size
        1024
    """
    path = work_dir("upload") / f"sparse-{size_bytes}.mp4"
    if not path.exists() or path.stat().st_size != size_bytes:
        with path.open("wb") as fh:
            fh.truncate(size_bytes)
    return path


def warm_page_cache(path: Path, *, block_bytes: int = 8 * 1024 * 1024) -> None:
    """Read ``path`` once, untimed, so that each client's upload finds it in the page cache.

    The first reader of a file (a sparse one included: the kernel fills its pages) pays
    several times the CPU of the next; without this, whichever client ran first paid it.

    Example:
        >>> warm_page_cache(sparse_file(1024))
    """
    with path.open("rb", buffering=0) as fh:
        while fh.read(block_bytes):
            pass


def sdk_client(emu: EmulatorProcess, *, http: httpx.Client) -> Any:
    """The official SDK's sync client pointed at the emulator, on a caller-owned ``http``.

    The SDK never closes its httpx client, so the caller passes one and closes it.

    Example:
        >>> # with httpx.Client(timeout=600) as http: sdk_client(emu, http=http).indexes.list()
    """
    from twelvelabs import TwelveLabs as SdkTwelveLabs

    return SdkTwelveLabs(api_key=emu.api_key, base_url=emu.base_url, httpx_client=http)


@contextlib.contextmanager
def sdk_session(emu: EmulatorProcess) -> Iterator[Any]:
    """The SDK client for a ``with`` block (its connections closed at the end).

    Its httpx client matches the SDK's own default (600 s timeout, redirects followed).

    Example:
        >>> # with sdk_session(emu) as sdk: sdk.indexes.list()
    """
    with new_sdk_http() as http:
        yield sdk_client(emu, http=http)


def new_sdk_http() -> httpx.Client:
    """An httpx client configured like the one the SDK builds for itself.

    Example:
        >>> new_sdk_http().timeout.read
        600.0
    """
    return httpx.Client(timeout=600.0, follow_redirects=True)


def our_client(emu: EmulatorProcess, **kwargs: Any) -> Any:
    """Our sync client pointed at the emulator, on the emulator's virtual clock if it has one.

    Example:
        >>> # with our_client(emu) as client: client.tasks.wait_many(ids)
    """
    from tl_integrations import TwelveLabs

    if emu.clock is not None:
        kwargs.setdefault("clock", emu.clock)
        kwargs.setdefault("sleep", emu.clock.sleep)
    return TwelveLabs(api_key=emu.api_key, base_url=emu.base_url, **kwargs)


def sdk_create_index(sdk: Any, name: str) -> str:
    """Create an index with :data:`INDEX_MODELS` through the SDK; return its id.

    Example:
        >>> # sdk_create_index(sdk, "bench-wait")
    """
    from twelvelabs.indexes.types.indexes_create_request_models_item import (
        IndexesCreateRequestModelsItem,
    )

    models = [
        IndexesCreateRequestModelsItem(model_name=m, model_options=list(opts))
        for m, opts in INDEX_MODELS
    ]
    created = sdk.indexes.create(index_name=name, models=models)
    return str(created.id)


def file_url(path: Path) -> str:
    """``file://`` URL of a local path (the emulator fetches these instead of an upload).

    Example:
        >>> file_url(Path("/tmp/a.mp4"))
        'file:///tmp/a.mp4'
    """
    return path.resolve().as_uri()
