"""``tl-integrations list`` and ``tl-integrations delete``: what is there, and removing it.

``list indexes``, ``list videos --index NAME`` and ``list assets`` print a table (or
``--json``); ``delete index NAME``, ``delete video ID --index NAME`` and ``delete asset ID``
remove one thing each, after asking (on a terminal) or with ``--yes``.

Example:
    >>> from tl_integrations._cli import main
    >>> main(["list", "indexes"])  # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from .._errors import NotFoundError
from .backend import Settings, UsageError, connect
from .output import PROG, Console
from .report import Report

if TYPE_CHECKING:
    from .._client import TwelveLabs
    from .._resources.indexes import Index

__all__ = ["DELETE_KINDS", "LIST_KINDS", "run_delete", "run_list"]

LIST_KINDS = ("indexes", "videos", "assets")
DELETE_KINDS = ("index", "video", "asset")


def run_list(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Print the indexes, the videos of one index, or the assets, newest first.

    Returns:
        0, or 1 when the named index does not exist.
    """
    if args.what == "videos" and not args.index:
        raise UsageError(f"list videos needs --index NAME (see: {PROG} list indexes)")
    with connect(settings, console) as backend:
        client = backend.client
        if args.what == "indexes":
            report = _indexes(client)
        elif args.what == "assets":
            report = _assets(client, args.limit)
        else:
            report = _videos(client, args.index, args.limit)
    if not report.rows and not report.failures:
        console.notice(f"No {args.what}.")
    return report.emit(console)


def _indexes(client: TwelveLabs) -> Report:
    report = Report(
        columns=("name", "id", "models", "videos", "created_at"),
        headers=("NAME", "ID", "MODELS", "VIDEOS", "CREATED"),
    )
    for index in client.indexes.list():
        report.add(
            {
                "name": index.name,
                "id": index.id,
                "models": ",".join(model.name for model in index.models),
                "videos": index.video_count,
                "created_at": index.created_at,
            }
        )
    return report


def _videos(client: TwelveLabs, name: str, limit: int) -> Report:
    report = Report(
        columns=("id", "status", "filename", "duration_s"),
        headers=("ID", "STATUS", "FILE", "SECONDS"),
    )
    index = find_index(client, name)
    if index is None:
        report.fail(name, f"no index named {name!r}; list them with: {PROG} list indexes")
        return report
    report.extra["index_id"] = index.id
    for n, video in enumerate(client.indexes.indexed_assets.list(index.id)):
        if n >= limit:
            break
        report.add(
            {
                "id": video.id,
                "status": video.status,
                "filename": video.system_metadata.filename,
                "duration_s": video.duration_s,
                "asset_id": video.asset_id,
            }
        )
    return report


def _assets(client: TwelveLabs, limit: int) -> Report:
    report = Report(
        columns=("id", "status", "filename", "size"),
        headers=("ID", "STATUS", "FILE", "BYTES"),
    )
    for n, asset in enumerate(client.assets.list()):
        if n >= limit:
            break
        report.add(
            {
                "id": asset.id,
                "status": asset.status,
                "filename": asset.filename,
                "size": asset.size,
                "file_type": asset.file_type,
            }
        )
    return report


def find_index(client: TwelveLabs, name_or_id: str) -> Index | None:
    """The index called ``name_or_id``, or with that id; None when there is neither.

    Example:
        >>> find_index(client, "talks").id  # doctest: +SKIP
        '6650a1b2c3d4e5f601234567'
    """
    for index in client.indexes.list(name=name_or_id):
        if index.name == name_or_id:
            return index
    if len(name_or_id) == 24 and all(c in "0123456789abcdef" for c in name_or_id):
        try:
            return client.indexes.retrieve(name_or_id)
        except NotFoundError:
            return None
    return None


def run_delete(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Delete one index, video or asset, after asking (or with ``--yes``).

    Returns:
        0 when deleted, 1 when there was no such thing or the user said no.
    """
    if args.what == "video" and not args.index:
        raise UsageError(f"delete video needs --index NAME (see: {PROG} list indexes)")
    report = Report(columns=("deleted", "id"), headers=("DELETED", "ID"))
    with connect(settings, console) as backend:
        client = backend.client
        target = _target(client, args, report)
        if target is not None:
            what, label, delete = target
            if _confirmed(args, console, f"Delete {what} {label}?"):
                delete()
                report.add({"deleted": args.what, "id": args.id})
            else:
                report.fail(args.id, "not deleted (answer y, or pass --yes)")
    return report.emit(console)


def _target(
    client: TwelveLabs, args: argparse.Namespace, report: Report
) -> tuple[str, str, Any] | None:
    """What will be deleted (named for the question) and the call that deletes it."""
    if args.what == "index":
        index = find_index(client, args.id)
        if index is None:
            report.fail(args.id, f"no index named {args.id!r}; see: {PROG} list indexes")
            return None
        label = f"{index.name!r} ({index.id}) and its {index.video_count or 0} videos"
        return "index", label, lambda: client.indexes.delete(index.id)
    if args.what == "video":
        index = find_index(client, args.index)
        if index is None:
            report.fail(args.index, f"no index named {args.index!r}; see: {PROG} list indexes")
            return None
        try:
            video = client.indexes.indexed_assets.retrieve(index.id, args.id)
        except NotFoundError as exc:
            report.fail(args.id, f"no such video in {args.index!r}", fields={"code": exc.code})
            return None
        label = f"{video.id} ({video.system_metadata.filename or 'no name'}) from {index.name!r}"
        return "video", label, lambda: client.indexes.indexed_assets.delete(index.id, video.id)
    try:
        asset = client.assets.retrieve(args.id)
    except NotFoundError as exc:
        report.fail(args.id, "no such asset", fields={"code": exc.code})
        return None
    label = f"{asset.id} ({asset.filename or 'no name'})"
    return "asset", label, lambda: client.assets.delete(asset.id, force=args.force)


def _confirmed(args: argparse.Namespace, console: Console, question: str) -> bool:
    if args.yes:
        return True
    if console.json_mode or not sys.stdin.isatty():
        raise UsageError("not deleted: pass --yes to delete without a question")
    console.notice(f"{question} This cannot be undone. [y/N] ")
    return input().strip().lower() in ("y", "yes")
