"""Every module's docstring examples run (those not marked +SKIP), and public names have
docstrings with an example."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import tl_integrations

# Modules whose examples need a running emulator or a framework's own setup are covered by
# their own tests; everything else is listed by walking the package, so none is forgotten.
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(tl_integrations.__path__, "tl_integrations.")
    if not info.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_public_names_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__, f"{name} has no module docstring"
    for public in getattr(module, "__all__", []):
        value = getattr(module, public)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__doc__, f"{name}.{public} has no docstring"


# Exempt from the example rule, each for its reason: API converters (from_api, to_api,
# update_from) are the library's own plumbing, shown by their class's example; the framework
# hooks (model_post_init, class_name) are called by pydantic and LlamaIndex, not by users;
# the ToolSpec's methods' docstrings are the tool descriptions an LLM reads, where an example
# for Python programmers would mislead it.
NO_EXAMPLE = {"from_api", "to_api", "update_from", "model_post_init", "class_name"}
PUBLIC_MODULES = [
    "tl_integrations",
    "tl_integrations.langchain",
    "tl_integrations.llama_index",
    "tl_integrations.emulator",
]


def _public_methods(module_name: str) -> list[tuple[str, object]]:
    module = importlib.import_module(module_name)
    found: list[tuple[str, object]] = [(module_name, module)]
    for public in module.__all__:
        value = getattr(module, public)
        if not inspect.isclass(value) or public.endswith("ToolSpec"):
            continue
        for name, member in vars(value).items():
            func = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
            if name.startswith("_") or name in NO_EXAMPLE or not inspect.isfunction(func):
                continue
            if func.__module__.startswith("tl_integrations"):
                found.append((f"{module_name}.{public}.{name}", func))
    return found


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_public_modules_and_methods_have_an_example(module_name: str) -> None:
    missing = [
        name
        for name, value in _public_methods(module_name)
        if ">>>" not in (inspect.getdoc(value) or "")
    ]
    assert missing == [], f"no example in: {missing}"
