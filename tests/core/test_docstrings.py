"""The examples in the core modules' docstrings run (those not marked +SKIP)."""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

MODULES = [
    "tl_integrations.models",
    "tl_integrations.models._read",
    "tl_integrations.models.task",
    "tl_integrations.models.catalog",
    "tl_integrations.polling",
    "tl_integrations._poll_policy",
    "tl_integrations.retrying",
    "tl_integrations._http",
    "tl_integrations._responses",
    "tl_integrations.uploads",
    "tl_integrations._compat",
    "tl_integrations.client",
    "tl_integrations.client._base",
    "tl_integrations.client._calls",
    "tl_integrations.client._paging",
    "tl_integrations.client._batch_wait",
    "tl_integrations.client._tasks_core",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_public_names_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    for public in getattr(module, "__all__", []):
        value = getattr(module, public)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__doc__, f"{name}.{public} has no docstring"
