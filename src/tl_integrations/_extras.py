"""Optional dependencies: which extra installs what, and the error that says so.

``import tl_integrations.langchain`` without LangChain installed must not end in a bare
``ModuleNotFoundError: No module named 'langchain_core'``: it names the ``pip install`` that
fixes it, both from a package index and from a clone of the repository.

Example:
    >>> print(install_hint("langchain").replace(" (", "\\n("))
    pip install 'tl-integrations[langchain]'
    (in a clone of the repository: pip install '.[langchain]')
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["EXTRAS", "install_hint", "needs_extra"]

# The top-level modules each extra provides (see pyproject.toml's optional-dependencies).
EXTRAS: dict[str, tuple[str, ...]] = {
    "langchain": ("langchain_core", "tqdm"),
    "llama-index": ("llama_index", "tqdm"),
    "emulator": ("starlette", "uvicorn", "av", "multipart", "python_multipart"),
    "vectorstores": ("qdrant_client", "langchain_qdrant", "chromadb", "langchain_chroma"),
    "ray": ("ray",),
}


def install_hint(extra: str) -> str:
    """The command that installs ``extra``, from an index or from a clone.

    Example:
        >>> install_hint("emulator").split(" (")[0]
        "pip install 'tl-integrations[emulator]'"
    """
    return (
        f"pip install 'tl-integrations[{extra}]' "
        f"(in a clone of the repository: pip install '.[{extra}]')"
    )


@contextlib.contextmanager
def needs_extra(extra: str, feature: str) -> Iterator[None]:
    """Turn a missing dependency of ``extra`` into an error that names its ``pip install``.

    Only the extra's own modules are translated: a missing module of ours is a bug and
    propagates unchanged. The error stays a ``ModuleNotFoundError`` (so ``except
    ImportError`` still works) with the missing module's ``name``.

    Example:
        >>> with needs_extra("langchain", "tl_integrations.langchain"):
        ...     import langchain_core_that_is_missing  # doctest: +SKIP
        Traceback (most recent call last):
        ModuleNotFoundError: tl_integrations.langchain needs langchain_core_that_is_missing...
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        root = (exc.name or "").split(".")[0]
        if root not in EXTRAS.get(extra, ()):
            raise
        message = f"{feature} needs {root}, which is not installed: {install_hint(extra)}"
        raise ModuleNotFoundError(message, name=exc.name) from exc
