"""Counting attempts per client in Django's cache, so a limit holds across server processes.

The cache is Redis wherever REDIS_URL is set (see CACHES in settings). A window opens at a
client's first counted attempt and closes `window` seconds later. When the cache cannot be
reached the limit is not applied (and a warning is logged): a rate limit must not take a
page down with it.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most `attempts` counted attempts per client within `window` seconds."""

    scope: str
    attempts: int
    window: int

    def _key(self, client: str) -> str:
        # Hashed, so no address is stored as it is and any client string makes a valid key.
        digest = hashlib.sha256(client.encode()).hexdigest()[:32]
        return f"ratelimit:{self.scope}:{digest}"

    def exceeded(self, client: str) -> bool:
        """Whether the client has used up its attempts for now."""
        try:
            count = cache.get(self._key(client), 0)
        except Exception as exc:  # the cache's own connection errors vary by backend
            log.warning("Rate limit %s not checked, cache unreachable: %s", self.scope, exc)
            return False
        return int(count) >= self.attempts

    def hit(self, client: str) -> int:
        """Count one attempt; returns how many the client has made in this window."""
        key = self._key(client)
        try:
            # add() sets the window's expiry once; incr() keeps it.
            cache.add(key, 0, timeout=self.window)
            try:
                return int(cache.incr(key))
            except ValueError:  # expired between add() and incr()
                cache.set(key, 1, timeout=self.window)
                return 1
        except Exception as exc:
            log.warning("Rate limit %s not counted, cache unreachable: %s", self.scope, exc)
            return 0

    def reset(self, client: str) -> None:
        try:
            cache.delete(self._key(client))
        except Exception as exc:
            log.warning("Rate limit %s not reset, cache unreachable: %s", self.scope, exc)


def client_address(request: HttpRequest) -> str:
    """The address the request came from, as the server saw it.

    X-Forwarded-For is not read: anyone can send it, so trusting it would let a client
    pick a fresh identity per request. Behind a proxy, the proxy sets REMOTE_ADDR.
    """
    return str(request.META.get("REMOTE_ADDR") or "unknown")
