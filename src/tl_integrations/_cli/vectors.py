"""``tl-integrations embed`` and ``tl-integrations search``.

``embed`` runs one video embedding task, waits for it with a status line, and writes the
segment vectors to an ``.npz`` file that :meth:`VideoEmbedding.load` reads. ``search`` asks
an index a text question and prints the best clips with their video and time range.

Example:
    >>> from tl_integrations._cli import main
    >>> main(["embed", "talk.mp4", "-o", "talk.npz"])  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import InvalidRequestError, InvalidVideoError, TwelveLabsError
from .backend import Settings, UsageError, connect
from .output import Console, StatusBoard, short_id
from .report import Report

if TYPE_CHECKING:
    from .._client import TwelveLabs
    from .._embed.vectors import VideoEmbedding
    from .._ingest import VideoSource
    from .._resources.indexes import Index
    from .._resources.search import SearchClip

__all__ = ["run_embed", "run_search"]

EMBED_STAGES = ("uploading", "processing", "ready")


def run_embed(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Embed ``args.input`` with ``args.model`` and save the vectors to ``args.output``.

    Returns:
        0 when the file was written, 1 when the video failed (named on stderr).
    """
    report = Report(columns=("input", "output", "model", "segments", "dim", "task_id"))
    output = _output_path(args.output)
    source = _resolve(args.input, report)
    if source is None:
        return report.emit(console)
    with connect(settings, console) as backend:
        try:
            ve = _embed(backend.client, source, args, console)
        except InvalidVideoError as exc:
            report.fail(args.input, str(exc))
            return report.emit(console)
        except InvalidRequestError as exc:
            raise UsageError(str(exc)) from exc
    _save_atomically(ve, output)
    report.add(_embed_row(args.input, output, ve))
    if not console.json_mode:
        _print_embedding(console, args.input, output, ve)
        return report.exit_code
    return report.emit(console)


def _output_path(name: str) -> Path:
    path = Path(name).expanduser()
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {name!r}: directory {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise UsageError(f"cannot write {name!r}: it is a directory; give a file name")
    return path


def _resolve(name: str, report: Report) -> VideoSource | None:
    from .._ingest import resolve_inputs

    try:
        (source,) = resolve_inputs(name)
    except TwelveLabsError as exc:
        report.fail(name, str(exc))
        return None
    if source.kind == "video":
        report.fail(name, "give a file or a URL to embed, not a video id")
        return None
    return source


def _embed(
    client: TwelveLabs, source: VideoSource, args: argparse.Namespace, console: Console
) -> VideoEmbedding:
    board = StatusBoard([source.source], console=console, stages=EMBED_STAGES)
    board.update(source.source, "uploading")
    try:
        ve = client.embed.video(
            source.url if source.url is not None else str(source.path),
            model_name=args.model,
            clip_length_s=args.clip_length,
            options=args.options,
            scopes=["clip", "video"] if args.video_scope else ["clip"],
            timeout_s=args.timeout,
            on_update=lambda task: board.update(source.source, task.status),
        )
    except TwelveLabsError:
        board.update(source.source, "failed")
        raise
    board.update(source.source, "ready", detail=f"task {ve.task_id}")
    board.close()
    return ve


def _save_atomically(ve: VideoEmbedding, path: Path) -> None:
    # A crash while writing must not leave a truncated file under the final name.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            ve.save(handle)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _embed_row(name: str, output: Path, ve: VideoEmbedding) -> dict[str, Any]:
    return {
        "input": name,
        "output": str(output),
        "model": ve.model_name,
        "segments": len(ve),
        "dim": ve.dim,
        "task_id": ve.task_id,
        "options": sorted(set(ve.options.tolist())),
        "duration_s": ve.duration_s,
    }


def _print_embedding(console: Console, name: str, output: Path, ve: VideoEmbedding) -> None:
    options = ", ".join(sorted(set(ve.options.tolist()))) or "-"
    span = f"{ve.start_s.min():.1f}-{ve.end_s.max():.1f} s" if len(ve) else "no segments"
    console.print(f"Wrote {output}: {len(ve)} segments x {ve.dim} dims ({ve.model_name})")
    console.print(f"  video    {name}, {span}")
    console.print(f"  options  {options}")
    console.print(f"  task     {ve.task_id}")


# --------------------------------------------------------------------------------- search


def run_search(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Search the index named ``args.index`` for ``args.query``; print the best clips.

    Returns:
        0 (also when nothing matched), 1 when there is no index of that name.
    """
    report = Report(
        columns=("rank", "filename", "time", "match", "video_id"),
        headers=("#", "FILE", "TIME", "MATCH", "VIDEO"),
        extra={"query": args.query},
    )
    with connect(settings, console) as backend:
        client = backend.client
        index = next(
            (i for i in client.indexes.list(name=args.index) if i.name == args.index), None
        )
        if index is None:
            report.fail(args.index, "no index of that name; create it with `tl-integrations index`")
            return report.emit(console)
        report.extra["index"] = {"name": args.index, "id": index.id}
        clips = list(
            client.search.query(
                index_id=index.id,
                query_text=args.query,
                search_options=args.options or ("visual", "audio"),
                page_limit=args.limit,
                max_results=args.limit,
            )
        )
        names = _filenames(client, index.id, {clip.video_id for clip in clips})
    for number, clip in enumerate(clips, start=1):
        report.add(_clip_row(number, clip, names.get(clip.video_id)))
    if not clips and not console.json_mode:
        console.print(f"No clips in {args.index!r} match {args.query!r}.")
    return report.emit(console)


def _find_index(client: TwelveLabs, name: str) -> Index | None:
    return next((i for i in client.indexes.list(name=name) if i.name == name), None)


def _filenames(client: TwelveLabs, index_id: str, video_ids: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for video_id in sorted(video_ids):
        try:
            video = client.videos.retrieve(index_id, video_id)
        except TwelveLabsError:
            continue  # a name is a nicety; the id is still printed
        names[video_id] = video.system_metadata.filename or short_id(video_id)
    return names


def _clip_row(number: int, clip: SearchClip, filename: str | None) -> dict[str, Any]:
    match = f"rank {clip.rank}" if clip.rank is not None else "-"
    if clip.score is not None:
        match = f"score {clip.score:.2f}" + (f" ({clip.confidence})" if clip.confidence else "")
    return {
        "rank": clip.rank if clip.rank is not None else number,
        "video_id": clip.video_id,
        "filename": filename,
        "start_s": clip.start_s,
        "end_s": clip.end_s,
        "time": f"{clip.start_s:.1f}-{clip.end_s:.1f} s",
        "match": match,
        "score": clip.score,
        "confidence": clip.confidence,
        "transcription": clip.transcription,
    }
