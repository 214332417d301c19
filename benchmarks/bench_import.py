"""Import cost: ``from tl_integrations import TwelveLabs`` vs ``from twelvelabs import TwelveLabs``.

Each measurement runs in a fresh interpreter (same venv), so nothing is cached in
``sys.modules``; bytecode caches are warmed by one untimed run of each first. Runs of the
two sides alternate to spread machine noise evenly. Reported: median wall time of the
import statement (``time.perf_counter`` around it), median RSS growth across it (from
``/proc/self/status``), tracemalloc peak (a separate run, since tracing slows imports),
and how many modules it pulls in.

Run alone: ``.venv/bin/python -m benchmarks.bench_import [runs=15]``.

Example:
    >>> # result = run(runs=3)
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import Any

from ._common import Result, bench_main, median, python_exe, ratio, safe_div, target, times

# --- parameters ---------------------------------------------------------------------------
RUNS = 11
"""Timed runs per side (median reported)."""
OURS_STATEMENTS = ("from tl_integrations import TwelveLabs", "import tl_integrations")
"""First statement that works is measured (the lead exports TwelveLabs at the top level)."""
SDK_STATEMENT = "from twelvelabs import TwelveLabs"
SMOKE: dict[str, Any] = {"runs": 1, "warmup": False, "trace": False}
TARGETS = ("import time no heavier than the SDK", "import memory no heavier than the SDK")
HEAVY_MODULES = ("langchain_core", "llama_index", "starlette", "uvicorn", "av", "twelvelabs")
"""Modules a light ``import tl_integrations`` must not load (reported, not a target)."""

_CHILD = r"""
import json, sys, time
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0
mode = sys.argv[1]
heavy = sys.argv[2].split(",")
stmt = sys.argv[3]
before_mods = set(sys.modules)
if mode == "trace":
    import tracemalloc
    tracemalloc.start()
    exec(stmt, {})
    _, peak = tracemalloc.get_traced_memory()
    out = {"tracemalloc_peak": peak}
else:
    r0 = rss()
    t0 = time.perf_counter()
    exec(stmt, {})
    dt = time.perf_counter() - t0
    out = {"time_s": dt, "rss_growth": rss() - r0}
new = set(sys.modules) - before_mods
out["modules"] = len(new)
out["heavy"] = sorted(m for m in heavy if m in sys.modules)
print(json.dumps(out))
"""


def _child_env() -> dict[str, str]:
    """The environment of the children: bytecode caches allowed (as after a pip install)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _child(stmt: str, *, mode: str = "time") -> dict[str, Any]:
    proc = subprocess.run(
        [python_exe(), "-c", _CHILD, mode, ",".join(HEAVY_MODULES), stmt],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_child_env(),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{stmt!r} failed: {proc.stderr.strip().splitlines()[-1:]}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def _pick_ours() -> str:
    for stmt in OURS_STATEMENTS:
        try:
            _child(stmt)
        except RuntimeError:
            continue
        return stmt
    raise RuntimeError("import tl_integrations fails in a fresh interpreter")


def _measure(stmts: dict[str, str], runs: int, *, trace: bool) -> dict[str, dict[str, Any]]:
    samples: dict[str, list[dict[str, Any]]] = {k: [] for k in stmts}
    for _ in range(runs):
        for side, stmt in stmts.items():
            samples[side].append(_child(stmt))
    out: dict[str, dict[str, Any]] = {}
    for side, stmt in stmts.items():
        traced = _child(stmt, mode="trace") if trace else {"tracemalloc_peak": None}
        runs_ = samples[side]
        out[side] = {
            "statement": f"`{stmt}`",
            "median time (ms)": 1000 * (median(r["time_s"] for r in runs_) or 0.0),
            "min time (ms)": 1000 * min(r["time_s"] for r in runs_),
            "median RSS growth (MB)": (median(r["rss_growth"] for r in runs_) or 0) / 1e6,
            "tracemalloc peak (MB)": _mb(traced["tracemalloc_peak"]),
            "modules loaded": runs_[0]["modules"],
            "heavy modules loaded": ", ".join(runs_[0]["heavy"]) or "none",
        }
    return out


NOTES = (
    "Each run is a fresh `python -c` in the same venv; bytecode caches are warm (one untimed "
    "run of each first, with `PYTHONDONTWRITEBYTECODE` unset, as after a pip install) and the "
    "two sides alternate.",
    "Time is `perf_counter` around the statement; RSS growth is VmRSS after minus before; the "
    "tracemalloc peak comes from a separate traced run.",
)


def _headline(
    ours: dict[str, Any], sdk: dict[str, Any], t_ratio: float | None, r_ratio: float | None
) -> list[dict[str, Any]]:
    return [
        {
            "measure": "import time (median)",
            "ours": f"{ours['median time (ms)']:.0f} ms",
            "sdk": f"{sdk['median time (ms)']:.0f} ms",
            "ratio": times(t_ratio),
        },
        {
            "measure": "RSS growth on import",
            "ours": f"+{ours['median RSS growth (MB)']:.0f} MB",
            "sdk": f"+{sdk['median RSS growth (MB)']:.0f} MB",
            "ratio": times(r_ratio, "smaller", "larger"),
        },
    ]


def _memory_target(
    ours: dict[str, Any], sdk: dict[str, Any], r_ratio: float | None, p_ratio: float | None
) -> dict[str, Any]:
    detail = (
        f"RSS +{ours['median RSS growth (MB)']:.1f} MB vs +{sdk['median RSS growth (MB)']:.1f} MB"
    )
    if p_ratio is not None:
        detail += (
            f"; tracemalloc peak {ours['tracemalloc peak (MB)']:.1f} MB vs "
            f"{sdk['tracemalloc peak (MB)']:.1f} MB"
        )
    met = None if r_ratio is None else r_ratio >= 1.0 and (p_ratio is None or p_ratio >= 1.0)
    return target(TARGETS[1], met, detail)


def _mb(value: float | None) -> float | None:
    return None if value is None else value / 1e6


def run(*, runs: int = RUNS, warmup: bool = True, trace: bool = True) -> Result:
    """Measure both imports in fresh interpreters and compare them.

    Args:
        runs: timed runs per side; the median is reported.
        warmup: one untimed run of each first (writes bytecode caches).
        trace: also measure the tracemalloc peak (one extra traced run per side).

    Returns:
        A result dict (see :mod:`benchmarks._common`).

    Example:
        >>> # run(runs=3)["targets"][0]["met"]
    """
    start = time.perf_counter()
    stmts = {"ours": _pick_ours(), "sdk": SDK_STATEMENT}
    for stmt in stmts.values() if warmup else ():  # warm bytecode caches, untimed
        _child(stmt)
    m = _measure(stmts, runs, trace=trace)
    ours, sdk = m["ours"], m["sdk"]
    t_ratio = safe_div(sdk["median time (ms)"], ours["median time (ms)"])
    r_ratio = safe_div(sdk["median RSS growth (MB)"], ours["median RSS growth (MB)"])
    p_ratio = safe_div(sdk["tracemalloc peak (MB)"], ours["tracemalloc peak (MB)"])
    return {
        "name": "import",
        "title": "Import",
        "params": {"runs": runs},
        "rows": [{"client": k, **v} for k, v in m.items()],
        "ratios": [
            ratio("import time, SDK / ours", t_ratio),
            ratio("RSS growth, SDK / ours", r_ratio),
            ratio("tracemalloc peak, SDK / ours", p_ratio),
        ],
        "targets": [
            target(
                TARGETS[0],
                None if t_ratio is None else t_ratio >= 1.0,
                f"{ours['median time (ms)']:.0f} ms vs {sdk['median time (ms)']:.0f} ms",
            ),
            _memory_target(ours, sdk, r_ratio, p_ratio),
        ],
        "headline": _headline(ours, sdk, t_ratio, r_ratio),
        "notes": list(NOTES),
        "wall_s": time.perf_counter() - start,
    }


if __name__ == "__main__":
    bench_main(run)
