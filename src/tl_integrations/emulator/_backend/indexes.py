"""Indexes: create, list, look up, rename and delete (with everything they hold)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import Invalid, missing
from .models import INDEX_MODELS, MARENGO_DIMS
from .queries import Page, PageRequest, Sort, TimeRange, paginate
from .records import IndexRec
from .store import Store
from .videos import Videos

__all__ = ["IndexFilter", "IndexView", "Indexes"]

MODEL_OPTIONS = ("visual", "audio")


@dataclass(frozen=True)
class IndexView:
    """An index with the counts computed from its ready videos.

    Example:
        >>> IndexView(rec, 2, 24.0).video_count  # doctest: +SKIP
        2
    """

    rec: IndexRec
    video_count: int
    total_duration_s: float


@dataclass(frozen=True)
class IndexFilter:
    """The filters of ``GET /indexes``.

    Example:
        >>> IndexFilter(model_options=("visual",)).name is None
        True
    """

    name: str | None = None
    model_options: tuple[str, ...] = ()
    model_family: str | None = None
    created: TimeRange = field(default_factory=TimeRange)
    updated: TimeRange = field(default_factory=TimeRange)

    def matches(self, rec: IndexRec) -> bool:
        """Whether an index passes every filter."""
        if self.name and rec.name != self.name:
            return False
        if any(o not in rec.model_options for o in self.model_options):
            return False
        family = self.model_family
        if family and not any(m["model_name"].startswith(family) for m in rec.models):
            return False
        return self.created.matches(rec.created_at) and self.updated.matches(rec.updated_at)


def _bad(message: str, field: str) -> Invalid:
    return Invalid(field, message)


def _model_error(name: Any, allowed: Sequence[str]) -> Invalid:
    if isinstance(name, str) and name.startswith("pegasus"):
        return _bad(
            f"models: {name} is not an index model any more; index with "
            f"{' or '.join(allowed)} and analyse the video's asset with Pegasus 1.5 "
            "(POST /analyze or /analyze/tasks with video={'type': 'asset_id', ...}).",
            "models",
        )
    if name in INDEX_MODELS:
        return _bad(f"models: {name} is retired; use one of {list(allowed)}.", "models")
    return _bad(f"models: unknown model_name {name!r}; use one of {list(allowed)}.", "models")


def _check_models(models: Any, allowed: Sequence[str]) -> list[dict[str, Any]]:
    if not isinstance(models, list) or not models:
        raise missing("models")
    checked = []
    for model in models:
        if not isinstance(model, dict) or model.get("model_name") not in allowed:
            raise _model_error(
                model.get("model_name") if isinstance(model, dict) else model, allowed
            )
        options = model.get("model_options")
        if (
            not isinstance(options, list)
            or not 1 <= len(options) <= 2
            or len(set(options)) != len(options)
            or any(o not in MODEL_OPTIONS for o in options)
        ):
            raise _bad(
                f"models: model_options must be 1-2 of {list(MODEL_OPTIONS)}, got {options!r}.",
                "models",
            )
        checked.append({"model_name": model["model_name"], "model_options": list(options)})
    return checked


def _check_addons(addons: Any, models: list[dict[str, Any]]) -> list[str]:
    addons = addons or []
    if not isinstance(addons, list) or any(a != "thumbnail" for a in addons):
        raise _bad(f"addons: only 'thumbnail' is supported, got {addons!r}.", "addons")
    if addons and not any(m["model_name"] in MARENGO_DIMS for m in models):
        raise _bad("addons: add-ons need a Marengo model.", "addons")
    return list(addons)


class Indexes:
    """The indexes of one emulator.

    Example:
        >>> indexes = Indexes(store, videos)  # doctest: +SKIP
        >>> rec = indexes.create(name="news", models=[{"model_name": "marengo3.0",
        ...                      "model_options": ["visual"]}], addons=None)  # doctest: +SKIP
    """

    def __init__(self, store: Store, videos: Videos) -> None:
        self.store = store
        self.videos = videos

    def _check_name(self, name: Any, *, exclude: str | None = None) -> str:
        if not isinstance(name, str) or not name.strip():
            raise missing("index_name")
        if any(r.name == name and r.id != exclude for r in self.store.records.indexes.values()):
            raise Invalid(
                None, f"An index named {name!r} already exists.", code="index_name_already_exists"
            )
        return name

    def create(self, *, name: Any, models: Any, addons: Any) -> IndexRec:
        """Create an index (names are unique; models and add-ons are checked).

        Models are those of ``EmulatorConfig.index_models`` (today's API: ``marengo3.0``
        only; Pegasus is no index model any more).

        Raises:
            Invalid: For a missing or taken name, other models or unsupported add-ons.
        """
        checked_models = _check_models(models, self.store.config.index_models)
        checked_addons = _check_addons(addons, checked_models)
        store = self.store
        with store.lock:
            checked_name = self._check_name(name)
            now = store.now()
            rec = IndexRec(store.new_id(), checked_name, checked_models, checked_addons, now, now)
            store.records.indexes[rec.id] = rec
            store.save()
        return rec

    def view(self, rec: IndexRec) -> IndexView:
        """The index with its video count and total duration (ready videos only)."""
        videos = self.videos.ready(rec.id)
        duration = sum(v.info.duration_s for v in videos if v.info)
        return IndexView(rec, len(videos), round(duration, 3))

    def get(self, index_id: str) -> IndexView:
        """One index.

        Raises:
            NotFound: When there is no such index.
        """
        with self.store.lock:
            return self.view(self.store.index(index_id))

    def list(self, flt: IndexFilter, sort: Sort, page: PageRequest) -> Page[IndexView]:
        """Filtered, sorted and paged indexes."""
        keys = {
            "created_at": lambda r: r.created_at,
            "updated_at": lambda r: r.updated_at,
            "index_name": lambda r: r.name,
        }
        with self.store.lock:
            recs = [r for r in self.store.records.indexes.values() if flt.matches(r)]
            found = paginate(sort.apply(recs, keys), page)
            return Page([self.view(r) for r in found.items], found.page, found.limit, found.total)

    def rename(self, index_id: str, *, name: Any) -> None:
        """Give an index a new (unique) name."""
        store = self.store
        with store.lock:
            rec = store.index(index_id)
            rec.name = self._check_name(name, exclude=rec.id)
            rec.updated_at = store.now()
            store.save()

    def delete(self, index_id: str) -> None:
        """Delete an index with its videos and tasks (their media and vectors too)."""
        store = self.store
        with store.lock:
            rec = store.index(index_id)
            for video in [v for v in store.records.videos.values() if v.index_id == rec.id]:
                self.videos.forget(video)
            for task in [t for t in store.records.tasks.values() if t.index_id == rec.id]:
                del store.records.tasks[task.id]
            del store.records.indexes[rec.id]
            store.save()
