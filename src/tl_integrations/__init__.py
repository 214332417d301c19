"""TwelveLabs video understanding for LangChain and LlamaIndex (work in progress)."""

from __future__ import annotations

__version__ = "0.1.0"
