"""Migration operations for big tables that still run on the embedded SQLite default.

On PostgreSQL an index on a table of a million claims is built CONCURRENTLY, so the
portal keeps taking writes while it builds (the migration must say `atomic = False`);
elsewhere it is an ordinary index. Trigram indexes (pg_trgm, for `icontains` searches)
exist on PostgreSQL only; Django's model state does not hold them, so each is described
where it is created.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations
from django.db.migrations.operations import AddIndex, RemoveIndex


def _postgres(schema_editor: Any) -> bool:
    return schema_editor.connection.vendor == "postgresql"


class AddIndexConcurrentlyWherePossible(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _postgres(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrentlyWherePossible(RemoveIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _postgres(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _postgres(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


def trigram_index(table: str, column: str, name: str) -> migrations.RunPython:
    """A GIN trigram index on UPPER(column), the expression Django's `icontains` compares."""

    def create(apps: Any, schema_editor: Any) -> None:
        if _postgres(schema_editor):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table}"
                f" USING gin ((UPPER({column}::text)) gin_trgm_ops)"
            )

    def drop(apps: Any, schema_editor: Any) -> None:
        if _postgres(schema_editor):
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")

    return migrations.RunPython(create, drop, elidable=False)
