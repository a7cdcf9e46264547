"""The hash that links each history entry to the one before it, shared by every chain."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS_HASH = "0" * 64


def canonical(value: Any) -> Any:
    """`value` as it reads back from a JSON column, so a hash survives the round trip."""
    return json.loads(json.dumps(value, default=str))


def digest(payload: dict[str, Any]) -> str:
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()
