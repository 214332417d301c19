"""The demo: three sample videos indexed, described, embedded and searched.

``tl-integrations demo`` (and ``make demo``) runs it. With no ``TWELVELABS_API_KEY`` it runs
offline against the embedded emulator in a few seconds; with a key it uses the real API
and asks before spending credits (``--yes`` skips the question).

Example:
    >>> from tl_integrations._cli.demo import run_demo
    >>> run_demo()  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from .._extras import install_hint
from .backend import Settings, UsageError, emulator_poll_policy
from .output import Console, StatusBoard, format_duration, render_table

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.vectorstores import InMemoryVectorStore

    from .._client import TwelveLabs
    from .._embed.vectors import VideoEmbedding
    from ..emulator import Emulator
    from ..langchain import TwelveLabsEmbeddings

__all__ = [
    "DEMO_SPEED",
    "EXIT_REFUSED",
    "QUESTIONS",
    "command",
    "run_demo",
]


# --- questions ---

# What to ask the sample videos (tl_integrations.emulator._media.SAMPLES), one per video.
QUESTIONS: tuple[str, ...] = (
    "How long should the pasta boil?",
    "Which planet has rings of ice and rock?",
    "Who wins the match in the last minute?",
)


# --- backend ---

DEMO_SPEED = 2.5
_TIMEOUT_S = 120.0


class RequestCounter:
    """Counts the requests an httpx client sends (an event hook), by method.

    Example:
        >>> counter = RequestCounter()
        >>> counter(httpx.Request("GET", "http://x/tasks"))
        >>> counter.total
        1
    """

    def __init__(self) -> None:
        self.by_method: Counter[str] = Counter()

    def __call__(self, request: httpx.Request) -> None:
        self.by_method[request.method] += 1

    @property
    def total(self) -> int:
        """Requests sent so far (retries included)."""
        return sum(self.by_method.values())


@dataclass
class DemoBackend:
    """The client the demo uses, and what it needs to build the adapters' clients.

    Attributes:
        client: a client shared by the loader and the embeddings.
        api_key: the key (the emulator's placeholder when offline); never printed.
        base_url: the API base URL.
        emulator: the embedded emulator, when offline.
        counter: requests sent through ``client``.
    """

    client: TwelveLabs
    api_key: str
    base_url: str
    emulator: Emulator | None
    counter: RequestCounter = field(default_factory=RequestCounter)

    def stats(self) -> dict[str, Any] | None:
        """The emulator's request statistics (None on the real API)."""
        return self.emulator.stats() if self.emulator is not None else None


@contextlib.contextmanager
def open_backend(
    *, api_key: str | None, base_url: str | None, speed: float = DEMO_SPEED
) -> Iterator[DemoBackend]:
    """Start the embedded emulator (no key), or connect to the real API (with a key).

    The emulator keeps its state in a temporary directory: the demo leaves nothing behind.

    Example:
        >>> with open_backend(api_key=None, base_url=None) as backend:  # doctest: +SKIP
        ...     backend.emulator is not None
        True
    """
    if api_key:
        with _client(api_key, base_url, poll=None) as (client, counter):
            yield DemoBackend(client, api_key, client.base_url, None, counter)
        return
    from ..emulator import Emulator, EmulatorConfig

    with Emulator(EmulatorConfig(speed=speed)) as emulator:
        poll = emulator_poll_policy(speed)
        with _client(emulator.api_key, emulator.base_url, poll=poll) as (client, counter):
            yield DemoBackend(client, emulator.api_key, emulator.base_url, emulator, counter)


@contextlib.contextmanager
def _client(
    api_key: str, base_url: str | None, *, poll: Any
) -> Iterator[tuple[TwelveLabs, RequestCounter]]:
    from .._client import TwelveLabs

    counter = RequestCounter()
    hooks: dict[str, list[Callable[..., Any]]] = {"request": [counter]}
    with (
        httpx.Client(timeout=_TIMEOUT_S, event_hooks=hooks) as http,
        TwelveLabs(api_key, base_url=base_url, http_client=http, poll_policy=poll) as client,
    ):
        yield client, counter


def ask_to_spend(base_url: str, *, ask: Callable[[str], str] = input) -> bool | None:
    """Ask before using a real API key; None when nobody can answer (no terminal).

    Example:
        >>> ask_to_spend("https://api.twelvelabs.io/v1.3", ask=lambda prompt: "y")  # doctest: +SKIP
        True
    """
    if not sys.stdin or not sys.stdin.isatty():
        return None
    prompt = (
        f"TWELVELABS_API_KEY is set: the demo will upload, index and embed 3 short videos "
        f"(36 s) on {base_url}, which uses API credits. Continue? [y/N] "
    )
    try:
        answer = ask(prompt)
    except EOFError:
        return None
    return answer.strip().lower() in ("y", "yes")


# --- show ---

INDENT = "   "


def time_range(start_s: float | None, end_s: float | None) -> str:
    """``"6.0-12.0 s"`` (with an en dash), or ``""`` for a whole-video text.

    Example:
        >>> time_range(6, 12)
        '6.0–12.0 s'
    """
    if start_s is None or end_s is None:
        return ""
    return f"{start_s:.1f}–{end_s:.1f} s"


class Show:
    """The demo's printer: steps, lines, tables and quotes, all on stdout.

    Example:
        >>> import io
        >>> buf = io.StringIO()
        >>> Show(Console(stdout=buf)).line("hello")
        >>> buf.getvalue()
        '   hello\\n'
    """

    def __init__(
        self,
        console: Console,
        *,
        width: int = 88,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.console = console
        self.width = width
        self._clock = clock
        self._steps = 0
        self._step_started = clock()

    def title(self, text: str) -> None:
        """The demo's first line."""
        self.console.print(text)

    def step(self, title: str) -> None:
        """Start a numbered step (its duration is printed by :meth:`done`)."""
        self._steps += 1
        self._step_started = self._clock()
        self.console.print()
        self.console.print(f"{self._steps}. {title}")

    def done(self, text: str) -> float:
        """Close the step with a result line and its duration; return the duration."""
        elapsed = self._clock() - self._step_started
        self.line(f"→ {text} ({format_duration(elapsed)})")
        return elapsed

    def line(self, text: str = "", *, level: int = 1) -> None:
        """One indented line."""
        self.console.print((INDENT * level + text).rstrip())

    def wrapped(self, text: str, *, level: int = 1) -> None:
        """Plain text wrapped to the width, indented."""
        indent = INDENT * level
        for line in textwrap.wrap(
            text, width=self.width, initial_indent=indent, subsequent_indent=indent + "  "
        ):
            self.console.print(line)

    def table(self, rows: Sequence[Sequence[str]], *, level: int = 1) -> None:
        """Aligned columns, indented."""
        for line in render_table(rows, indent=len(INDENT) * level):
            self.console.print(line)

    def labelled(self, label: str, text: str, *, width: int = 23, max_lines: int = 2) -> None:
        """A label column, then quoted text wrapped under itself (a hanging indent)."""
        indent = INDENT + " " * width
        body = " ".join(text.split())
        lines = textwrap.wrap(
            f'"{body}"',
            width=self.width,
            initial_indent=INDENT + label.ljust(width),
            subsequent_indent=indent + " ",
            max_lines=max_lines,
            placeholder=" …",
        )
        for line in lines:
            self.console.print(line)

    def quote(self, text: str, *, level: int = 2, max_lines: int = 2) -> None:
        """Quoted text, wrapped to the width and cut after ``max_lines`` lines."""
        indent = INDENT * level
        body = " ".join(text.split())
        lines = textwrap.wrap(
            f'"{body}"',
            width=self.width,
            initial_indent=indent,
            subsequent_indent=indent + " ",
            max_lines=max_lines,
            placeholder=" …",
        )
        for line in lines:
            self.console.print(line)


# --- steps ---

INDEX_NAME = "tl-integrations-demo"
MODEL = "marengo3.0"
CLIP_S = 6.0
_INDEX_TIMEOUT_S = 900.0


@dataclass
class Tally:
    """What the demo did, for the summary at the end.

    Example:
        >>> Tally(video_s=36.0).video_s
        36.0
    """

    videos: list[Path] = field(default_factory=list)
    video_s: float = 0.0
    newly_indexed: int = 0
    documents: Counter[str] = field(default_factory=Counter)
    embeddings: list[VideoEmbedding] = field(default_factory=list)
    step_s: dict[str, float] = field(default_factory=dict)


def make_samples(show: Show, directory: Path, tally: Tally) -> list[Path]:
    """Step 1: write the three sample videos and list them."""
    from ..emulator._media import SAMPLES, sample_videos

    show.step("Make three sample videos (coloured scenes, subtitles, a tone)")
    paths = sample_videos(directory)
    for sample in SAMPLES:
        first_line = sample.subtitles[0][2]
        show.line(
            f"{sample.filename:<14} {sample.duration_s:.0f} s  {sample.topic:<10} {first_line}"
        )
    tally.videos = paths
    tally.video_s = sum(sample.duration_s for sample in SAMPLES)
    tally.step_s["videos"] = show.done(f"{len(paths)} MP4 files, {tally.video_s:.0f} s of video")
    return paths


def index_videos(
    show: Show, backend: DemoBackend, paths: Sequence[Path], tally: Tally
) -> list[Document]:
    """Step 2: index with ``TwelveLabsVideoLoader`` while a board shows task statuses."""
    from ..langchain import TwelveLabsVideoLoader

    show.step("Index them with TwelveLabsVideoLoader (upload, wait, read)")
    board = StatusBoard(
        [path.name for path in paths], console=show.console, to_stdout=True, indent=len(INDENT)
    )
    uploaded: set[str] = set()

    def on_status(source: str, status: str) -> None:
        if status == "uploading":
            uploaded.add(source)
        # A reused video has no task statuses: its row ends when its Documents come.
        board.update(Path(source).name, "ready" if status == "done" else status)

    loader = TwelveLabsVideoLoader(
        [str(path) for path in paths],
        index_name=INDEX_NAME,
        content=("transcript", "summary", "chapters"),
        chunk_s=CLIP_S,
        client=backend.client,
        timeout_s=_INDEX_TIMEOUT_S,
        on_status=on_status,
    )
    documents = list(loader.lazy_load())
    board.close()
    tally.newly_indexed = len(uploaded)
    tally.documents = Counter(str(d.metadata["content_kind"]) for d in documents)
    kinds = ", ".join(f"{n} {kind}" for kind, n in tally.documents.items())
    tally.step_s["indexing"] = show.done(f"{len(documents)} Documents ({kinds})")
    return documents


def show_documents(show: Show, documents: Sequence[Document], *, filename: str) -> None:
    """Step 3: print a few Documents of one video: transcript windows, summary, chapters."""
    show.step(f"A few of the Documents for {filename}")
    mine = [d for d in documents if d.metadata.get("filename") == filename]
    picks = _first(mine, "transcript", 2) + _first(mine, "summary", 1) + _first(mine, "chapters", 2)
    for document in picks:
        meta = document.metadata
        kind = str(meta["content_kind"]).removesuffix("s")
        label = f"{kind:<10} {time_range(meta.get('start_s'), meta.get('end_s'))}"
        show.labelled(label, document.page_content, max_lines=3 if kind == "summary" else 2)
    if picks:
        show.wrapped(f"metadata: {', '.join(sorted(picks[0].metadata))}")


def _first(documents: Sequence[Document], kind: str, n: int) -> list[Document]:
    return [d for d in documents if d.metadata.get("content_kind") == kind][:n]


def embed_videos(
    show: Show, backend: DemoBackend, paths: Sequence[Path], tally: Tally
) -> tuple[InMemoryVectorStore, TwelveLabsEmbeddings]:
    """Step 4: ``embed_video`` each video, then load the segment vectors into a store."""
    from langchain_core.vectorstores import InMemoryVectorStore

    from ..langchain import TwelveLabsEmbeddings, add_video_embedding

    show.step(f"Embed them with TwelveLabsEmbeddings.embed_video ({MODEL}, {CLIP_S:g} s clips)")
    embeddings = TwelveLabsEmbeddings(model=MODEL, client=backend.client)
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        results = list(pool.map(lambda p: embeddings.embed_video(p, clip_length_s=CLIP_S), paths))
    store = InMemoryVectorStore(embedding=embeddings)
    for path, ve in zip(paths, results, strict=True):
        add_video_embedding(store, ve, source=path.name)
        options = ", ".join(sorted(set(ve.options.tolist())))
        show.line(f"{path.name:<14} {len(ve):>2} segments x {ve.dim}  ({options})")
    tally.embeddings = results
    total = sum(len(ve) for ve in results)
    tally.step_s["embedding"] = show.done(f"{total} segment vectors in an InMemoryVectorStore")
    return store, embeddings


def ask_questions(
    show: Show,
    backend: DemoBackend,
    store: InMemoryVectorStore,
    embeddings: TwelveLabsEmbeddings,
    tally: Tally,
) -> None:
    """Step 5: ask the index with ``TwelveLabsRetriever`` (TwelveLabs search): the best
    moments, with what is said there; then the same question to the vector store."""
    from ..langchain import TwelveLabsRetriever

    show.step("Ask the index with TwelveLabsRetriever (question -> moments, what is said)")
    retriever = TwelveLabsRetriever(index_name=INDEX_NAME, k=2, client=backend.client)
    for question in QUESTIONS:
        show.line(f"Q: {question}")
        for document in retriever.invoke(question):
            meta = document.metadata
            best = "  <- best" if meta["rank"] == 1 else ""
            where = f"{meta['filename']:<14} {time_range(meta['start_s'], meta['end_s']):<11}"
            show.line(f"{where}  rank {meta['rank']}{best}", level=2)
            if meta["rank"] == 1:
                show.quote(document.page_content, level=3)
    nearest = _nearest(store, embeddings, QUESTIONS[0])
    show.wrapped(f"The segment vectors agree: the nearest to Q1 is {nearest}.")
    tally.step_s["questions"] = show.done(f"{len(QUESTIONS)} questions answered")


def _nearest(store: InMemoryVectorStore, embeddings: TwelveLabsEmbeddings, question: str) -> str:
    """The store's nearest segment to ``question``, as file and time."""
    hits = store.similarity_search_with_score_by_vector(embeddings.embed_query(question), k=1)
    if not hits:
        return "nothing (the store is empty)"
    meta, score = hits[0][0].metadata, hits[0][1]
    return f"{meta['source']} {time_range(meta['start_s'], meta['end_s'])} ({score:.2f})"


# --- run ---

EXIT_REFUSED = 2
_REQUESTS_CHARS = 84  # the requests row's text, so that it fits 100 columns with its label
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
    show_documents(show, documents, filename=paths[0].name)
    store, embeddings = embed_videos(show, backend, paths, tally)
    ask_questions(show, backend, store, embeddings, tally)


def _summary(show: Show, backend: DemoBackend, tally: Tally, total_s: float) -> None:
    show.console.print()
    show.console.print("What happened")
    documents = sum(tally.documents.values())
    kinds = ", ".join(f"{n} {kind}" for kind, n in tally.documents.items())
    segments = sum(len(ve) for ve in tally.embeddings)
    dim = tally.embeddings[0].dim if tally.embeddings else 0
    reused = len(tally.videos) - tally.newly_indexed
    embedded = len(tally.embeddings)
    tasks = f"{tally.newly_indexed} videos uploaded and indexed, {embedded} embedding tasks"
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
    line = f"{stats['requests_total']} to the emulator:"
    for name, n in routes[:_TOP_ROUTES]:
        # The busiest routes, as many as fit on the line (route names vary in length).
        longer = f"{line} {_route(name)} {n},"
        if len(longer) + 4 > _REQUESTS_CHARS and line.endswith(","):
            break
        line = longer
    megabytes = stats["bytes_received"] / 1e6
    return [
        ["requests", f"{line} ..."],
        ["uploads", f"{stats['uploads']} files, {megabytes:.1f} MB"],
    ]


def _route(name: str) -> str:
    method, _, path = name.partition(" ")
    return f"{method} {path.removeprefix('/v1.3')}"


def _phases(tally: Tally) -> str:
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in tally.step_s.items())


# --- init__ ---


def run_demo(
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    assume_yes: bool = False,
    speed: float | None = None,
    console: Console | None = None,
    ask: Callable[[str], str] = input,
) -> int:
    """Run the demo and return its exit status (0, or 2 when spending was refused).

    Args:
        api_key: the TwelveLabs key; default ``TWELVELABS_API_KEY``; none: the emulator.
        base_url: the API base URL; default ``TWELVELABS_BASE_URL``.
        assume_yes: with a real key, do not ask before spending credits.
        speed: the embedded emulator's speed-up (default :data:`DEMO_SPEED`).
        console: where to print (default: stdout and stderr).
        ask: how to ask the confirmation question (default ``input``).

    Example:
        >>> run_demo(speed=20.0)  # doctest: +SKIP
        0
    """
    key = api_key or os.environ.get("TWELVELABS_API_KEY") or None
    url = base_url or os.environ.get("TWELVELABS_BASE_URL") or None
    out = console or Console(secrets=[key])
    return run(out, api_key=key, base_url=url, assume_yes=assume_yes, speed=speed, ask=ask)


# --- the command ---


def command(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Run the demo: offline on the emulator without a key, on the real API with one.

    Returns:
        0 on success; 2 when a real key is set and spending was not confirmed.
    """
    if settings.json:
        raise UsageError("the demo prints for people; it has no --json output")
    if settings.base_url and not settings.api_key:
        raise UsageError("--base-url needs an API key (an emulator accepts any non-empty key)")
    needed = ["langchain_core"] + ([] if settings.api_key else ["av", "starlette", "uvicorn"])
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"the demo needs {', '.join(missing)}: {install_hint('all')}")
    return run(
        console,
        api_key=settings.api_key,
        base_url=settings.base_url,
        assume_yes=args.yes,
        speed=settings.emulator_speed,
    )
