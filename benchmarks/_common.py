"""Shared pieces of the benchmarks: the result shape, statistics, memory probes, the machine.

Every ``benchmarks.bench_*`` module exposes ``run(**params) -> dict`` returning a *result*:

    {
        "name": "wait_many",                     # short id, also the module suffix
        "title": "Waiting for 100 indexing tasks",
        "params": {"n_tasks": 100, ...},         # what was run
        "rows": [{"client": "ours", "requests": 41, ...}, ...],   # absolute numbers
        "ratios": [{"name": "requests, SDK@1s / ours", "value": 57.2}],
        "targets": [{"target": ">=10x fewer requests than SDK@1s", "met": True,
                     "detail": "57.2x"}],
        "notes": ["how it was measured, what to keep in mind"],
        "wall_s": 12.3,                          # how long the benchmark took
    }

``run_all`` renders any result of this shape; extra keys are ignored.

Example:
    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

Result = dict[str, Any]

WORK_DIR = Path(__file__).resolve().parent / ".work"
"""Scratch space for generated media and sparse files (git-ignored)."""

PACKAGES = (
    "tl-integrations",
    "twelvelabs",
    "httpx",
    "numpy",
    "orjson",
    "starlette",
    "uvicorn",
    "av",
    "psutil",
)


def work_dir(*parts: str) -> Path:
    """Return (and create) a directory under ``benchmarks/.work``.

    Example:
        >>> work_dir("media").name
        'media'
    """
    path = WORK_DIR.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def target(text: str, met: bool | None, detail: str, *, why: str | None = None) -> dict[str, Any]:
    """Build one target verdict; ``met=None`` means it could not be measured.

    ``why`` explains a miss (and what would close it); RESULTS.md prints it.

    Example:
        >>> target(">=10x fewer requests", True, "57x")["met"]
        True
    """
    out: dict[str, Any] = {"target": text, "met": met, "detail": detail}
    if why:
        out["why"] = why
    return out


def ratio(name: str, value: float | None) -> dict[str, Any]:
    """Build one headline ratio (``None`` when a side is missing).

    Example:
        >>> ratio("time, SDK / ours", 3.0)
        {'name': 'time, SDK / ours', 'value': 3.0}
    """
    return {"name": name, "value": value}


def safe_div(num: float | None, den: float | None) -> float | None:
    """Divide, returning ``None`` when either side is missing or the denominator is zero.

    Example:
        >>> safe_div(6, 3), safe_div(1, 0)
        (2.0, None)
    """
    if num is None or den is None or den == 0:
        return None
    return float(num) / float(den)


def times(value: float | None, better: str = "faster", worse: str = "slower") -> str:
    """Say a ratio (above 1 = ours better) in words: ``"5.5x faster"`` / ``"1.3x slower"``.

    Example:
        >>> times(5.54), times(0.8), times(None)
        ('5.54x faster', '1.25x slower', '-')
    """
    if value is None or value <= 0:
        return "-"
    if value >= 1:
        return f"{value:.3g}x {better}"
    return f"{1 / value:.3g}x {worse}"


def percentile(values: Iterable[float], q: float) -> float | None:
    """Linear-interpolated percentile ``q`` (0..100) of ``values``; ``None`` when empty.

    Example:
        >>> percentile([0.0, 10.0], 95)
        9.5
    """
    data = sorted(values)
    if not data:
        return None
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def mean(values: Iterable[float]) -> float | None:
    """Arithmetic mean, ``None`` when empty.

    Example:
        >>> mean([1.0, 2.0])
        1.5
    """
    data = list(values)
    return sum(data) / len(data) if data else None


def median(values: Iterable[float]) -> float | None:
    """Median, ``None`` when empty.

    Example:
        >>> median([3.0, 1.0, 2.0])
        2.0
    """
    return percentile(values, 50)


# --- memory -----------------------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def rss_bytes() -> int:
    """Current resident set size of this process, in bytes (Linux /proc, else psutil).

    Example:
        >>> rss_bytes() > 0
        True
    """
    kib = _status_kib("VmRSS")
    if kib is not None:
        return kib * 1024
    import psutil  # type: ignore[import-untyped]

    return int(psutil.Process().memory_info().rss)


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) of this process; False if unsupported.

    Example:
        >>> isinstance(reset_peak_rss(), bool)
        True
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_bytes() -> int | None:
    """Peak RSS since the process started or since :func:`reset_peak_rss` (Linux only).

    Example:
        >>> (peak_rss_bytes() or 1) > 0
        True
    """
    kib = _status_kib("VmHWM")
    return None if kib is None else kib * 1024


class RssSampler:
    """Samples RSS in a background thread; a fallback and cross-check for VmHWM.

    Example:
        >>> with RssSampler(interval_s=0.01) as sampler:
        ...     _ = bytearray(10)
        >>> sampler.max_bytes > 0
        True
    """

    def __init__(self, *, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.max_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.max_bytes = max(self.max_bytes, rss_bytes())
            self._stop.wait(self.interval_s)

    def __enter__(self) -> RssSampler:
        self.max_bytes = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.max_bytes = max(self.max_bytes, rss_bytes())


# --- machine ------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(r"^MemTotal:\s+(\d+) kB", text, re.MULTILINE)
    return round(int(match.group(1)) / 1024**2, 1) if match else None


def _load_avg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (``"-"`` when missing).

    Example:
        >>> "twelvelabs" in package_versions(["twelvelabs"])
        True
    """
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "-"
    return out


def machine_info() -> dict[str, Any]:
    """Describe the machine: CPU model, cores, RAM, OS, Python and package versions.

    Example:
        >>> sorted(machine_info())[:3]
        ['cores_logical', 'cores_usable', 'cpu']
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return {
        "cpu": _cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_usable": usable,
        "ram_gib": _ram_gib(),
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load_avg_1m": _load_avg(),
        "packages": package_versions(),
    }


# --- running one benchmark alone -----------------------------------------------------------


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(float(raw))
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, (tuple, list)):
        return type(default)(float(x) for x in raw.split(","))
    return raw


def parse_overrides(run: Callable[..., Result], pairs: list[str]) -> dict[str, Any]:
    """Turn ``["n_tasks=3", "speed=20"]`` into keyword arguments typed like ``run``'s defaults.

    Example:
        >>> def run(*, n: int = 1) -> dict: return {}
        >>> parse_overrides(run, ["n=3"])
        {'n': 3}
    """
    params = inspect.signature(run).parameters
    out: dict[str, Any] = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        if key not in params:
            raise SystemExit(f"unknown parameter {key!r}; known: {', '.join(params)}")
        out[key] = _coerce(raw, params[key].default)
    return out


def bench_main(run: Callable[..., Result], argv: list[str] | None = None) -> Result:
    """Command-line entry for one benchmark: ``python -m benchmarks.bench_x [key=value ...]``.

    Prints the result as JSON (``--json``) or as the markdown section RESULTS.md would show.

    Example:
        >>> # python -m benchmarks.bench_wait_many n_tasks=20 speed=20
    """
    parser = argparse.ArgumentParser(description=(run.__module__ or "benchmark"))
    parser.add_argument("overrides", nargs="*", help="parameter=value pairs")
    parser.add_argument("--json", action="store_true", help="print the raw result as JSON")
    args = parser.parse_args(argv)
    result = run(**parse_overrides(run, args.overrides))
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        from .report import render_result

        print(render_result(result))
    return result


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Call ``fn`` and return ``(value, seconds)`` on the monotonic clock.

    Example:
        >>> timed(lambda: 1)[0]
        1
    """
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts into dotted keys (for results of unknown shape).

    Example:
        >>> flatten({"a": {"b": 1}, "c": 2})
        {'a.b': 1, 'c': 2}
    """
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, prefix=f"{name}."))
        else:
            out[name] = value
    return out


def python_exe() -> str:
    """The interpreter running the benchmarks (children use the same venv).

    Example:
        >>> python_exe() == sys.executable
        True
    """
    return sys.executable
