"""Run every benchmark and write ``benchmarks/RESULTS.md`` (``make bench``).

Usage::

    .venv/bin/python -m benchmarks.run_all                 # all, default parameters
    .venv/bin/python -m benchmarks.run_all --only wait_many,import   # merged into the last run
    .venv/bin/python -m benchmarks.run_all --quick         # tiny parameters (seconds)
    .venv/bin/python -m benchmarks.run_all --readme        # also rewrite README.md's block
    .venv/bin/python -m benchmarks.run_all --from-json benchmarks/results.json --readme

Each benchmark runs in its own fresh interpreter, one after the other, and is stopped after
``--timeout`` seconds (300 by default); a benchmark that raises, dies or times out is reported
as "did not run" with its error and its targets as not measured, so one broken part never
hides the others' numbers. The raw results go to ``benchmarks/results.json`` next to
RESULTS.md, so the README table can be regenerated without re-running.

Example:
    >>> # python -m benchmarks.run_all --only import --out /tmp/R.md
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._common import Result, machine_info, ratio, safe_div, target, times
from .report import render_readme_table, render_results_md, rewrite_readme_block

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

BENCHMARKS: dict[str, str] = {
    "decode": "Embedding decode (1,000 x 1,024)",
    "wait_many": "Waiting for many tasks",
    "webhooks": "Waiting with webhooks",
    "upload": "Upload",
    "multipart": "Multipart upload",
    "bulk": "Bulk ingestion",
    "scale": "Scale (1,000 videos, rate-limited)",
    "import": "Import",
    "overhead": "Per-request overhead (one tasks.retrieve, no network)",
}
"""Benchmark name -> title; module ``benchmarks.bench_<name>`` with ``run() -> dict``."""

TIMEOUT_S = 300.0
"""A benchmark still running after this long is stopped and reported as not run."""
QUICK_TIMEOUT_S = 60.0
"""The same limit with ``--quick`` (tiny parameters finish in seconds)."""
LONG_TIMEOUTS_S: dict[str, float] = {"scale": 1800.0, "multipart": 900.0}
"""Benchmarks that take longer than ``TIMEOUT_S`` by design (1,000 videos, four ways)."""

DECODE_TARGETS = (
    ">=20x faster than the SDK's embed.tasks.retrieve",
    "within 1.5x of the floor (orjson.loads + numpy.asarray)",
)


def _first_number(raw: Mapping[str, Any], *needles: str) -> float | None:
    """First numeric value whose (flattened, lower-case) key contains all ``needles``."""
    from ._common import flatten

    for key, value in flatten(raw).items():
        low = key.lower()
        if all(n in low for n in needles) and isinstance(value, (int, float)):
            return float(value)
    return None


def normalize_decode(raw: Mapping[str, Any]) -> Result:
    """Adapt ``bench_decode.run()`` (written by another helper) to the shared result shape.

    A result already carrying ``rows``/``targets`` is kept as is; otherwise the seconds of
    ours, the SDK and the floor are looked up by key name and the targets computed here.

    Example:
        >>> normalize_decode({"ours_s": 0.1, "sdk_s": 5.0, "floor_s": 0.08})["ratios"][0]
        {'name': 'decode time, SDK / ours', 'value': 50.0}
    """
    if "targets" in raw and "rows" in raw:
        result = {"name": "decode", "title": BENCHMARKS["decode"], **raw}
        result.setdefault("headline", _decode_headline(result["rows"]))
        return result
    ours = _first_number(raw, "ours")
    sdk = _first_number(raw, "sdk")
    floor = _first_number(raw, "floor")
    vs_sdk = safe_div(sdk, ours)
    vs_floor = safe_div(ours, floor)
    return {
        "name": "decode",
        "title": BENCHMARKS["decode"],
        "raw": dict(raw),
        "ratios": [
            ratio("decode time, SDK / ours", vs_sdk),
            ratio("decode time, ours / floor (lower is better)", vs_floor),
        ],
        "targets": [
            target(DECODE_TARGETS[0], None if vs_sdk is None else vs_sdk >= 20, _x(vs_sdk)),
            target(DECODE_TARGETS[1], None if vs_floor is None else vs_floor <= 1.5, _x(vs_floor)),
        ],
        "notes": ["Measured by `benchmarks/bench_decode.py` (the embeddings helper's module)."],
    }


def _decode_headline(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """README rows from bench_decode's rows (``client``, ``what``, ``seconds``)."""

    def seconds(client: str, *words: str) -> float | None:
        for row in rows:
            what = str(row.get("what", "")).lower()
            if row.get("client") == client and all(w in what for w in words):
                return float(row["seconds"])
        return None

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value * 1000:.0f} ms"

    ours, sdk = seconds("ours", "retrieve"), seconds("sdk", "retrieve")
    decode, floor = seconds("ours", "decode"), seconds("floor")
    vs_sdk, vs_floor = safe_div(sdk, ours), safe_div(decode, floor)
    return [
        {
            "measure": "embed.tasks.retrieve to vectors",
            "ours": ms(ours),
            "sdk": ms(sdk),
            "ratio": times(vs_sdk),
        },
        {
            "measure": "decode vs the floor (orjson + numpy)",
            "ours": ms(decode),
            "sdk": f"floor {ms(floor)}",
            "ratio": "-" if vs_floor is None else f"{vs_floor:.2f}x the floor",
        },
    ]


def _x(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.3g}x"


def _failed(name: str, exc: BaseException) -> Result:
    """A result for a benchmark that raised: its targets become 'not measured'."""
    targets: Sequence[str] = DECODE_TARGETS if name == "decode" else ()
    try:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        targets = getattr(module, "TARGETS", targets)
    except Exception:  # the import itself may be what failed
        pass
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return {
        "name": name,
        "title": BENCHMARKS[name],
        "error": last,
        "targets": [target(t, None, f"did not run: {last}") for t in targets],
    }


def run_one(name: str, *, quick: bool = False) -> Result:
    """Import ``benchmarks.bench_<name>`` and call its ``run()`` (with ``SMOKE`` if quick).

    Example:
        >>> # run_one("import", quick=True)["name"]
    """
    start = time.perf_counter()
    try:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        params: dict[str, Any] = dict(getattr(module, "SMOKE", {})) if quick else {}
        raw: Result = module.run(**params)
    except Exception as exc:
        traceback.print_exc()
        return _failed(name, exc)
    result = normalize_decode(raw) if name == "decode" else raw
    result.setdefault("wall_s", time.perf_counter() - start)
    return result


def run_isolated(name: str, *, quick: bool = False, timeout_s: float = TIMEOUT_S) -> Result:
    """Run one benchmark in a fresh interpreter, killed after ``timeout_s``.

    A fresh process per benchmark keeps one benchmark's threads, heap and imports out of the
    next one's numbers, and a benchmark that hangs costs at most ``timeout_s``.

    Example:
        >>> # run_isolated("import", quick=True)["name"]
    """
    with tempfile.TemporaryDirectory(prefix="tl-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "benchmarks.run_all", "--child", name, "--child-out", str(out)]
        try:
            subprocess.run([*cmd, *(["--quick"] if quick else [])], cwd=ROOT, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return _failed(name, TimeoutError(f"did not finish within {timeout_s:.0f} s"))
        if not out.exists():
            return _failed(name, RuntimeError("the benchmark process died without a result"))
        result: Result = json.loads(out.read_text())
        return result


def _child_main(name: str, out: Path, *, quick: bool) -> int:
    """Body of ``--child``: run one benchmark here and write its result to ``out``."""
    result = run_one(name, quick=quick)
    out.write_text(json.dumps(result, default=str))
    return 0


def run_all(
    names: Sequence[str], *, quick: bool = False, timeout_s: float = TIMEOUT_S
) -> list[Result]:
    """Run the named benchmarks in order, each in its own process, printing progress.

    Example:
        >>> # run_all(["import"], quick=True)
    """
    results = []
    for name in names:
        print(f"[bench] {name} ...", flush=True)
        limit_s = (
            min(timeout_s, QUICK_TIMEOUT_S)
            if quick
            else max(timeout_s, LONG_TIMEOUTS_S.get(name, 0.0))
        )
        res = run_isolated(name, quick=quick, timeout_s=limit_s)
        verdicts = ", ".join(str(t.get("met")) for t in res.get("targets", []))
        print(f"[bench] {name}: {res.get('wall_s', 0):.1f} s, targets met: {verdicts}")
        results.append(res)
    return results


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_all", description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated names: " + ",".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="tiny parameters (a smoke run)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--readme", action="store_true", help="rewrite README.md's bench block")
    parser.add_argument("--readme-path", type=Path, default=ROOT / "README.md")
    parser.add_argument("--from-json", type=Path, help="render a saved results.json, no runs")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per benchmark")
    parser.add_argument("--child", choices=list(BENCHMARKS), help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _merge(saved_json: Path, fresh: Sequence[Result]) -> list[Result]:
    """``--only``: put the fresh results into the saved full run, in the usual order."""
    if not saved_json.exists():
        return list(fresh)
    saved = json.loads(saved_json.read_text())
    if saved.get("quick"):
        return list(fresh)
    by_name = {r.get("name"): r for r in saved.get("results", [])}
    by_name.update({r.get("name"): r for r in fresh})
    return [by_name[n] for n in BENCHMARKS if n in by_name]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``make bench``; returns the process exit status.

    Example:
        >>> # main(["--only", "import", "--quick"])
    """
    args = _parse(argv)
    if args.child:
        return _child_main(args.child, args.child_out, quick=args.quick)
    start = time.perf_counter()
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        results, machine = saved["results"], saved["machine"]
        total_s = float(saved.get("total_s", 0.0))
    else:
        names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
        unknown = [n for n in names if n not in BENCHMARKS]
        if unknown:
            raise SystemExit(f"unknown benchmark(s): {unknown}; known: {list(BENCHMARKS)}")
        load_start = machine_info()["load_avg_1m"]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        results = run_all(names, quick=args.quick, timeout_s=args.timeout)
        machine = machine_info()
        machine["load_start"] = load_start
        saved_json = args.out.with_name("results.json")
        total_s = time.perf_counter() - start
        if args.only and not args.quick:
            results = _merge(saved_json, results)
            total_s = sum(float(r.get("wall_s") or 0.0) for r in results)
        dump = {"machine": machine, "total_s": total_s, "quick": args.quick, "results": results}
        saved_json.write_text(json.dumps(dump, indent=2, default=str))
    args.out.write_text(render_results_md(results, machine=machine, total_s=total_s))
    table = render_readme_table(results)
    args.out.with_name("README_TABLE.md").write_text(table)
    print(f"[bench] wrote {args.out} in {total_s:.0f} s")
    if args.readme and rewrite_readme_block(args.readme_path, table):
        print(f"[bench] rewrote the benchmark block of {args.readme_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
