"""Render benchmark results as markdown: RESULTS.md, the README table and its block.

Example:
    >>> res = {"name": "x", "title": "X", "rows": [{"client": "ours", "s": 1.0}],
    ...        "ratios": [{"name": "s, SDK / ours", "value": 2.0}],
    ...        "targets": [{"target": "faster", "met": True, "detail": "2x"}]}
    >>> "2x" in render_readme_table([res])
    True
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._common import Result, flatten

START_MARK = "<!-- bench:start -->"
END_MARK = "<!-- bench:end -->"


def fmt(value: Any) -> str:
    """Format a number for a table: 3 significant digits, thousands kept whole.

    Example:
        >>> fmt(0.012345), fmt(1234.5), fmt(None), fmt(True)
        ('0.0123', '1234', '-', 'yes')
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 100:
            return f"{value:.0f}"
        return f"{value:.3g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def fmt_ratio(value: float | None) -> str:
    """Format a ratio as ``12.3x``.

    Example:
        >>> fmt_ratio(12.34), fmt_ratio(None)
        ('12.3x', '-')
    """
    if value is None:
        return "-"
    return f"{value:.0f}x" if value >= 100 else f"{value:.3g}x"


def verdict(met: bool | None) -> str:
    """Word for a target verdict.

    Example:
        >>> verdict(True), verdict(False), verdict(None)
        ('met', '**MISSED**', 'not measured')
    """
    if met is None:
        return "not measured"
    return "met" if met else "**MISSED**"


def table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A markdown table over the union of the rows' keys, in first-seen order.

    Example:
        >>> print(table([{"a": 1, "b": 2.5}]))
        | a | b |
        |---|---|
        | 1 | 2.5 |
    """
    if not rows:
        return "_(no rows)_"
    cols: list[str] = []
    for row in rows:
        cols.extend(k for k in row if k not in cols)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        lines.append("| " + " | ".join(fmt(row.get(c)) for c in cols) + " |")
    return "\n".join(lines)


def render_result(result: Result) -> str:
    """One benchmark's section: targets, ratios, absolute numbers, parameters, notes.

    Example:
        >>> render_result({"name": "n", "title": "T"}).startswith("### T")
        True
    """
    out = [f"### {result.get('title', result.get('name', '?'))}", ""]
    if result.get("error"):
        out += [f"**Did not run:** `{fmt(result['error'])}`", ""]
    for tgt in result.get("targets", []):
        why = f" Why: {tgt['why']}." if tgt.get("why") else ""
        out.append(f"- Target: {tgt['target']}: {verdict(tgt['met'])} ({tgt['detail']}).{why}")
    if result.get("targets"):
        out.append("")
    ratios = [r for r in result.get("ratios", []) if r.get("value") is not None]
    if ratios:
        out += [table([{"ratio": r["name"], "value": fmt_ratio(r["value"])} for r in ratios])]
        out.append("")
    if result.get("rows"):
        out += ["Absolute numbers:", "", table(result["rows"]), ""]
    elif result.get("raw"):
        raw = flatten(result["raw"])
        out += [table([{"key": k, "value": v} for k, v in raw.items()]), ""]
    if result.get("params"):
        params = ", ".join(f"`{k}={v}`" for k, v in result["params"].items())
        out += [f"Parameters: {params}.", ""]
    for note in result.get("notes", []):
        out.append(f"- {note}")
    if result.get("wall_s") is not None:
        out.append(f"- This benchmark took {result['wall_s']:.1f} s of wall time.")
    return "\n".join(out).rstrip() + "\n"


def _machine_lines(machine: Mapping[str, Any]) -> list[str]:
    pkgs = ", ".join(f"{k} {v}" for k, v in machine.get("packages", {}).items())
    return [
        f"- CPU: {machine.get('cpu')}, {machine.get('cores_logical')} logical cores "
        f"({machine.get('cores_usable')} usable)",
        f"- RAM: {machine.get('ram_gib')} GiB",
        f"- OS: {machine.get('os')}",
        f"- Python: {machine.get('python')}",
        f"- Load average (1 min) when the run started / ended: "
        f"{machine.get('load_start', '-')} / {machine.get('load_avg_1m', '-')} "
        "(other work on the machine inflates latencies and wall times)",
        f"- Packages: {pkgs}",
    ]


def summary_rows(results: Sequence[Result]) -> list[dict[str, Any]]:
    """One row per target: benchmark, headline ratio, target, verdict.

    Example:
        >>> summary_rows([{"title": "T", "targets": [{"target": "x", "met": None,
        ...                "detail": "d"}]}])[0]["verdict"]
        'not measured'
    """
    rows: list[dict[str, Any]] = []
    for res in results:
        ratios = [r for r in res.get("ratios", []) if r.get("value") is not None]
        head = f"{fmt_ratio(ratios[0]['value'])} ({ratios[0]['name']})" if ratios else "-"
        for i, tgt in enumerate(res.get("targets", []) or [{}]):
            rows.append(
                {
                    "benchmark": res.get("title", res.get("name")) if i == 0 else "",
                    "headline ratio": head if i == 0 else "",
                    "target": tgt.get("target", "-"),
                    "measured": tgt.get("detail", "-"),
                    "verdict": verdict(tgt.get("met")),
                }
            )
    return rows


def render_results_md(
    results: Sequence[Result], *, machine: Mapping[str, Any], total_s: float
) -> str:
    """The whole RESULTS.md: ratios and verdicts first, then details, method and machine.

    Example:
        >>> md = render_results_md([], machine={}, total_s=1.0)
        >>> md.startswith("# Benchmarks")
        True
    """
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    missed = [
        (r.get("title", r.get("name")), t)
        for r in results
        for t in r.get("targets", [])
        if t.get("met") is False
    ]
    out = [
        "# Benchmarks: tl-integrations vs the official `twelvelabs` SDK",
        "",
        f"Generated by `make bench` (`python -m benchmarks.run_all`) on {now}, "
        f"in {total_s:.0f} s. Both clients run against the local emulator in the same run. "
        "Ratios are *SDK / ours* (above 1 means we are better) unless the name says otherwise.",
        "",
        "## Summary",
        "",
        table(summary_rows(results)),
        "",
    ]
    if missed:
        out += ["### Missed targets", ""]
        for name, t in missed:
            why = f" Why: {t['why']}." if t.get("why") else ""
            out.append(f"- {name}: {t['target']}: {t['detail']}.{why}")
        out.append("")
    out += ["## Details", ""]
    out += [render_result(r) for r in results]
    out += ["## Machine", "", *_machine_lines(machine), ""]
    out += [
        "## Reproduce",
        "",
        "`make bench` (or `.venv/bin/python -m benchmarks.run_all`, `--only wait_many,upload` "
        "for some, `--readme` to refresh the README table). One benchmark alone, with its "
        "parameters overridden: `.venv/bin/python -m benchmarks.bench_wait_many n_tasks=20 "
        "speed=10`. Each benchmark runs in a fresh process; the emulator runs in another.",
        "",
    ]
    return "\n".join(out)


def _targets_cell(targets: Sequence[Mapping[str, Any]]) -> str:
    mets = [t.get("met") for t in targets]
    if not mets:
        return "-"
    met = sum(1 for m in mets if m is True)
    if met == len(mets):
        return f"{met}/{len(mets)} met"
    missed = sum(1 for m in mets if m is False)
    return f"{met}/{len(mets)} met, {missed} **missed**" if missed else f"{met}/{len(mets)} met"


def headline_rows(result: Result) -> list[dict[str, Any]]:
    """The result's ``headline`` rows, or one built from its first ratio.

    Example:
        >>> headline_rows({"ratios": [{"name": "time, SDK / ours", "value": 2.0}]})[0]["ratio"]
        '2x'
    """
    if result.get("headline"):
        return list(result["headline"])
    ratios = [r for r in result.get("ratios", []) if r.get("value") is not None]
    if not ratios:
        return [{"measure": "-", "ours": "-", "sdk": "-", "ratio": "-"}]
    first = ratios[0]
    return [{"measure": first["name"], "ours": "-", "sdk": "-", "ratio": fmt_ratio(first["value"])}]


def render_readme_table(results: Sequence[Result]) -> str:
    """The compact table for README.md: a line per headline number, targets per benchmark.

    Example:
        >>> render_readme_table([]).startswith("| Benchmark")
        True
    """
    lines = [
        "| Benchmark | Measure | tl-integrations | twelvelabs SDK | Ratio | Targets |",
        "|---|---|---|---|---|---|",
    ]
    for res in results:
        title = res.get("title", res.get("name"))
        for i, row in enumerate(headline_rows(res)):
            cells = [
                title if i == 0 else "",
                row.get("measure", "-"),
                row.get("ours", "-"),
                row.get("sdk", "-"),
                row.get("ratio", "-"),
                _targets_cell(res.get("targets", [])) if i == 0 else "",
            ]
            lines.append("| " + " | ".join(fmt(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def rewrite_readme_block(readme: Path, block: str, *, heading: str = "## Benchmarks") -> bool:
    """Replace the text between the bench markers in ``readme`` with ``block``.

    When the markers are missing, appends a ``heading`` section holding them. Returns True
    when the file changed.

    Example:
        >>> # rewrite_readme_block(Path("README.md"), render_readme_table(results))
    """
    text = readme.read_text() if readme.exists() else ""
    link = "See [benchmarks/RESULTS.md](benchmarks/RESULTS.md) for the method and the machine."
    inner = f"{START_MARK}\n{block.rstrip()}\n\n{link}\n{END_MARK}"
    pattern = re.compile(re.escape(START_MARK) + r".*?" + re.escape(END_MARK), re.DOTALL)
    if pattern.search(text):
        new = pattern.sub(lambda _m: inner, text, count=1)
    else:
        new = text.rstrip() + f"\n\n{heading}\n\n{inner}\n"
    if new == text:
        return False
    readme.write_text(new)
    return True
