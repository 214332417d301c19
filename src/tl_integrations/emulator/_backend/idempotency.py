"""``Idempotency-Key``: a create sent again with the same key makes nothing new.

Scope and rules (the API leaves them open; API notes §6.5, §12):

- a key belongs to one API key and one kind of resource, and lives 24 hours;
- the same key with the same body answers with what the first request made;
- the same key with a different body is refused with 422 ``idempotency_key_reused``;
- while the first request with a key is still being handled, the same key gets 409
  ``idempotency_key_in_use`` (retry later);
- a key whose resource was deleted is free again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import orjson

from .errors import Conflict, Unprocessable
from .records import IdempotencyRec
from .store import Store

__all__ = ["KEY_TTL_S", "IdempotencyKeys", "fingerprint"]

KEY_TTL_S = 24 * 3600.0
MAX_KEY_LENGTH = 255


def fingerprint(body: Mapping[str, Any]) -> str:
    """A digest of a JSON body that ignores key order.

    Example:
        >>> fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
        True
    """
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _slot(scope: str, resource: str, key: str) -> str:
    # The API key is hashed in: the saved state never holds a credential.
    return hashlib.sha256(f"{scope}\0{resource}\0{key}".encode()).hexdigest()


class IdempotencyKeys:
    """The keys seen by one emulator, per API key and resource kind.

    Example:
        >>> from .._config import EmulatorConfig
        >>> store = Store(EmulatorConfig())
        >>> keys, where = IdempotencyKeys(store), {"scope": "k", "resource": "analysis_task"}
        >>> keys.find("key-1", **where, body={"a": 1}, exists=lambda _: True) is None
        True
        >>> keys.remember("key-1", **where, body={"a": 1}, resource_id="t1")
        >>> keys.find("key-1", **where, body={"a": 1}, exists=lambda _: True)
        't1'
        >>> store.close()
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._in_flight: set[str] = set()

    def find(
        self,
        key: str | None,
        *,
        scope: str,
        resource: str,
        body: Mapping[str, Any],
        exists: Callable[[str], bool],
    ) -> str | None:
        """The id of what an earlier request with this key made, or None when the key is
        free (new, expired, or its resource deleted) or there is no key.

        Raises:
            Unprocessable: The key was used with another body.
            Conflict: The first request with this key is still being handled.
        """
        if key is None:
            return None
        if len(key) > MAX_KEY_LENGTH:
            raise Unprocessable(
                f"The Idempotency-Key is {len(key)} characters; the limit is {MAX_KEY_LENGTH}.",
                field="Idempotency-Key",
                code="parameter_invalid",
            )
        slot = _slot(scope, resource, key)
        with self.store.lock:
            if slot in self._in_flight:
                raise Conflict(
                    "A request with this Idempotency-Key is still being handled; retry later.",
                    code="idempotency_key_in_use",
                )
            rec = self.store.records.idempotency.get(slot)
            now = self.store.now()
            if rec is None or now - rec.created_at > KEY_TTL_S or not exists(rec.resource_id):
                return None
            if rec.fingerprint != fingerprint(body):
                raise Unprocessable(
                    f"The Idempotency-Key {key!r} was used for another request; use a new key "
                    "for a new request.",
                    field="Idempotency-Key",
                    code="idempotency_key_reused",
                )
            return rec.resource_id

    @contextmanager
    def handling(self, key: str | None, *, scope: str, resource: str) -> Iterator[None]:
        """Mark a key as being handled while a create runs (so a concurrent retry waits)."""
        if key is None:
            yield
            return
        slot = _slot(scope, resource, key)
        with self.store.lock:
            self._in_flight.add(slot)
        try:
            yield
        finally:
            with self.store.lock:
                self._in_flight.discard(slot)

    def remember(
        self,
        key: str | None,
        *,
        scope: str,
        resource: str,
        body: Mapping[str, Any],
        resource_id: str,
    ) -> None:
        """Record what a key made (call under the store's lock, before saving); without a
        key, nothing."""
        if key is None:
            return
        slot = _slot(scope, resource, key)
        self.store.records.idempotency[slot] = IdempotencyRec(
            slot, fingerprint(body), resource, resource_id, self.store.now()
        )

    def reset(self) -> None:
        """Forget the keys being handled (the records go with the store's)."""
        with self.store.lock:
            self._in_flight.clear()
