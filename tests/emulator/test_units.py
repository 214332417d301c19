"""The pure pieces: public surface, timing, segments, limits, faults, CLI, docstring examples."""

from __future__ import annotations

import doctest
import importlib
import random
from pathlib import Path

import pytest

import tl_integrations.emulator as emulator
from tl_integrations.emulator import EmulatorConfig, Faults, StageModel
from tl_integrations.emulator._backend.lifecycle import index_status, plan_index_stages, task_rng
from tl_integrations.emulator._backend.records import IndexTaskRec
from tl_integrations.emulator._cli import build_parser, config_from_args
from tl_integrations.emulator._faults import FaultInjector, PlannedFault
from tl_integrations.emulator._segments import clip_bounds


@pytest.mark.parametrize(
    "module",
    [
        "_config",
        "_ids",
        "_ratelimit",
        "_faults",
        "_apierror",
        "_state",
        "_segments",
        "_backend",
        "_backend.errors",
        "_backend.lifecycle",
        "_backend.records",
        "_backend.persistence",
        "_backend.queries",
        "_backend.metadata",
        "_backend.models",
        "_backend.ingest",
        "_backend.store",
        "_backend.formats",
        "_backend.transcripts",
        "_backend.uploads",
        "_backend.assets",
        "_backend.videos",
        "_backend.tasks",
        "_backend.indexes",
        "_backend.search",
        "_backend.entities",
        "_backend.embeddings",
        "_backend.analysis",
        "_backend.fetch",
        "_backend.media_rules",
        "_routes",
        "_routes.assets",
        "_routes.videos",
        "_routes.uploads",
        "_routes.storage",
        "_png",
        "_sample_video",
        "_routes.params",
        "_routes.shapes",
        "_routes.search",
        "_routes.entities",
        "_gate",
        "_app",
        "_cli",
    ],
)
def test_docstring_examples(module: str) -> None:
    mod = importlib.import_module(f"tl_integrations.emulator.{module}")
    extra = {"tempfile": __import__("tempfile"), "Path": __import__("pathlib").Path}
    result = doctest.testmod(mod, extraglobs=extra, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize(
    ("end", "clip", "expected_last", "count"),
    [
        (14.5, 6.0, (12.0, 14.5), 3),
        (31.0, 6.0, (24.0, 30.0), 5),
        (12.0, 5.0, (10.0, 12.0), 3),
        (11.5, 5.0, (5.0, 10.0), 2),
        (3.0, 6.0, (0.0, 3.0), 1),
    ],
)
def test_clip_rules(
    end: float, clip: float, expected_last: tuple[float, float], count: int
) -> None:
    bounds = clip_bounds(0.0, end, clip_length_s=clip)
    assert (bounds[-1], len(bounds)) == (expected_last, count)


def test_stage_plan_is_deterministic_and_scaled() -> None:
    def plan(seed: int, speed: float) -> list[float]:
        rng = task_rng(seed=seed, task_id="t")
        return plan_index_stages(StageModel(), video_duration_s=60.0, speed=speed, rng=rng)

    assert plan(1, 1.0) == plan(1, 1.0) != plan(2, 1.0)
    assert sum(plan(1, 10.0)) == pytest.approx(sum(plan(1, 1.0)) / 10)
    no_jitter = plan_index_stages(
        StageModel(jitter=0.0), video_duration_s=60.0, speed=1.0, rng=random.Random(0)
    )
    assert no_jitter == [1.0, 0.5, 0.5, 7.0]


def test_failing_task_fails_after_its_stage() -> None:
    task = IndexTaskRec("t", "v", "i", 0.0, [1.0, 1.0, 1.0, 1.0], fail_stage="indexing")
    assert index_status(task, now_s=3.5) == ("indexing", 3.0)
    assert index_status(task, now_s=9.0) == ("failed", 4.0)


def test_fault_spec_round_trip_and_errors() -> None:
    faults = Faults.parse("500=0.1,503=0.05,429=0.05,drop=0.02,latency=0.05,fail=0.1")
    assert Faults.parse(faults.to_spec()) == faults
    with pytest.raises(ValueError, match="bad fault"):
        Faults.parse("418=0.5")
    with pytest.raises(ValueError, match="within"):
        Faults.parse("500=2")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"method": "FETCH", "path": "/tasks", "action": "503"}, "method must be one of"),
        ({"method": "GET", "path": "tasks", "action": "503"}, "path must be a path"),
        ({"method": "GET", "path": "/tasks?page=2", "action": "503"}, "no query"),
        ({"method": "GET", "path": "/v1.3/tasks", "action": "503"}, "'/tasks', not"),
        ({"method": "GET", "path": "/tasks", "action": "418"}, "action must be one of"),
        ({"method": "GET", "path": "/tasks", "action": "503", "times": 0}, "times must be"),
        ({"method": "GET", "path": "/tasks", "action": "503", "after": -1}, "after must be"),
        ({"method": "GET", "path": "/tasks", "action": "503", "times": True}, "times must"),
        ({"method": "GET", "path": "/tasks", "action": "503", "count": 2}, "unknown keys"),
        ({"method": "GET", "path": "/tasks"}, "missing action"),
        ({"method": 3, "path": "/tasks", "action": "503"}, "method must be one of"),
    ],
)
def test_planned_fault_refuses_what_it_cannot_do(rule: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PlannedFault.from_mapping(rule)


def test_planned_fault_paths_match_one_segment_per_wildcard() -> None:
    rule = PlannedFault("*", "/indexes/{index_id}/videos/*", "500")
    assert rule.matches("GET", "/indexes/i1/videos/v1")
    assert rule.matches("DELETE", "/indexes/i1/videos/v1/")
    assert not rule.matches("GET", "/indexes/i1/videos")
    assert not rule.matches("GET", "/indexes/i1/videos/v1/transcription")
    assert not PlannedFault("POST", "/tasks", "lost").matches("GET", "/tasks")


def test_planned_faults_take_their_turn_and_leave_the_seeded_draws_alone() -> None:
    """A plan counts only the requests it names; the others get the faults the seed gives,
    the same as without any plan."""
    plain = FaultInjector(Faults(p500=0.5), seed=4)
    planned = FaultInjector(Faults(p500=0.5), seed=4)
    planned.plan(PlannedFault("POST", "/tasks", "lost", times=2, after=1))
    planned.plan(PlannedFault("POST", "/tasks", "503"))  # its turn comes first
    paths = ["/indexes", "/tasks"] * 6
    seen = [planned.draw("POST", p).action for p in paths]
    expected = [plain.draw("POST", p).action for p in paths]
    assert [a for a, p in zip(seen, paths, strict=True) if p == "/indexes"] == [
        a for a, p in zip(expected, paths, strict=True) if p == "/indexes"
    ]
    on_tasks = [a for a, p in zip(seen, paths, strict=True) if p == "/tasks"]
    assert on_tasks[:3] == ["503", "lost", "lost"]
    assert on_tasks[3:] == [a for a, p in zip(expected, paths, strict=True) if p == "/tasks"][3:]
    assert planned.planned() == []


def test_planned_faults_report_what_is_left() -> None:
    inj = FaultInjector(Faults(), seed=0)
    inj.plan(PlannedFault("GET", "/tasks/*", "503", times=2, after=1))
    inj.draw("GET", "/tasks/t1")
    inj.draw("GET", "/tasks/t1")
    assert inj.planned() == [
        {"method": "GET", "path": "/tasks/*", "action": "503", "times": 1, "after": 0}
    ]
    inj.forget_planned()
    assert inj.draw("GET", "/tasks/t1").action is None


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="speed"):
        EmulatorConfig(speed=0)
    assert EmulatorConfig().with_overrides(faults="drop=0.5").faults.drop == 0.5


def test_cli_options() -> None:
    args = build_parser().parse_args(
        [
            "--host",
            "0.0.0.0",
            "--port",
            "9",
            "--api-key",
            "s",
            "--data-dir",
            "/tmp/d",
            "--speed",
            "5",
            "--faults",
            "500=0.1",
            "--seed",
            "4",
            "--media-validation",
            "async",
        ]
    )
    cfg = config_from_args(args)
    assert (args.host, args.port) == ("0.0.0.0", 9)
    assert (cfg.api_key, cfg.data_dir, cfg.speed, cfg.seed) == ("s", Path("/tmp/d"), 5.0, 4)
    assert (cfg.faults.p500, cfg.media_validation) == (0.1, "async")
    with pytest.raises(SystemExit):
        emulator.main(["--faults", "nope"])
