"""``tl-integrations embed`` and ``tl-integrations search``.

``embed`` embeds one file or URL (a video, a sound file, a picture, or a PDF / text
document: told apart by its extension, or by ``--media``), waits for it with a status line
when it is a task, and writes the vectors to an ``.npz`` file that
:meth:`MediaEmbedding.load` reads. ``search`` asks an index a text question and prints the
best clips with their video and time range.

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
from urllib.parse import urlparse

from .._errors import InvalidRequestError, InvalidVideoError, TwelveLabsError
from .backend import Settings, UsageError, connect
from .manage import find_index
from .output import Console, StatusBoard, short_id
from .report import Report

if TYPE_CHECKING:
    from .._client import TwelveLabs
    from .._embed.vectors import MediaEmbedding
    from .._resources.search import SearchClip

__all__ = ["MEDIA", "run_embed", "run_search"]

MEDIA = ("video", "audio", "image", "document")
EMBED_STAGES = ("uploading", "processing", "ready")


def run_embed(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Embed ``args.input`` with ``args.model`` and save the vectors to ``args.output``.

    Returns:
        0 when the file was written, 1 when the input failed (named on stderr).
    """
    report = Report(columns=("input", "output", "model", "segments", "dim", "task_id"))
    output = _output_path(args.output)
    media = _media_of(args.input, args.media)
    source = _source(args.input, report)
    if source is None:
        return report.emit(console)
    with connect(settings, console) as backend:
        try:
            me = _embed(backend.client, source, media, args, console)
        except InvalidVideoError as exc:
            report.fail(args.input, str(exc))
            return report.emit(console)
        except InvalidRequestError as exc:
            raise UsageError(str(exc)) from exc
    _save_atomically(me, output)
    report.add(_embed_row(args.input, output, me))
    if not console.json_mode:
        _print_embedding(console, args.input, output, me)
        return report.exit_code
    return report.emit(console)


def _output_path(name: str) -> Path:
    path = Path(name).expanduser()
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {name!r}: directory {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise UsageError(f"cannot write {name!r}: it is a directory; give a file name")
    return path


def _media_of(name: str, given: str | None) -> str:
    """What the input is: ``--media``, else its extension (a URL's path's)."""
    from .._uploads import media_type_of

    if given is not None:
        return given
    path = urlparse(name).path if "://" in name else name
    found = media_type_of(path)
    if found is None:
        raise UsageError(
            f"cannot tell what {name!r} is from its extension; add --media {{{','.join(MEDIA)}}}"
        )
    return found


def _source(name: str, report: Report) -> str | None:
    """The file's path or the URL, checked before anything is sent."""
    if "://" in name:
        if urlparse(name).scheme not in ("http", "https"):
            report.fail(name, "only http(s) URLs can be embedded; give a file or an https URL")
            return None
        return name
    path = Path(name).expanduser()
    if not path.exists():
        report.fail(name, f"no such file: {name!r}; check the path")
        return None
    if not path.is_file():
        report.fail(name, f"{name!r} is not a regular file; give one file")
        return None
    return str(path)


def _embed(
    client: TwelveLabs, source: str, media: str, args: argparse.Namespace, console: Console
) -> MediaEmbedding:
    model = args.model or ("marengo3.5" if media == "document" else "marengo3.0")
    if media == "image":  # one synchronous request: no task to follow
        if args.clip_length is not None or args.whole or args.options:
            raise UsageError("a picture gives one vector: drop --clip-length, --whole, --option")
        return client.embed.image(source, model_name=model, embedding_dimension=args.dimension)
    if media == "document" and (args.clip_length is not None or args.whole):
        raise UsageError("a document has pages or chunks, not clips: drop --clip-length, --whole")
    board = StatusBoard([args.input], console=console, stages=EMBED_STAGES)
    board.update(args.input, "uploading")
    common: dict[str, Any] = {
        "model_name": model,
        "options": args.options,
        "embedding_dimension": args.dimension,
        "timeout_s": args.timeout,
        "on_update": lambda task: board.update(args.input, task.status),
    }
    try:
        if media == "document":
            me = client.embed.document(source, **common)
        else:
            timed = client.embed.video if media == "video" else client.embed.audio
            whole = "video" if media == "video" else "asset"
            me = timed(
                source,
                clip_length_s=args.clip_length,
                scopes=["clip", whole] if args.whole else ["clip"],
                **common,
            )
    except TwelveLabsError:
        board.update(args.input, "failed")
        board.close()
        raise
    board.update(args.input, "ready", detail=f"task {me.task_id}")
    board.close()
    return me


def _save_atomically(me: MediaEmbedding, path: Path) -> None:
    # A crash while writing must not leave a truncated file under the final name.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            me.save(handle)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _embed_row(name: str, output: Path, me: MediaEmbedding) -> dict[str, Any]:
    return {
        "input": name,
        "output": str(output),
        "media": me.input_type,
        "model": me.model_name,
        "space": me.space,
        "segments": len(me),
        "dim": me.dim,
        "task_id": me.task_id,
        "options": sorted(set(me.options.tolist())),
        "duration_s": me.duration_s,
    }


def _print_embedding(console: Console, name: str, output: Path, me: MediaEmbedding) -> None:
    import math

    options = ", ".join(sorted(set(me.options.tolist()))) or "-"
    rows = "segments" if me.input_type in ("video", "audio") else "rows"
    console.print(f"Wrote {output}: {len(me)} {rows} x {me.dim} dims ({me.space})")
    timed = [s for s in me.start_s.tolist() if not math.isnan(s)]
    span = f", {min(timed):.1f}-{float(me.end_s.max()):.1f} s" if timed else ""
    console.print(f"  {me.input_type or 'input':<8} {name}{span}")
    console.print(f"  options  {options}")
    if me.task_id:
        console.print(f"  task     {me.task_id}")


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
        index = find_index(client, args.index)
        if index is None:
            report.fail(args.index, "no index of that name; create it with `tl-integrations index`")
            return report.emit(console)
        report.extra["index"] = {"name": args.index, "id": index.id}
        clips = list(
            client.search.query(
                index_id=index.id,
                query_text=args.query,
                **({"search_options": args.options} if args.options else {}),
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
