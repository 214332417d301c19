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
