"""The demo from start to end: backend, steps, summary.

Example:
    >>> from tl_integrations.cli._output import Console
    >>> run(Console(), api_key=None, base_url=None)  # doctest: +SKIP
    0
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ..cli._output import Console, format_duration
from ._backend import DEMO_SPEED, DemoBackend, ask_to_spend, open_backend
from ._media import SAMPLES
from ._show import Show
from ._steps import (
    INDEX_NAME,
    Tally,
    ask_questions,
    embed_videos,
    index_videos,
    make_samples,
    show_documents,
)

__all__ = ["EXIT_REFUSED", "run"]

EXIT_REFUSED = 2
_TOP_ROUTES = 3


def run(
    console: Console,
    *,
    api_key: str | None,
    base_url: str | None,
    assume_yes: bool = False,
    speed: float | None = None,
    ask: Callable[[str], str] = input,
) -> int:
    """Run the whole demo; return 0, or 2 when a real key is set and spending was refused.

    Args:
        console: where to print (stdout; notices on stderr).
        api_key: a TwelveLabs key for the real API; None runs offline on the emulator.
        base_url: the API base URL (real API only).
        assume_yes: do not ask before spending API credits.
        speed: the embedded emulator's speed-up (default :data:`DEMO_SPEED`).
        ask: reads the answer to the confirmation question (``input``).
    """
    if api_key and not assume_yes and not _confirmed(console, base_url, ask):
        return EXIT_REFUSED
    started = time.perf_counter()
    show = Show(console)
    show.title("tl-integrations demo: videos in, Documents, vectors and answers out")
    with open_backend(api_key=api_key, base_url=base_url, speed=speed or DEMO_SPEED) as backend:
        _say_where(show, backend)
        tally = Tally()
        with tempfile.TemporaryDirectory(prefix="tl-demo-") as tmp:
            _steps(show, backend, Path(tmp), tally)
        _summary(show, backend, tally, time.perf_counter() - started)
    return 0


def _confirmed(console: Console, base_url: str | None, ask: Callable[[str], str]) -> bool:
    where = base_url or "https://api.twelvelabs.io/v1.3"
    answer = ask_to_spend(where, ask=ask)
    if answer is None:
        console.error(
            "TWELVELABS_API_KEY is set and there is no terminal to confirm spending API "
            "credits: run `tl-integrations demo --yes`, or unset the key to run offline"
        )
    elif not answer:
        console.notice("Nothing done.")
    return bool(answer)


def _say_where(show: Show, backend: DemoBackend) -> None:
    if backend.emulator is not None:
        where = backend.base_url
        show.line(
            f"No TWELVELABS_API_KEY: running offline on the embedded emulator at {where}", level=0
        )
    else:
        show.line(f"Using the TwelveLabs API at {backend.base_url}.", level=0)


def _steps(show: Show, backend: DemoBackend, directory: Path, tally: Tally) -> None:
    paths = make_samples(show, directory, tally)
    documents = index_videos(show, backend, paths, tally)
    show_documents(show, documents, filename=SAMPLES[0].filename)
    store, embeddings = embed_videos(show, backend, paths, tally)
    ask_questions(show, store, embeddings, documents, tally)


def _summary(show: Show, backend: DemoBackend, tally: Tally, total_s: float) -> None:
    show.console.print()
    show.console.print("What happened")
    documents = sum(tally.documents.values())
    kinds = ", ".join(f"{n} {kind}" for kind, n in tally.documents.items())
    segments = sum(len(ve) for ve in tally.embeddings)
    dim = tally.embeddings[0].dim if tally.embeddings else 0
    reused = len(tally.videos) - tally.created_tasks
    tasks = f"{tally.created_tasks} indexing tasks, {len(tally.embeddings)} embedding tasks"
    rows = [
        ["videos", f"{len(tally.videos)} ({tally.video_s:.0f} s) in index {INDEX_NAME!r}"],
        ["tasks", tasks + (f"; {reused} videos already indexed" if reused else "")],
        ["documents", f"{documents} ({kinds})"],
        ["vectors", f"{segments} segments x {dim} dims"],
        *_request_rows(backend),
        ["time", f"{format_duration(total_s)}  ({_phases(tally)})"],
    ]
    show.table(rows)


def _request_rows(backend: DemoBackend) -> list[list[str]]:
    stats = backend.stats()
    if stats is None:
        return [["requests", f"{backend.counter.total} to the TwelveLabs API"]]
    routes = sorted(stats["requests"].items(), key=lambda item: -item[1])
    top = ", ".join(f"{_route(name)} {n}" for name, n in routes[:_TOP_ROUTES])
    megabytes = stats["bytes_received"] / 1e6
    return [
        ["requests", f"{stats['requests_total']} to the emulator: {top}, ..."],
        ["uploads", f"{stats['uploads']} files, {megabytes:.1f} MB"],
    ]


def _route(name: str) -> str:
    method, _, path = name.partition(" ")
    return f"{method} {path.removeprefix('/v1.3')}"


def _phases(tally: Tally) -> str:
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in tally.step_s.items())
