"""Events signed the way the API documents it, computed here by hand (not with the code
under test): ``TL-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson

SECRET = "whsec_TEST-5ecr3t-d0-n0t-leak"
NOW = 1_790_000_000


def signed(payload: Any, *, secret: str = SECRET, at: int = NOW) -> tuple[bytes, dict[str, str]]:
    """A body (bytes as given, else JSON) and the headers that sign it."""
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"TL-Signature": f"t={at},v1={mac}"}


def event(
    kind: str, job_id: str = "6650a1b2c3d4e5f601234567", *, event_id: str | None = None, **data: Any
) -> dict[str, Any]:
    """An event envelope of ``kind`` about ``job_id``."""
    return {
        "id": event_id or f"whe_{kind}_{job_id}",
        "created_at": data.pop("created_at", "2026-10-02T09:15:04Z"),
        "type": kind,
        "data": {"id": job_id, **data},
    }
