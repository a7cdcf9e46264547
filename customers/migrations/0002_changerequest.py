import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    # The table came over from approvals (renamed there); only the model state moves here.
    dependencies = [
        ("claims", "0004_vocabulary"),
        ("customers", "0001_initial"),
        ("partners", "0002_changepolicy"),
        ("approvals", "0003_move_change_models"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ChangeRequest",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("eligible", models.BooleanField(null=True)),
                        ("eligibility", models.JSONField(blank=True, default=dict)),
                        ("reason", models.TextField(blank=True, verbose_name="reason")),
                        ("evidence", models.FileField(blank=True, upload_to="evidence/%Y/", validators=[django.core.validators.FileExtensionValidator(["pdf", "png", "jpg", "jpeg", "docx", "xlsx", "csv"])], verbose_name="evidence")),
                        ("status", models.CharField(choices=[("open", "Open"), ("awaiting_response", "Awaiting losing partner"), ("in_review", "With the claims team"), ("granted", "Granted"), ("denied", "Denied"), ("withdrawn", "Withdrawn")], default="open", max_length=20)),
                        ("waiver_signed_at", models.DateTimeField(blank=True, null=True)),
                        ("losing_partner_response", models.TextField(blank=True)),
                        ("respond_by", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("claim", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="change_requests", to="claims.claim")),
                        ("created_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("customer", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="change_requests", to="customers.customer")),
                        ("from_partner", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="changes_away", to="partners.partner")),
                        ("to_partner", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="changes_towards", to="partners.partner")),
                        ("workload", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="partners.workload")),
                    ],
                    options={
                        "indexes": [models.Index(fields=["customer", "workload", "status"], name="change_request_open")],
                        "constraints": [models.CheckConstraint(condition=models.Q(("from_partner", models.F("to_partner")), _negated=True), name="change_between_different_partners")],
                    },
                ),
            ],
            database_operations=[],
        )
    ]
