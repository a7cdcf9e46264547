from __future__ import annotations

import os

from celery import Celery, Task
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "claims_portal.settings")


class TransactionAwareTask(Task):
    """A task queued inside a transaction is recorded in it, and sent once it commits.

    A worker sees only committed rows, so a message sent before the commit could find
    nothing to do, or act on data that is then rolled back (pretix's pattern). And a message
    sent after the commit can be lost with the broker or the process, so it is first written
    to the outbox in the same transaction and handed over after it (`claims_portal.outbox`).
    Outside a transaction it is sent at once. Every `.delay()` call keeps this behaviour.
    """

    abstract = True

    def apply_async(self, args=None, kwargs=None, **options):
        if not transaction.get_connection().in_atomic_block:
            return super().apply_async(args, kwargs, **options)
        if self.app.conf.task_always_eager:
            # In-process mode: there is no broker whose outage could lose the message.
            run = super().apply_async
            transaction.on_commit(lambda: run(args, kwargs, **options))
            return None
        from claims_portal import outbox  # the models load after this module

        outbox.enqueue(self, args, kwargs, options)
        return None


app = Celery("claims_portal", task_cls=TransactionAwareTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
