"""The notebooks run top to bottom on the embedded emulator, and are committed with outputs.

Each notebook is executed in a fresh ``python3`` kernel (this interpreter: jupyter_client
replaces the kernelspec's ``python`` with ``sys.executable``) in an empty temporary folder,
as if it had been copied there alone, with no ``TWELVELABS_API_KEY`` (nor a chat model's
key) so that its first cell starts the embedded emulator. That first cell shows the choice
in public names; no cell imports private code. The executed copy is not written back; to
refresh the committed outputs after editing a notebook, run::

    .venv/bin/python tests/notebooks/test_notebooks.py            # all of them
    .venv/bin/python tests/notebooks/test_notebooks.py 02 04      # some of them
"""

from __future__ import annotations

import ast
import os
import re
import sys
import tempfile
import time
from pathlib import Path
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
    "08_retrieval",
]
CELL_TIMEOUT_S = 120
# Variables that would send a notebook to a real API (and spend credits) instead.
_REAL_API_VARS = ("TWELVELABS_API_KEY", "TWELVELABS_BASE_URL", "OPENAI_API_KEY")
# What must not be committed: machine-specific paths, loopback ports, anything key-like.
_LEAKS = re.compile(r"/tmp/|/home/|/Users/|127\.0\.0\.1|localhost:\d|tlk_|tl-emulator-key")
_MAX_TEXT_OUTPUT_CHARS = 4000
_MAX_IMAGE_BASE64_CHARS = 120_000


def kernel_env() -> dict[str, str]:
    """The kernel's environment: ours, minus the real-API settings."""
    return {name: value for name, value in os.environ.items() if name not in _REAL_API_VARS}


def execute(path: Path) -> NotebookNode:
    """Run a notebook from top to bottom; raise ``CellExecutionError`` on a failing cell.

    It runs in an empty folder: a notebook needs nothing beside it.
    """
    notebook = nbformat.read(path, as_version=4)
    # Encrypt the kernel's loopback traffic when pyzmq can (ipykernel warns on stderr otherwise).
    encryption = "auto" if zmq.has("curve") else "disabled"
    with tempfile.TemporaryDirectory(prefix="tl-notebook-") as alone:
        client = NotebookClient(
            notebook,
            timeout=CELL_TIMEOUT_S,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": alone}},
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


def code_cells(notebook: NotebookNode) -> list[str]:
    """The sources of a notebook's code cells, in order."""
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def private_names(source: str) -> list[str]:
    """Private modules imported, and private names used, in a cell (``_`` and dunders aside).

    Example:
        >>> private_names("from _setup import connect; import tl_integrations._cli.demo")
        ['_setup', 'tl_integrations._cli.demo']
    """
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT  # Jupyter awaits at top level
    tree = compile(source, "<cell>", "exec", flags=flags)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _private_path(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if _private_path(module):
                found.append(module)
            found += [f"{module}.{alias.name}" for alias in node.names if _private(alias.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            found.append(f".{node.attr}")
        elif isinstance(node, ast.Name) and _private(node.id):
            found.append(node.id)
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and name != "_" and not name.startswith("__")


def _private_path(module: str) -> bool:
    return any(_private(part) for part in module.split("."))


def test_the_private_name_check_sees_imports_names_and_attributes() -> None:
    cell = (
        "from _setup import connect\n"
        "from tl_integrations._cli.demo import QUESTIONS\n"
        "from tl_integrations import TwelveLabs, _hidden\n"
        "client = await emulator._app()\n"
        "_, name = __name__, _secret\n"
    )
    assert sorted(private_names(cell)) == [
        "._app",
        "_secret",
        "_setup",
        "tl_integrations._cli.demo",
        "tl_integrations._hidden",
    ]


def test_the_notebooks_are_there() -> None:
    assert [path.stem for path in NOTEBOOKS] == EXPECTED
    assert not (NOTEBOOKS_DIR / "_setup.py").exists(), "setup belongs in each notebook's cell one"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_cell_one_shows_the_choice_in_public_names(path: Path) -> None:
    cells = code_cells(nbformat.read(path, as_version=4))
    first = cells[0]
    # The choice is in plain sight: a real key, or the emulator started in this kernel.
    assert "TWELVELABS_API_KEY" in first
    assert "Emulator(" in first
    assert [(n, name) for n, cell in enumerate(cells) for name in private_names(cell)] == []


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
