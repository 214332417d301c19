"""The demo's steps: make videos, load Documents, show some, embed, ask, sum up.

Each step prints its own short block through :class:`~._show.Show` and records what it did
in :class:`Tally` for the closing summary.

Example:
    >>> Tally().documents
    Counter()
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cli._output import StatusBoard
from ._backend import DemoBackend
from ._media import QUESTIONS, SAMPLES, make_videos
from ._show import INDENT, Show, time_range

if TYPE_CHECKING:
    from langchain_core.documents import Document
    from langchain_core.vectorstores import InMemoryVectorStore

    from ..embed import VideoEmbedding
    from ..langchain import TwelveLabsEmbeddings

__all__ = [
    "INDEX_NAME",
    "Tally",
    "ask_questions",
    "embed_videos",
    "index_videos",
    "make_samples",
    "show_documents",
]

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
    created_tasks: int = 0
    documents: Counter[str] = field(default_factory=Counter)
    embeddings: list[VideoEmbedding] = field(default_factory=list)
    step_s: dict[str, float] = field(default_factory=dict)


def make_samples(show: Show, directory: Path, tally: Tally) -> list[Path]:
    """Step 1: write the three sample videos and list them."""
    show.step("Make three sample videos (coloured scenes, subtitles, a tone)")
    paths = make_videos(directory)
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
    tally.created_tasks = len(uploaded)
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
    store: InMemoryVectorStore,
    embeddings: TwelveLabsEmbeddings,
    documents: Sequence[Document],
    tally: Tally,
) -> None:
    """Step 5: embed each question and print the best segments, with what is said there."""
    show.step("Ask the videos (text query -> nearest video segments)")
    spoken = _transcript_windows(documents)
    for question in QUESTIONS:
        show.line(f"Q: {question}")
        hits = store.similarity_search_with_score_by_vector(embeddings.embed_query(question), k=12)
        for rank, (meta, score) in enumerate(_distinct(hits)[:2], start=1):
            where = f"{meta['source']:<14} {time_range(meta['start_s'], meta['end_s']):<11}"
            show.line(
                f"{where}  similarity {score:.2f}" + ("  <- best" if rank == 1 else ""), level=2
            )
            if rank == 1:
                show.quote(_said(spoken, meta), level=3)
    tally.step_s["questions"] = show.done(f"{len(QUESTIONS)} questions answered")


def _transcript_windows(documents: Sequence[Document]) -> list[dict[str, Any]]:
    return [
        {**d.metadata, "text": d.page_content}
        for d in documents
        if d.metadata.get("content_kind") == "transcript"
    ]


def _distinct(hits: Sequence[tuple[Document, float]]) -> list[tuple[dict[str, Any], float]]:
    # One video segment has a vector per option (visual, audio, transcription): show it once.
    seen: set[tuple[Any, ...]] = set()
    best = []
    for document, score in hits:
        meta = document.metadata
        key = (meta["source"], meta["start_s"], meta["end_s"])
        if key not in seen:
            seen.add(key)
            best.append((meta, score))
    return best


def _said(windows: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    for window in windows:
        same_video = window.get("filename") == meta["source"]
        if same_video and window["start_s"] < meta["end_s"] and window["end_s"] > meta["start_s"]:
            return str(window["text"])
    return ""
