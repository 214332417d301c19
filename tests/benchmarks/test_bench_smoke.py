"""Smoke tests of the benchmarks: each runs with tiny parameters, so rot shows up in make test.

Nothing here asserts a time: only that each ``run()`` returns the shared result shape with
sane counts. The parameters come from each module's ``SMOKE`` dict.
"""

from __future__ import annotations

import gc
import importlib
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the benchmarks package lives at the repository root
    sys.path.insert(0, str(ROOT))

from benchmarks import _common, report, run_all  # noqa: E402

pytest.importorskip("twelvelabs")


def _check_shape(result: dict[str, Any], name: str) -> None:
    assert result["name"] == name
    assert result["targets"], "every benchmark states its targets"
    for tgt in result["targets"]:
        assert {"target", "met", "detail"} <= set(tgt) <= {"target", "met", "detail", "why"}
        assert tgt["met"] in (True, False, None)
    assert "error" not in result, result.get("error")
    assert all("error" not in row for row in result["rows"]), result["rows"]
    assert report.render_result(result).startswith("### ")
    for row in report.headline_rows(result):
        assert {"measure", "ours", "sdk", "ratio"} <= set(row)


def _smoke(name: str) -> dict[str, Any]:
    module = importlib.import_module(f"benchmarks.bench_{name}")
    result: dict[str, Any] = module.run(**module.SMOKE)
    _check_shape(result, name)
    return result


def test_import_bench_compares_both_imports() -> None:
    result = _smoke("import")
    clients = [row["client"] for row in result["rows"]]
    assert clients == ["ours", "sdk"]
    assert all(row["modules loaded"] >= 1 for row in result["rows"])


def test_overhead_bench_counts_and_times_one_retrieve_on_each_side() -> None:
    result = _smoke("overhead")
    assert [row["client"] for row in result["rows"]] == ["ours", "sdk"]
    for row in result["rows"]:
        assert row["calls per retrieve"] >= 5  # both really went through their library
        assert row["CPU per retrieve (us)"] > 0


def test_wait_many_bench_sees_every_task_with_each_client() -> None:
    result = _smoke("wait_many")
    n = result["params"]["n_tasks"]
    for row in result["rows"]:
        assert row["tasks seen"] == n
        assert row["requests"] >= 1
        assert row["p95 lag (emu s)"] is not None


def test_webhooks_bench_sees_every_job_by_polling_and_by_events() -> None:
    result = _smoke("webhooks")
    (n,) = result["params"]["sizes"]
    clients = [row["client"] for row in result["rows"]]
    assert clients == ["ours: wait_many, polling", "ours: wait_many, webhooks"]
    for row in result["rows"]:
        assert row["jobs seen"] == n
        assert row["p95 lag (emu s)"] is not None
    polling, webhooks = result["rows"]
    assert webhooks["requests"] < polling["requests"]


def test_upload_bench_sends_the_whole_file_with_each_client() -> None:
    result = _smoke("upload")
    size = result["params"]["size_mb"] * 1024 * 1024
    assert [row["client"] for row in result["rows"]] == ["ours", "sdk"]
    for row in result["rows"]:
        assert row["throughput (MB/s)"] > 0
        received = row["bytes received by server"]
        assert received is None or received >= size


def test_bulk_bench_ingests_every_video_with_each_client() -> None:
    result = _smoke("bulk")
    n = result["params"]["n_videos"]
    for row in result["rows"]:
        assert row["tasks ready"] == n
        assert row["uploads (POST /tasks)"] == n


@pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")
@pytest.mark.filterwarnings("ignore:The minimum number of concurrent actors:UserWarning")
def test_scale_bench_ingests_every_video_once_with_each_side() -> None:
    result = _smoke("scale")
    clients = [row["client"] for row in result["rows"]]
    assert clients == ["SDK loop (sample)", "loader, one process", "Ray, 1 worker(s)"]
    for row in result["rows"]:
        assert row["duplicates"] == 0
        assert row["lost"] == 0
        assert row["errors"] == 0
        assert row["requests/video"] >= 2  # at least an upload and a read


def test_runner_renders_results_and_readme_block(tmp_path: Path) -> None:
    fake = {
        "name": "x",
        "title": "X",
        "rows": [{"client": "ours", "s": 1.0}],
        "ratios": [{"name": "s, SDK / ours", "value": 3.0}],
        "targets": [{"target": "faster", "met": False, "detail": "3x"}],
    }
    md = report.render_results_md([fake], machine={"cpu": "c"}, total_s=1.0)
    assert "Missed targets" in md
    assert "3x" in md
    readme = tmp_path / "README.md"
    readme.write_text("# t\n\n<!-- bench:start -->\nold\n<!-- bench:end -->\nafter\n")
    assert report.rewrite_readme_block(readme, report.render_readme_table([fake]))
    text = readme.read_text()
    assert "old" not in text
    assert "| X |" in text
    assert text.endswith("after\n")
    decode = run_all.normalize_decode({"ours_s": 0.1, "sdk_s": 5.0, "floor_s": 0.08})
    assert [t["met"] for t in decode["targets"]] == [True, True]
    assert _common.percentile([1.0, 2.0, 3.0], 50) == 2.0


def test_decode_bench_decodes_the_same_numbers_on_both_sides() -> None:
    with warnings.catch_warnings():
        # bench_decode's emulator part leaves one official-SDK client unclosed (its httpx
        # pool); collect it here so the leak is not reported against a later test.
        warnings.simplefilter("ignore", ResourceWarning)
        result = run_all.normalize_decode(_smoke("decode"))
        gc.collect()
    assert result["name"] == "decode"
    assert {row["client"] for row in result["rows"]} == {"ours", "sdk", "floor"}
    assert all(row["seconds"] > 0 for row in result["rows"])
