"""The notebooks run top to bottom on the embedded emulator, and are committed with outputs.

Each notebook is executed in a fresh ``python3`` kernel (this interpreter: jupyter_client
replaces the kernelspec's ``python`` with ``sys.executable``) from ``notebooks/``, with no
``TWELVELABS_API_KEY`` so that it starts the embedded emulator. The executed copy is not
written back; to refresh the committed outputs after editing a notebook, run::

    .venv/bin/python tests/notebooks/test_notebooks.py            # all of them
    .venv/bin/python tests/notebooks/test_notebooks.py 02 04      # some of them
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest
import zmq
from nbclient import NotebookClient
from nbformat import NotebookNode
from traitlets.config import Config

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
EXPECTED = [
    "01_quickstart",
    "02_langchain_rag",
    "03_llamaindex",
    "04_segment_vectors",
    "05_agent_tool",
    "06_ray_scale",
    "07_segments",
]
CELL_TIMEOUT_S = 120
# Variables that would send a notebook to the real API (and spend credits) instead.
_REAL_API_VARS = ("TWELVELABS_API_KEY", "TWELVELABS_BASE_URL")
# What must not be committed: machine-specific paths, loopback ports, anything key-like.
_LEAKS = re.compile(r"/tmp/|/home/|/Users/|127\.0\.0\.1|localhost:\d|tlk_|tl-emulator-key")
_MAX_TEXT_OUTPUT_CHARS = 4000
_MAX_IMAGE_BASE64_CHARS = 120_000


def kernel_env() -> dict[str, str]:
    """The kernel's environment: ours, minus the real-API settings."""
    return {name: value for name, value in os.environ.items() if name not in _REAL_API_VARS}


def execute(path: Path) -> NotebookNode:
    """Run a notebook from top to bottom; raise ``CellExecutionError`` on a failing cell."""
    notebook = nbformat.read(path, as_version=4)
    # Encrypt the kernel's loopback traffic when pyzmq can (ipykernel warns on stderr otherwise).
    encryption = "auto" if zmq.has("curve") else "disabled"
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
        config=Config({"KernelManager": {"transport_encryption": encryption}}),
    )
    client.execute(env=kernel_env())
    return notebook


def normalise(notebook: NotebookNode) -> NotebookNode:
    """Drop what changes from run to run and machine to machine (timings, versions)."""
    notebook.metadata = NotebookNode(
        kernelspec={"display_name": "Python 3", "language": "python", "name": "python3"},
        language_info={"name": "python"},
    )
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.outputs)
    return notebook


def _merge_streams(cell_outputs: list[NotebookNode]) -> list[NotebookNode]:
    # A print loop arrives as many stream messages; one output per stream reads (and diffs) better.
    merged: list[NotebookNode] = []
    for output in cell_outputs:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and output.output_type == previous.output_type == "stream"
            and output.name == previous.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def outputs(notebook: NotebookNode, output_type: str | None = None) -> list[dict[str, Any]]:
    """Every output of every code cell (only those of ``output_type`` when given)."""
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output_type is None or output.output_type == output_type
    ]


def _text(output: dict[str, Any]) -> str:
    if output["output_type"] == "stream":
        return str(output["text"])
    data = output.get("data", {})
    return str(data.get("text/plain", "")) + str(data.get("text/html", ""))


def problems(notebook: NotebookNode) -> list[str]:
    """Errors, stderr and warnings, leaks and oversized outputs, as readable lines."""
    found = []
    for output in outputs(notebook):
        kind = output["output_type"]
        if kind == "error":
            found.append(f"error output: {output['ename']}: {output['evalue']}")
        elif kind == "stream" and output["name"] == "stderr":
            found.append(f"stderr output: {str(output['text'])[:300]!r}")
        text = _text(output)
        if (leak := _LEAKS.search(text)) is not None:
            found.append(f"machine-specific or secret text {leak.group()!r} in {text[:200]!r}")
        if len(text) > _MAX_TEXT_OUTPUT_CHARS:
            found.append(f"a {len(text)}-character output (keep outputs short)")
        image = output.get("data", {}).get("image/png", "")
        if len(image) > _MAX_IMAGE_BASE64_CHARS:
            found.append(f"a {len(image)}-character PNG (make the figure smaller)")
    return found


def test_the_notebooks_are_there() -> None:
    assert [path.stem for path in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_committed_notebook_has_clean_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "a notebook without code"
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), (
        "execute the notebook top to bottom and save it (see this module's docstring)"
    )
    assert all("execution" not in cell.metadata for cell in notebook.cells), "timing metadata"
    assert notebook.metadata.get("language_info") == {"name": "python"}
    assert any(cell.cell_type == "markdown" for cell in notebook.cells)
    assert problems(notebook) == []


# Notebook 06 starts Ray and runs four pipelines (a minute): make test-ray runs it.
RUNS = [
    pytest.param(path, marks=pytest.mark.ray_heavy) if "ray" in path.stem else path
    for path in NOTEBOOKS
]


@pytest.mark.slow
@pytest.mark.parametrize("path", RUNS, ids=lambda path: path.stem)
def test_notebook_runs_on_the_emulator(path: Path) -> None:
    notebook = execute(path)  # raises on the first failing cell, naming it
    assert problems(notebook) == []
    first = "".join(_text(output) for output in outputs(notebook, "stream")[:1])
    assert "embedded TwelveLabs emulator" in first  # the setup cell says where it runs


@pytest.fixture
def notebook_setup(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``notebooks/_setup.py``, imported for this test only."""
    spec = importlib.util.spec_from_file_location("_setup", NOTEBOOKS_DIR / "_setup.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "_setup", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_setup_uses_the_real_api_when_a_key_is_set(
    notebook_setup: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {"TWELVELABS_API_KEY": "tlk_SECRET", "TWELVELABS_BASE_URL": "https://x.test/v1.3"}
    backend = notebook_setup.connect(environ=environ)
    said = "Using the TwelveLabs API at https://x.test/v1.3 (uses your credits).\n"
    assert capsys.readouterr().out == said
    assert not backend.offline
    assert backend.speed == 1.0
    assert "tlk_SECRET" not in repr(backend)
    with backend.client() as client:
        assert client.base_url == "https://x.test/v1.3"
    backend.close()  # nothing to stop


def main(selected: list[str]) -> int:
    """Re-execute notebooks (all, or those whose names start with ``selected``) and save."""
    paths = [p for p in NOTEBOOKS if not selected or p.stem.startswith(tuple(selected))]
    for path in paths:
        started = time.perf_counter()
        notebook = normalise(execute(path))
        found = problems(notebook)
        nbformat.write(notebook, path)
        print(f"{path.name}: {time.perf_counter() - started:.1f} s", *found, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
