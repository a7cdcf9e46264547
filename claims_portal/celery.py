from __future__ import annotations

import os

from celery import Celery, Task
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "claims_portal.settings")


class TransactionAwareTask(Task):
    """A task sent only once the transaction it was queued in commits (pretix's pattern).

    A worker sees only committed rows, so a message sent before the commit could find
    nothing to do, or act on data that is then rolled back. Outside a transaction it is
    sent at once.
    """

    abstract = True

    def apply_async(self, args=None, kwargs=None, **options):
        if transaction.get_connection().in_atomic_block:
            send = super().apply_async
            transaction.on_commit(lambda: send(args, kwargs, **options))
            return None
        return super().apply_async(args, kwargs, **options)


app = Celery("claims_portal", task_cls=TransactionAwareTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
