"""Multipart upload of one large sparse file: ``client.assets.upload`` vs the SDK's helper.

Same file, same emulator (its own process), one run. Each upload runs in a fresh child
process (``benchmarks._multipart_child``); the runs alternate ours, SDK, ours, SDK... and the
best throughput and the worst memory growth of each side are kept. Measured:

- throughput: file bytes / seconds until every byte is stored (ours includes hashing the
  file first, which finds an earlier upload of the same bytes);
- CPU seconds per GiB of the client process (user + system, every thread): the honest
  measure on a shared machine, where wall time depends on the neighbours;
- peak RSS growth of the client, and of the emulator (which must store to disk, not RAM);
- files written while the upload runs, beside the source, in the temp dir and in our
  journal directory: the SDK helper cuts the file into chunk files first; ours reads each
  chunk from the source at its offset and writes only its small journal;
- resume: our client is killed (SIGKILL) once half the bytes are stored, then the same call
  runs again; bytes sent again = chunk bytes both processes read from the source minus the
  file size (``/proc/<pid>/io``), and chunks the server stored twice.

Run alone: ``.venv/bin/python -m benchmarks.bench_multipart size_mb=256``.

Example:
    >>> # run(size_mb=64, repeats=1)["targets"]
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

from ._common import Result, bench_main, python_exe, ratio, safe_div, target, times, work_dir
from ._emu import EmulatorProcess
from ._support import warm_page_cache

ROOT = Path(__file__).resolve().parents[1]
GIB = 1024**3

# --- parameters ---------------------------------------------------------------------------
SIZE_MB = 2048
"""File size in MiB (2 GiB: the issue's memory target is stated for it)."""
REPEATS = 2
"""Uploads per client (alternating; the best run of each side is compared)."""
MAX_GROWTH_MB = 64.0
MAX_RESENT_CHUNKS = 2.0
SMOKE: dict[str, Any] = {"size_mb": 24, "repeats": 1}
TARGETS = (
    "throughput at least the SDK's (5% noise allowed)",
    f"peak client RSS growth under {MAX_GROWTH_MB:.0f} MB",
    "no file written beside the source or in the temp dir",
    f"resume after a kill half way: at most {MAX_RESENT_CHUNKS:.0f} chunks sent again",
)


def _sparse(size_bytes: int) -> Path:
    """A sparse source file alone in its directory (the SDK writes its chunks beside it)."""
    path = work_dir("multipart", "source") / f"sparse-{size_bytes}.mp4"
    if not path.exists() or path.stat().st_size != size_bytes:
        with path.open("wb") as fh:
            fh.truncate(size_bytes)
    return path


def _status_kib(pid: int, field: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _proc_read_bytes(pid: int) -> int:
    """``rchar`` of another process (see ``_multipart_child.read_bytes``)."""
    try:
        text = Path(f"/proc/{pid}/io").read_text()
    except OSError:
        return 0
    return next((int(x.split()[1]) for x in text.splitlines() if x.startswith("rchar:")), 0)


def _files(dirs: list[Path]) -> dict[str, int]:
    """Every file under ``dirs`` -> its disk usage in bytes (blocks, so sparse files are ~0)."""
    out: dict[str, int] = {}
    for top in dirs:
        for base, _, names in os.walk(top):
            for name in names:
                with_path = os.path.join(base, name)
                with suppress(OSError):  # gone between listing and stat
                    out[with_path] = os.lstat(with_path).st_blocks * 512
    return out


class _Watcher:
    """While a child uploads: files that appear in the watched dirs, and the emulator's RSS."""

    def __init__(self, dirs: list[Path], emulator_pid: int, *, interval_s: float = 0.02) -> None:
        self.dirs = dirs
        self.emulator_pid = emulator_pid
        self.interval_s = interval_s
        self.before = _files(dirs)
        self.new: dict[str, int] = {}
        self.peak_new_bytes = 0
        self.peak_journal_bytes = 0
        self.emu_before_kib = _status_kib(emulator_pid, "VmRSS")
        self.emu_peak_kib = self.emu_before_kib
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _look(self) -> None:
        fresh = {k: v for k, v in _files(self.dirs).items() if k not in self.before}
        for name, used in fresh.items():
            self.new[name] = max(self.new.get(name, 0), used)
        self.peak_new_bytes = max(self.peak_new_bytes, sum(fresh.values()))
        journal = str(self.dirs[-1])
        in_journal = sum(v for k, v in fresh.items() if k.startswith(journal))
        self.peak_journal_bytes = max(self.peak_journal_bytes, in_journal)
        self.emu_peak_kib = max(self.emu_peak_kib, _status_kib(self.emulator_pid, "VmRSS"))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._look()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> _Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._look()

    def summary(self) -> dict[str, Any]:
        """Files that appeared outside the last dir (the journal's), and inside it."""
        left = {k for k in _files(self.dirs) if k not in self.before}
        journal = str(self.dirs[-1])
        foreign = {k: v for k, v in self.new.items() if not k.startswith(journal)}
        return {
            "files_written": len(foreign),
            "file_bytes_peak": self.peak_new_bytes - self.peak_journal_bytes,
            # the journal is rewritten through temporary names renamed over it: count files
            "journal_files": len(
                {k for k in self.new if k not in foreign and ".journal-" not in k}
            ),
            "journal_bytes_peak": self.peak_journal_bytes,
            "files_left": len(left),
            "emulator_rss_growth": (self.emu_peak_kib - self.emu_before_kib) * 1024,
        }


def _child_cmd(client: str, emu: EmulatorProcess, path: Path) -> list[str]:
    args = [client, emu.base_url, emu.api_key, str(path)]
    return [python_exe(), "-m", "benchmarks._multipart_child", *args]


def _child_env(journal_home: Path) -> dict[str, str]:
    """Our journal in ``journal_home``; the child's temp dir its own (neighbours' test runs
    write to /tmp too, and would be counted)."""
    tmp = journal_home.parent / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "XDG_CACHE_HOME": str(journal_home), "TMPDIR": str(tmp)}


def _last_json(stdout: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return result


def _server_bytes(emu: EmulatorProcess) -> int:
    stats = emu.stats()
    return int(stats.get("bytes_received") or stats.get("upload", {}).get("bytes_received") or 0)


def _delete_assets(emu: EmulatorProcess) -> None:
    """Remove every asset, so that the next run of ours finds no twin and sends the file."""
    with httpx.Client(base_url=emu.base_url, headers=emu.headers(), timeout=60) as http:
        while True:
            items = http.get("/assets", params={"page_limit": 50}).json().get("data") or []
            if not items:
                return
            for item in items:
                http.delete(f"/assets/{item['_id']}", params={"force": "true"})


def _watch_dirs(path: Path, journal_home: Path) -> list[Path]:
    """Beside the source and the child's temp dir (nothing may appear), then the journal's."""
    return [path.parent, journal_home.parent / "tmp", journal_home]


def _run_child(emu: EmulatorProcess, client: str, path: Path, journal_home: Path) -> dict[str, Any]:
    """One upload in a child process, watched; its measurements and the files it wrote."""
    warm_page_cache(path)
    with _Watcher(_watch_dirs(path, journal_home), emu.pid) as watcher:
        proc = subprocess.run(
            _child_cmd(client, emu, path),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            cwd=ROOT,
            env=_child_env(journal_home),
        )
    if proc.returncode != 0:
        raise RuntimeError(f"{client} upload child failed: {proc.stderr.strip()[-800:]}")
    out = _last_json(proc.stdout)
    out.update(watcher.summary())
    return out


def _one(emu: EmulatorProcess, client: str, path: Path, journal_home: Path) -> dict[str, Any]:
    _delete_assets(emu)
    before = _server_bytes(emu)
    out = _run_child(emu, client, path, journal_home)
    out["server_bytes"] = _server_bytes(emu) - before
    return out


def _resume(emu: EmulatorProcess, path: Path, journal_home: Path) -> dict[str, Any]:
    """Kill our client once half the bytes are stored, run it again, count what went twice."""
    _delete_assets(emu)
    size = path.stat().st_size
    before = _server_bytes(emu)
    killed_at = 0
    with subprocess.Popen(
        _child_cmd("ours", emu, path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=_child_env(journal_home),
    ) as proc:
        assert proc.stdout is not None
        read_start = 0
        for line in proc.stdout:
            fields = json.loads(line)
            read_start = fields.get("read_bytes_start", read_start)
            if "progress" in fields and fields["progress"] >= size // 2:
                killed_at = int(fields["progress"])
                first_read = _proc_read_bytes(proc.pid) - read_start
                proc.send_signal(signal.SIGKILL)
                break
        else:
            raise RuntimeError("our upload finished before it could be killed half way")
        proc.wait()
    first_stored = _server_bytes(emu) - before
    second = _run_child(emu, "ours", path, journal_home)
    total_stored = _server_bytes(emu) - before
    chunk = _chunk_size(emu, size)
    # Each run hashes the whole file first; the rest of what it read went out as chunks.
    sent_first = first_read - size
    sent_second = int(second["read_bytes"]) - size
    resent = max(0, sent_first + sent_second - size)
    return {
        "killed at (bytes stored)": killed_at,
        "stored before the kill": first_stored,
        "chunk bytes sent, killed run": sent_first,
        "chunk bytes sent, resumed run": sent_second,
        "bytes sent again": resent,
        "chunks sent again": resent / chunk if chunk else None,
        "chunks stored twice": (total_stored - size) / chunk if chunk else None,
        "chunk size": chunk,
        "resumed run error": second.get("error"),
        "files left": second["files_left"],
    }


def _chunk_size(emu: EmulatorProcess, size: int) -> int:
    from tl_integrations.emulator._config import UploadLimits

    return UploadLimits().chunk_size_for(size)


def _summarise(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    best = max(runs, key=lambda r: r["bytes"] / r["seconds"])
    return {
        "client": name,
        "throughput (MB/s)": best["bytes"] / best["seconds"] / 1e6,
        "seconds (best)": best["seconds"],
        "CPU s per GiB": min(r["cpu_s"] / (r["bytes"] / GIB) for r in runs),
        "peak RSS growth (MB)": max(r["growth_bytes"] for r in runs) / 1e6,
        "emulator RSS growth (MB)": max(r["emulator_rss_growth"] for r in runs) / 1e6,
        "files written during upload": max(r["files_written"] for r in runs),
        "their peak disk use (MB)": max(r["file_bytes_peak"] for r in runs) / 1e6,
        "files left after": max(r["files_left"] for r in runs),
        "journal files (ours)": max(r["journal_files"] for r in runs),
        "journal peak disk use (KB)": max(r["journal_bytes_peak"] for r in runs) / 1e3,
        "bytes stored by server": best.get("server_bytes"),
        "outcome": best.get("error") or "ok",
        "runs": len(runs),
    }


def run(*, size_mb: int = SIZE_MB, repeats: int = REPEATS, resume: bool = True) -> Result:
    """Upload a ``size_mb`` MiB sparse file in chunks with each client; then resume ours.

    Args:
        size_mb: file size in MiB.
        repeats: uploads per client.
        resume: also run the kill-and-resume scenario.

    Example:
        >>> # run(size_mb=64)["targets"]
    """
    start = time.perf_counter()
    path = _sparse(size_mb * 1024 * 1024)
    journal_home = work_dir("multipart", "cache")
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "sdk": []}
    errors: list[str] = []
    resumed: dict[str, Any] = {}
    with _journal_home(journal_home), EmulatorProcess(virtual_clock=False) as emu:
        for _ in range(repeats):
            for client in runs:
                try:
                    runs[client].append(_one(emu, client, path, journal_home))
                except Exception as exc:
                    errors.append(f"{client}: {type(exc).__name__}: {exc}")
        if resume:
            try:
                resumed = _resume(emu, path, journal_home)
            except Exception as exc:
                errors.append(f"resume: {type(exc).__name__}: {exc}")
    rows = {k: _summarise(k, v) for k, v in runs.items() if v}
    result = _result(rows, resumed, size_mb=size_mb, repeats=repeats)
    result["notes"] = errors + result["notes"]
    result["wall_s"] = time.perf_counter() - start
    return result


@contextmanager
def _journal_home(path: Path) -> Iterator[None]:
    """A clean cache directory for our journal, removed afterwards."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield
    finally:
        shutil.rmtree(path, ignore_errors=True)


RESUME_WHY = (
    "what is lost is the chunks in flight at the kill (up to max_concurrency = 5): those cut "
    "off part way, and those the server stored whose ETag never reached the client, which the "
    "API lists as 'pending, possibly uploaded' without a proof; any client sends them again. "
    "Reporting the latter with a locally computed MD5 (the storage's part ETag), falling back "
    "to sending them, would leave only the cut-off bytes; max_concurrency=2 bounds the loss too"
)
"""Why the resume target can miss (RESULTS.md prints it next to a miss)."""

NOTES = (
    "Sparse file of zeros, 8 MiB chunks (the emulator's choice), 5 chunks at a time on both "
    "sides (both defaults). Time until every byte is stored: ours until its last chunk's "
    "ETag (hashing the file first included), the SDK until `upload_file` returns (after its "
    "last report). Ours then waits for the asset, which fails processing (zeros): expected.",
    "Each upload runs in a fresh process after one warm-up request; growth = peak RSS during "
    "the upload minus RSS just before it. CPU = user + system seconds of the client process.",
    "Files written: new files seen (polled every 20 ms) beside the source, in the temp dir "
    "and in our journal directory, with their peak disk use; ours writes only its journal "
    "(one small JSON file, deleted when the upload completes).",
    "Resume: SIGKILL once half the bytes are stored, then the same call again. Bytes sent "
    "again = chunk bytes both processes read from the source (/proc/<pid>/io rchar minus the "
    "one hashing pass of each; chunks cut off in flight count) minus the file size; 'stored "
    "twice' counts chunks the server accepted twice.",
)


def _result(
    rows: dict[str, dict[str, Any]], resumed: Mapping[str, Any], *, size_mb: int, repeats: int
) -> Result:
    ours, sdk = rows.get("ours", {}), rows.get("sdk", {})
    growth = ours.get("peak RSS growth (MB)")
    tput = safe_div(ours.get("throughput (MB/s)"), sdk.get("throughput (MB/s)"))
    cpu = safe_div(sdk.get("CPU s per GiB"), ours.get("CPU s per GiB"))
    written = ours.get("files written during upload")
    foreign = None if not ours else _foreign_files(ours)
    again = resumed.get("chunks sent again")
    return {
        "name": "multipart",
        "title": f"Multipart upload ({size_mb} MiB)",
        "params": {"size_mb": size_mb, "repeats": repeats},
        "rows": list(rows.values()),
        "resume": dict(resumed),
        "ratios": [
            ratio("throughput, ours / SDK", tput),
            ratio("client CPU per byte, SDK / ours", cpu),
        ],
        "targets": [
            target(
                TARGETS[0],
                None if tput is None else tput >= 0.95,
                "not measured"
                if tput is None
                else f"{ours['throughput (MB/s)']:.0f} vs "
                f"{sdk['throughput (MB/s)']:.0f} MB/s ({tput:.2f}x)",
            ),
            target(
                TARGETS[1],
                None if growth is None else growth < MAX_GROWTH_MB,
                "not measured"
                if growth is None
                else f"+{growth:.1f} MB (SDK {_mb(sdk.get('peak RSS growth (MB)'))})",
            ),
            target(
                TARGETS[2],
                foreign,
                "not measured"
                if written is None
                else f"ours: {written} file(s) (journal: {ours['journal files (ours)']} file(s), "
                f"{ours['journal peak disk use (KB)']:.0f} KB at most); SDK: "
                f"{sdk.get('files written during upload', '-')} chunk file(s), "
                f"{sdk.get('their peak disk use (MB)', 0.0):.0f} MB",
            ),
            target(
                TARGETS[3],
                None if again is None else again <= MAX_RESENT_CHUNKS,
                "not measured"
                if again is None
                else f"{resumed['bytes sent again'] / 1e6:.1f} MB = {again:.2f} chunks sent "
                f"again; {resumed['chunks stored twice']:.0f} stored twice",
                why=RESUME_WHY,
            ),
        ],
        "headline": [
            {
                "measure": f"multipart throughput, {size_mb} MiB",
                "ours": _mbs(ours.get("throughput (MB/s)")),
                "sdk": _mbs(sdk.get("throughput (MB/s)")),
                "ratio": times(tput),
            },
            {
                "measure": "peak RSS growth, multipart",
                "ours": _mb(growth),
                "sdk": _mb(sdk.get("peak RSS growth (MB)")),
                "ratio": "-",
            },
        ],
        "notes": list(NOTES),
    }


def _foreign_files(ours: Mapping[str, Any]) -> bool:
    """True when ours wrote nothing beside the source or in the temp dir, and left nothing."""
    return bool(ours["files written during upload"] == 0 and ours["files left after"] == 0)


def _mb(value: float | None) -> str:
    return "-" if value is None else f"+{value:.1f} MB"


def _mbs(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB/s"


if __name__ == "__main__":
    bench_main(run)
