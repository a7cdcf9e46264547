import django.db.models.deletion
from django.db import migrations, models


def copy_parties(apps, schema_editor):
    ReviewTask = apps.get_model("approvals", "ReviewTask")
    Claim = apps.get_model("claims", "Claim")
    tasks = ReviewTask._meta.db_table
    claims = Claim._meta.db_table
    schema_editor.execute(
        f"UPDATE {tasks} AS t SET customer_id = c.customer_id, partner_id = c.partner_id,"
        f" program_id = c.program_id FROM {claims} AS c WHERE c.id = t.claim_id"
    )


def fk(to):
    return models.ForeignKey(
        on_delete=django.db.models.deletion.CASCADE, related_name="+", to=to, editable=False
    )


def nullable_fk(to):
    return models.ForeignKey(
        on_delete=django.db.models.deletion.CASCADE,
        related_name="+",
        to=to,
        editable=False,
        null=True,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("approvals", "0005_decisions_kept"),
        ("customers", "0002_changerequest"),
        ("partners", "0004_program_calendar"),
    ]

    operations = [
        migrations.AddField("reviewtask", "customer", nullable_fk("customers.customer")),
        migrations.AddField("reviewtask", "partner", nullable_fk("partners.partner")),
        migrations.AddField("reviewtask", "program", nullable_fk("partners.program")),
        migrations.RunPython(copy_parties, migrations.RunPython.noop),
        migrations.AlterField("reviewtask", "customer", fk("customers.customer")),
        migrations.AlterField("reviewtask", "partner", fk("partners.partner")),
        migrations.AlterField("reviewtask", "program", fk("partners.program")),
        migrations.AddIndex(
            model_name="reviewtask",
            index=models.Index(
                condition=models.Q(("state", "open")),
                fields=["partner", "due_at", "id"],
                name="review_task_open_partner",
            ),
        ),
        migrations.AddIndex(
            model_name="reviewtask",
            index=models.Index(
                condition=models.Q(("state", "open")),
                fields=["customer"],
                name="review_task_open_customer",
            ),
        ),
    ]
