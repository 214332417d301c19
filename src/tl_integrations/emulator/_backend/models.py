"""The model catalogue: what each Marengo version produces and accepts, and token limits.

Search, embeddings and indexes all ask the same questions (which dimension, which embedding
options, how many text tokens), so the answers live here once.
"""

from __future__ import annotations

from .errors import Invalid, invalid, missing

__all__ = [
    "INDEX_MODELS",
    "MARENGO_DIMS",
    "MARENGO_OPTIONS",
    "SEARCH_OPTIONS",
    "TEXT_LIMITS",
    "V1_MODELS",
    "truncate_text",
    "v1_model",
]

MARENGO_DIMS = {"marengo2.7": 1024, "marengo3.0": 512}
# Embedding options each Marengo version produces, and the index model option they need.
MARENGO_OPTIONS = {
    "marengo2.7": {"visual-text": "visual", "audio": "audio"},
    "marengo3.0": {"visual": "visual", "audio": "audio", "transcription": "audio"},
}
# search option -> embedding option, per Marengo version
SEARCH_OPTIONS = {
    "marengo2.7": {"visual": "visual-text", "audio": "audio"},
    "marengo3.0": {"visual": "visual", "audio": "audio", "transcription": "transcription"},
}
TEXT_LIMITS = {"marengo2.7": 77, "marengo3.0": 500}
INDEX_MODELS = frozenset({*MARENGO_DIMS, "pegasus1.2", "pegasus1.5"})

# Embed API v1 model_name -> (dimension, embedding options, text token limit)
V1_MODELS: dict[str, tuple[int, tuple[str, ...], int]] = {
    "Marengo-retrieval-2.7": (1024, ("visual-text", "audio"), 77),
    "marengo2.7": (1024, ("visual-text", "audio"), 77),
    "marengo3.0": (512, ("visual", "audio", "transcription"), 500),
}


def v1_model(name: str | None) -> tuple[int, tuple[str, ...], int]:
    """Dimension, options and text limit of an Embed API v1 model name.

    Raises:
        Invalid: When the name is missing or unknown.

    Example:
        >>> v1_model("marengo3.0")[0]
        512
    """
    if not name:
        raise missing("model_name")
    if name not in V1_MODELS:
        raise invalid("model_name", f"unknown model {name!r}; use one of {sorted(V1_MODELS)}")
    return V1_MODELS[name]


def truncate_text(text: str, *, limit: int, mode: str, field: str = "text") -> str:
    """Apply a token limit (words stand in for tokens): ``end`` cuts the end, ``start`` the
    start, ``none`` refuses.

    Example:
        >>> truncate_text("a b c", limit=2, mode="end")
        'a b'
        >>> truncate_text("a b c", limit=2, mode="start")
        'b c'
    """
    words = text.split()
    if len(words) <= limit:
        return text
    if mode == "none":
        raise Invalid(field, f"{field}: the text has {len(words)} tokens; the limit is {limit}.")
    return " ".join(words[-limit:] if mode == "start" else words[:limit])
