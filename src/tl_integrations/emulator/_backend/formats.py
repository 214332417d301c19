"""What kind of file an asset is (video, audio, image, document), and what it is made of.

The kind comes from the file name's extension (any case), or from the first bytes when the
name has none the emulator knows. Documents are checked against their content (a ``.pdf``
must be a PDF, a ``.txt``/``.md`` must be UTF-8 text), as the API rejects mismatches.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._media import StreamFacts
from .errors import Invalid

__all__ = [
    "FileKind",
    "check_filename",
    "detect",
    "document_facts",
    "has_control_characters",
    "mime_of",
    "safe_extension",
    "technical_metadata",
]

_TYPES: dict[str, tuple[str, str]] = {
    # video
    ".mp4": ("video", "video/mp4"),
    ".m4v": ("video", "video/x-m4v"),
    ".mov": ("video", "video/quicktime"),
    ".mkv": ("video", "video/x-matroska"),
    ".webm": ("video", "video/webm"),
    ".avi": ("video", "video/x-msvideo"),
    ".mpg": ("video", "video/mpeg"),
    ".mpeg": ("video", "video/mpeg"),
    ".ts": ("video", "video/mp2t"),
    ".flv": ("video", "video/x-flv"),
    ".wmv": ("video", "video/x-ms-wmv"),
    ".3gp": ("video", "video/3gpp"),
    # audio
    ".mp3": ("audio", "audio/mpeg"),
    ".wav": ("audio", "audio/wav"),
    ".flac": ("audio", "audio/flac"),
    ".m4a": ("audio", "audio/mp4"),
    ".aac": ("audio", "audio/aac"),
    ".ogg": ("audio", "audio/ogg"),
    ".opus": ("audio", "audio/opus"),
    ".wma": ("audio", "audio/x-ms-wma"),
    # images
    ".jpg": ("image", "image/jpeg"),
    ".jpeg": ("image", "image/jpeg"),
    ".png": ("image", "image/png"),
    ".webp": ("image", "image/webp"),
    ".gif": ("image", "image/gif"),
    ".bmp": ("image", "image/bmp"),
    ".tif": ("image", "image/tiff"),
    ".tiff": ("image", "image/tiff"),
    ".heic": ("image", "image/heic"),
    # documents
    ".pdf": ("document", "application/pdf"),
    ".txt": ("document", "text/plain"),
    ".md": ("document", "text/markdown"),
    ".markdown": ("document", "text/markdown"),
}
# (offset, magic bytes, extension): enough to name files that come without a known name.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"%PDF-", ".pdf"),
    (0, b"\x89PNG\r\n\x1a\n", ".png"),
    (0, b"\xff\xd8\xff", ".jpg"),
    (0, b"GIF8", ".gif"),
    (8, b"WEBP", ".webp"),
    (8, b"WAVE", ".wav"),
    (0, b"fLaC", ".flac"),
    (0, b"OggS", ".ogg"),
    (0, b"ID3", ".mp3"),
    (0, b"\x1aE\xdf\xa3", ".mkv"),
    (4, b"ftypM4A", ".m4a"),
    (4, b"ftyp", ".mp4"),
)
_TEXT_READ = 1024 * 1024
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_PDF_VERSION = re.compile(rb"%PDF-(\d+\.\d+)")


@dataclass(frozen=True)
class FileKind:
    """An asset's kind, MIME type and the extension it is stored under.

    Example:
        >>> FileKind("video", "video/mp4", ".mp4").kind
        'video'
    """

    kind: str
    mime: str
    extension: str


def mime_of(extension: str, default: str = "video/mp4") -> str:
    """The MIME type of a file extension (``default`` for one the emulator does not know).

    Example:
        >>> mime_of(".MOV".lower()), mime_of(".xyz")
        ('video/quicktime', 'video/mp4')
    """
    return _TYPES.get(extension, ("", default))[1]


# C0 and C1 control characters and DEL: never part of a file name a client means (NUL also
# cannot be in a path), and a line break in a name breaks logs and headers that show it.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SAFE_EXTENSION = re.compile(r"\.[a-z0-9]{1,8}")


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a control character (NUL, a line break, DEL, C1 ...).

    Example:
        >>> has_control_characters("clip.mp4"), has_control_characters("clip\\x00.mp4")
        (False, True)
    """
    return _CONTROL.search(text) is not None


def check_filename(name: str, *, field: str = "filename") -> str:
    """``name`` itself, if it can be a file name: refused when it holds a control character.

    Raises:
        Invalid: Naming ``field`` and the first such character.

    Example:
        >>> check_filename("clip.mp4")
        'clip.mp4'
        >>> try:
        ...     check_filename("clip\\n.mp4")
        ... except Invalid as exc:
        ...     print(exc.field)
        filename
    """
    found = _CONTROL.search(name)
    if found is not None:
        raise Invalid(
            field,
            f"{field}: must not contain control characters (found {found.group()!r} at "
            f"position {found.start()})",
        )
    return name


def safe_extension(filename: str, default: str) -> str:
    """The lower-case extension of ``filename`` when it is a plain one (a dot and 1-8
    letters or digits), else ``default``: what a stored file may be named with, whatever
    name a record holds (a record is data, possibly written by an older emulator).

    Example:
        >>> safe_extension("Clip.MOV", ".mp4"), safe_extension("a.mp\\x004", ".mp4")
        ('.mov', '.mp4')
    """
    ext = os.path.splitext(filename)[1].lower()
    return ext if _SAFE_EXTENSION.fullmatch(ext) else default


def _sniff(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(16)
    return next((ext for at, magic, ext in _MAGIC if head[at : at + len(magic)] == magic), None)


def _is_utf8_text(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        if handle.read(5) == b"%PDF-":
            return False
        handle.seek(0)
        while block := handle.read(_TEXT_READ):
            if b"\x00" in block:
                return False
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect(path: Path, filename: str, *, field: str = "file") -> FileKind:
    """The kind of an uploaded file, from its name or (without a known extension) its bytes.

    Raises:
        Invalid: For a format the API does not take, or a document whose content does not
            match its extension.

    Example:
        >>> detect(Path("notes.MD"), "notes.MD")  # doctest: +SKIP
        FileKind(kind='document', mime='text/markdown', extension='.md')
    """
    ext = os.path.splitext(filename)[1].lower()
    if ext not in _TYPES:
        sniffed = _sniff(path)
        if sniffed is None:
            raise Invalid(
                field,
                f"The file {filename!r} is not a supported format: send a video, audio, image, "
                f"PDF, .txt or .md file (extensions: {', '.join(sorted(_TYPES))}).",
            )
        ext = sniffed
    kind, mime = _TYPES[ext]
    if ext == ".pdf" and _sniff(path) != ".pdf":
        raise Invalid(field, f"The file {filename!r} has a .pdf extension but is not a PDF.")
    if mime.startswith("text/") and not _is_utf8_text(path):
        raise Invalid(field, f"The file {filename!r} has a {ext} extension but is not UTF-8 text.")
    return FileKind(kind, mime, ext)


def document_facts(path: Path, kind: FileKind) -> dict[str, Any]:
    """``technical_metadata`` keys of a document (page count and version of a PDF).

    Example:
        >>> document_facts(Path("a.txt"), FileKind("document", "text/plain", ".txt"))
        {}
    """
    if kind.extension != ".pdf":
        return {}
    pages = 0
    version = None
    tail = b""
    with path.open("rb") as handle:
        while block := handle.read(_TEXT_READ):
            window = tail + block
            if version is None:
                found = _PDF_VERSION.search(window)
                version = found.group(1).decode() if found else None
            pages += len(_PDF_PAGE.findall(window)) - len(_PDF_PAGE.findall(tail))
            tail = block[-64:]
    facts: dict[str, Any] = {"document_page_count": max(1, pages)}
    if version is not None:
        facts["document_pdf_version"] = version
    return facts


def technical_metadata(
    size_bytes: int, kind: FileKind, facts: StreamFacts | None
) -> dict[str, Any]:
    """The ``technical_metadata`` object of an asset from its stream facts.

    Example:
        >>> technical_metadata(10, FileKind("document", "text/plain", ".txt"), None)
        {'file_size_bytes': 10, 'file_mime_type': 'text/plain'}
    """
    data: dict[str, Any] = {"file_size_bytes": size_bytes, "file_mime_type": kind.mime}
    if facts is None:
        return data
    data["file_container_format"] = facts.container
    if kind.kind == "image" and facts.video:
        picture = facts.video[0]
        data.update(
            image_width=picture["width"],
            image_height=picture["height"],
            image_format=picture["codec"],
        )
        return data
    data.update(
        total_video_streams=len(facts.video),
        total_audio_streams=len(facts.audio),
        has_audio=bool(facts.audio),
        video_streams=list(facts.video),
        audio_streams=list(facts.audio),
    )
    if facts.video:
        video = facts.video[0]
        data.update(
            video_codec=video["codec"],
            video_width=video["width"],
            video_height=video["height"],
            video_fps=round(video["fps"], 3),
            video_duration_seconds=round(facts.duration_s, 3),
            video_bitrate_bps=video["bitrate_bps"],
        )
    if facts.audio:
        audio = facts.audio[0]
        data.update(
            audio_codec=audio["codec"],
            audio_sample_rate=audio["sample_rate"],
            audio_channels=audio["channels"],
            audio_duration_seconds=round(facts.duration_s, 3),
        )
    return data
