"""Hooks other apps attach to, sent after the life cycle has done its work.

Sent inside the claim's transaction, with the claim locked: a receiver that enqueues a
task uses a task class that sends only after the commit.
"""

from __future__ import annotations

from django.dispatch import Signal

# claim (locked, saved), event (the Event just recorded)
claim_transitioned = Signal()
