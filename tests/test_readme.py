"""The README shows what exists: examples compile, imports resolve, the emulator one runs."""

from __future__ import annotations

import ast
import importlib
import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_every_example_compiles_and_imports_what_exists(block: str) -> None:
    tree = ast.parse(block)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tl_"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{node.module}.{alias.name} does not exist"


def test_the_emulator_example_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (block,) = [b for b in BLOCKS if "with Emulator(" in b and "fail_next" not in b]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TWELVELABS_API_KEY", raising=False)
    exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out.strip() == "1"  # one upload
    assert os.path.exists(tmp_path / "talk.mp4")


def test_the_planned_faults_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    (block,) = [b for b in BLOCKS if "fail_next" in b]
    exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out.strip() == "{'503': 1}"
