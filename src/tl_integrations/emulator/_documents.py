"""Documents for the emulator: the pages of a PDF and their text, the sentences of a text file.

A small reader, no PDF library: it follows the catalog's page tree to the pages in reading
order, inflates their content streams (``FlateDecode``) and keeps the strings the text
operators show (``Tj``, ``TJ``, ``'``, ``"``). That is what simple PDFs (reports written by
most tools without compressed object streams, and :func:`make_sample_pdf`) hold; for a PDF
it cannot follow, the pages are counted and have no text. Text files are split into
sentences, and sentences into chunks, as the API's ``sequential`` segmentation says.

Example:
    >>> import tempfile, pathlib
    >>> path = make_sample_pdf(pathlib.Path(tempfile.mkdtemp()) / "a.pdf",
    ...                        ["A red kite.", "The calm sea."])
    >>> read_document(path).pages
    ('A red kite.', 'The calm sea.')
"""

from __future__ import annotations

import os
import pathlib
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Document", "chunk_sentences", "make_sample_pdf", "read_document", "sentences"]

_OBJECT = re.compile(rb"(\d+)\s+(\d+)\s+obj\b(.*?)\bendobj", re.S)
_REF = re.compile(rb"(\d+)\s+\d+\s+R")
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\n?endstream", re.S)
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_SHOWN = re.compile(rb"(\((?:\\.|[^\\)])*\)|\[(?:\\.|[^\]])*\])\s*(?:Tj|TJ|'|\")")
_STRING = re.compile(rb"\((?:\\.|[^\\)])*\)")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_MARKDOWN = re.compile(r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|>\s?|\d+[.)]\s+)")
_MAX_READ = 512 * 1024**2  # the API's document limit; a bigger file is refused earlier


@dataclass(frozen=True)
class Document:
    """What :func:`read_document` found: pages (PDF) and the whole text.

    Attributes:
        filename / size_bytes: the file.
        format: ``pdf`` or ``text`` (``.txt``, ``.md``).
        pages: the text of each PDF page, in order (empty for a text file).
        text: every page's text, or the text file's content.

    Example:
        >>> Document("a.txt", 4, "text", (), "Hi.").page_count
        0
    """

    filename: str
    size_bytes: int
    format: Literal["pdf", "text"]
    pages: tuple[str, ...]
    text: str

    @property
    def page_count(self) -> int:
        """Pages of a PDF (0 for a text file).

        Example:
            >>> Document("a.pdf", 9, "pdf", ("", ""), "").page_count
            2
        """
        return len(self.pages)


def read_document(path: str | os.PathLike[str], *, filename: str | None = None) -> Document:
    """Read a PDF's pages or a text file's content (UTF-8; undecodable bytes replaced).

    Example:
        >>> import tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "n.md"
        >>> _ = p.write_text("# Title\\nFirst line. Second one!")
        >>> read_document(p).text
        '# Title\\nFirst line. Second one!'
    """
    name = filename if filename is not None else pathlib.Path(path).name
    size = os.stat(path).st_size
    with open(path, "rb") as handle:
        data = handle.read(_MAX_READ)
    if data.startswith(b"%PDF-") or name.lower().endswith(".pdf"):
        pages = _pdf_pages(data)
        return Document(name, size, "pdf", pages, "\n".join(p for p in pages if p))
    return Document(name, size, "text", (), data.decode("utf-8", "replace"))


def _pdf_pages(data: bytes) -> tuple[str, ...]:
    objects = {int(m.group(1)): m.group(3) for m in _OBJECT.finditer(data)}
    order = _page_order(objects)
    if not order:
        # Not a page tree this reader can follow: count the pages, without their text.
        return ("",) * max(1, len(_PAGE.findall(data)))
    return tuple(_page_text(objects, objects[n]) for n in order)


def _page_order(objects: dict[int, bytes]) -> list[int]:
    catalog = next((body for body in objects.values() if b"/Catalog" in body), None)
    if catalog is None:
        return []
    root = re.search(rb"/Pages\s+(\d+)\s+\d+\s+R", catalog)
    pages: list[int] = []
    if root is not None:
        _walk(objects, int(root.group(1)), pages, seen=set())
    return pages


def _walk(objects: dict[int, bytes], number: int, pages: list[int], *, seen: set[int]) -> None:
    body = objects.get(number)
    if body is None or number in seen:
        return
    seen.add(number)
    if _PAGE.search(body):
        pages.append(number)
        return
    kids = re.search(rb"/Kids\s*\[(.*?)\]", body, re.S)
    for ref in _REF.finditer(kids.group(1) if kids else b""):
        _walk(objects, int(ref.group(1)), pages, seen=seen)


def _page_text(objects: dict[int, bytes], page: bytes) -> str:
    found = re.search(rb"/Contents\s*(\[(?:[^\]]*)\]|\d+\s+\d+\s+R)", page)
    if found is None:
        return ""
    parts = [_content(objects.get(int(r.group(1)), b"")) for r in _REF.finditer(found.group(1))]
    return " ".join(p for p in parts if p).strip()


def _content(body: bytes) -> str:
    stream = _STREAM.search(body)
    if stream is None:
        return ""
    raw = stream.group(1)
    if b"/FlateDecode" in body[: stream.start()]:
        try:
            raw = zlib.decompress(raw)
        except zlib.error:
            return ""
    shown = [_strings(m.group(1)) for m in _SHOWN.finditer(raw)]
    return " ".join(s for s in shown if s).strip()


def _strings(operand: bytes) -> str:
    return "".join(_unescape(m.group(0)[1:-1]) for m in _STRING.finditer(operand))


def _unescape(raw: bytes) -> str:
    out = bytearray()
    i = 0
    while i < len(raw):
        byte = raw[i : i + 1]
        if byte != b"\\" or i + 1 >= len(raw):
            out += byte
            i += 1
            continue
        nxt = raw[i + 1 : i + 2]
        octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
        if octal:
            out.append(int(octal.group(0), 8) & 0xFF)
            i += 1 + len(octal.group(0))
        else:
            out += _ESCAPES.get(nxt, nxt)
            i += 2
    return out.decode("latin-1")


def sentences(text: str) -> list[str]:
    """The sentences of a text (Markdown headings and list marks dropped), in order.

    Lines without end punctuation (titles, list items) are sentences of their own.

    Example:
        >>> sentences("# Kites\\nA red kite flies. It is windy!\\n- Sea")
        ['Kites', 'A red kite flies.', 'It is windy!', 'Sea']
    """
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        marked = _MARKDOWN.match(line) is not None
        if marked or not line.strip():
            blocks.append([])  # a heading, a list item or a blank line ends the paragraph
        if line.strip():
            blocks[-1].append(_MARKDOWN.sub("", line).strip())
        if marked:
            blocks.append([])
    found: list[str] = []
    for block in blocks:
        joined = " ".join(block)
        found += [part.strip() for part in _SENTENCE_END.split(joined) if part.strip()]
    return found


def chunk_sentences(items: Sequence[str], *, max_sentences: int, overlap: int = 0) -> list[str]:
    """Chunks of ``max_sentences`` sentences, each sharing ``overlap`` with the one before.

    Example:
        >>> chunk_sentences(["a.", "b.", "c.", "d."], max_sentences=2, overlap=1)
        ['a. b.', 'b. c.', 'c. d.']
    """
    if not items:
        return []
    step = max(1, max_sentences - overlap)
    chunks = []
    for start in range(0, len(items), step):
        chunks.append(" ".join(items[start : start + max_sentences]))
        if start + max_sentences >= len(items):
            break
    return chunks


def make_sample_pdf(path: str | os.PathLike[str], pages: Sequence[str]) -> pathlib.Path:
    """Write a small PDF, one page per text (Helvetica, compressed content streams).

    Example:
        >>> import tempfile
        >>> out = make_sample_pdf(pathlib.Path(tempfile.mkdtemp()) / "r.pdf", ["One.", "Two."])
        >>> out.read_bytes()[:8]
        b'%PDF-1.4'
    """
    out = pathlib.Path(path)
    count = max(1, len(pages))
    texts = list(pages) or [""]
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(texts):
        page = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {5 + 2 * i} 0 R "
            "/Resources << /Font << /F1 3 0 R >> >> >>"
        )
        objects.append(page.encode())
        objects.append(_content_stream(text))
    chunks = [b"%PDF-1.4\n"]
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(sum(len(c) for c in chunks))
        chunks.append(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref_at = sum(len(c) for c in chunks)
    table = "".join(f"{offset:010d} 00000 n \n" for offset in offsets)
    chunks.append(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n{table}".encode())
    trailer = f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n"
    chunks.append(trailer.encode() + b"%%EOF\n")
    out.write_bytes(b"".join(chunks))
    return out


def _content_stream(text: str) -> bytes:
    lines = text.splitlines() or [""]
    shown = []
    for n, line in enumerate(lines):
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        move = "72 720 Td" if n == 0 else "0 -16 Td"
        shown.append(f"{move} ({escaped}) Tj")
    raw = f"BT /F1 12 Tf {' '.join(shown)} ET".encode("latin-1", "replace")
    packed = zlib.compress(raw)
    head = f"<< /Length {len(packed)} /Filter /FlateDecode >>\nstream\n".encode()
    return head + packed + b"\nendstream"
