from django.db import migrations

# The chain of custody must hold even against a stray UPDATE from a shell or a
# future bug: PostgreSQL refuses to change or delete an event row.
FORWARD = """
CREATE OR REPLACE FUNCTION claims_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'claims_event is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER claims_event_no_update_delete
    BEFORE UPDATE OR DELETE ON claims_event
    FOR EACH ROW EXECUTE FUNCTION claims_event_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS claims_event_no_update_delete ON claims_event;
DROP FUNCTION IF EXISTS claims_event_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("claims", "0002_initial")]

    operations = [migrations.RunPython(forward, backward)]
