"""What a new user meets first in Python: missing extras, bad options, keys, progress bars."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import pytest

from tl_integrations import InvalidRequestError


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWELVELABS_")}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("module", "hidden", "extra"),
    [
        ("tl_integrations.langchain", "langchain_core", "langchain"),
        ("tl_integrations.llama_index", "llama_index", "llama-index"),
        ("tl_integrations.emulator", "starlette", "emulator"),
    ],
)
def test_a_missing_extra_names_the_pip_install_that_fixes_it(
    module: str, hidden: str, extra: str
) -> None:
    result = _run_python(
        f"""
        import sys
        sys.modules[{hidden!r}] = None  # as if it were not installed
        try:
            import {module}
        except ModuleNotFoundError as exc:
            print(exc.name)
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    name, message = result.stdout.strip().splitlines()
    assert name.split(".")[0] == hidden
    assert message.startswith(f"{module} needs {hidden}, which is not installed: ")
    assert f"pip install 'tl-integrations[{extra}]'" in message
    assert f"in a clone of the repository: pip install '.[{extra}]'" in message


def test_a_missing_module_of_ours_is_not_blamed_on_an_extra() -> None:
    from tl_integrations._extras import needs_extra

    missing = pytest.raises(ModuleNotFoundError, match=r"No module named 'tl_integrations\.nope'")
    with missing, needs_extra("langchain", "tl_integrations.langchain"):
        import tl_integrations.nope  # type: ignore[import-not-found]  # noqa: F401


def _adapters() -> dict[str, Callable[..., Any]]:
    from tl_integrations.langchain import (
        TwelveLabsEmbeddings,
        TwelveLabsRetriever,
        TwelveLabsToolkit,
        TwelveLabsVideoLoader,
    )
    from tl_integrations.llama_index import (
        TwelveLabsEmbedding,
        TwelveLabsToolSpec,
        TwelveLabsVideoReader,
    )
    from tl_integrations.llama_index import TwelveLabsRetriever as LlamaRetriever

    return {
        "langchain loader": lambda **kw: TwelveLabsVideoLoader(["a.mp4"], index_name="x", **kw),
        "langchain embeddings": TwelveLabsEmbeddings,
        "langchain retriever": lambda **kw: TwelveLabsRetriever(index_id="i", **kw),
        "langchain toolkit": TwelveLabsToolkit,
        "llama-index reader": lambda **kw: TwelveLabsVideoReader(index_name="x", **kw),
        "llama-index embedding": TwelveLabsEmbedding,
        "llama-index retriever": lambda **kw: LlamaRetriever(index_id="i", **kw),
        "llama-index tools": TwelveLabsToolSpec,
    }


BAD_VALUES = {
    "langchain loader": {"chunk_s": -1},
    "langchain embeddings": {"model": "marengo9"},
    "langchain retriever": {"k": 0},
    "llama-index reader": {"max_concurrency": "many"},
    "llama-index embedding": {"embed_batch_size": -1},
    "llama-index retriever": {"k": 0},
}


@pytest.mark.parametrize("adapter", sorted(_adapters()))
def test_every_adapter_refuses_unknown_options_with_the_projects_error(
    adapter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWELVELABS_API_KEY", "tlk_0123456789")
    with pytest.raises(InvalidRequestError, match=r"unknown option 'chunks_s'; check its spell"):
        _adapters()[adapter](chunks_s=10)


@pytest.mark.parametrize("adapter", sorted(BAD_VALUES))
def test_every_adapter_refuses_bad_values_with_the_projects_error(
    adapter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWELVELABS_API_KEY", "tlk_0123456789")
    (option,) = BAD_VALUES[adapter]
    with pytest.raises(InvalidRequestError, match=option):
        _adapters()[adapter](**BAD_VALUES[adapter])


def test_a_bad_key_value_is_never_repeated_in_the_error() -> None:
    from tl_integrations.langchain import TwelveLabsEmbeddings

    with pytest.raises(InvalidRequestError, match=r"api_key: .*\(got not shown\)"):
        TwelveLabsEmbeddings(api_key=["tlk_secret_in_a_list"])


@pytest.mark.parametrize("framework", ["langchain", "llama-index"])
def test_a_check_of_the_options_together_shows_them_without_the_key(framework: str) -> None:
    # A check across options (a dimension the model cannot make) echoes every option given.
    if framework == "langchain":
        from tl_integrations.langchain import TwelveLabsEmbeddings as Embeddings
    else:
        from tl_integrations.llama_index import TwelveLabsEmbedding as Embeddings
    with pytest.raises(InvalidRequestError) as caught:
        Embeddings(api_key="tlk_secret_0123", embedding_dimension=256)
    shown = f"{caught.value} {caught.value!r} {caught.value.args}"
    assert "tlk_secret_0123" not in shown
    assert "'api_key': '<not shown>', 'embedding_dimension': 256" in str(caught.value)


@pytest.mark.parametrize("framework", ["langchain", "llama-index"])
def test_keys_are_not_serialized_and_a_loaded_adapter_says_so(
    framework: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWELVELABS_API_KEY", raising=False)
    monkeypatch.delenv("TWELVELABS_BASE_URL", raising=False)
    if framework == "langchain":
        from tl_integrations.langchain import TwelveLabsEmbeddings

        original: Any = TwelveLabsEmbeddings(api_key="tlk_secret_0123")
        text = original.model_dump_json()
        loaded = TwelveLabsEmbeddings.model_validate_json(text)
        embed: Callable[[Any], Any] = lambda e: e.embed_query("hi")  # noqa: E731
    else:
        from tl_integrations.llama_index import TwelveLabsEmbedding

        original = TwelveLabsEmbedding(api_key="tlk_secret_0123")
        text = original.to_json()
        loaded = TwelveLabsEmbedding.from_json(text)
        embed = lambda e: e.get_query_embedding("hi")  # noqa: E731
    assert "tlk_secret_0123" not in text
    assert "api_key" not in json.loads(text)  # left out, not masked as '**********'
    for restored in (loaded, pickle.loads(pickle.dumps(original))):
        with pytest.raises(InvalidRequestError, match="Keys are not serialized") as caught:
            embed(restored)
        assert "TWELVELABS_API_KEY" in str(caught.value)


def test_progress_bars_fall_back_quietly_without_ipywidgets(
    monkeypatch: pytest.MonkeyPatch, recwarn: pytest.WarningsRecorder
) -> None:
    import importlib.util

    import tqdm.std

    from tl_integrations._ingest.outcome import progress_bar

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ipywidgets" else real_find_spec(name, *a),
    )
    bar = progress_bar(total=1, disable=True)
    bar.close()
    assert type(bar) is tqdm.std.tqdm  # the text bar, not the notebook widget
    assert not [w for w in recwarn if "IProgress" in str(w.message)]
