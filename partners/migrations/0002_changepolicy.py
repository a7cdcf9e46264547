import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):
    # The table came over from approvals (renamed there); only the model state moves here.
    dependencies = [
        ("partners", "0001_initial"),
        ("approvals", "0003_move_change_models"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ChangePolicy",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("usage_threshold_pct", models.DecimalField(decimal_places=2, default=Decimal("20"), max_digits=5, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(100)], verbose_name="usage threshold %")),
                        ("large_customer_seats", models.PositiveIntegerField(default=500, verbose_name="large customer from seats")),
                        ("large_customer_threshold_pct", models.DecimalField(decimal_places=2, default=Decimal("10"), max_digits=5, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(100)], verbose_name="usage threshold % for large customers")),
                        ("no_growth_days", models.PositiveSmallIntegerField(default=90, verbose_name="no growth window (days)")),
                        ("program", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="change_policy", to="partners.program")),
                    ],
                    options={
                        "verbose_name": "change eligibility policy",
                        "verbose_name_plural": "change eligibility policies",
                    },
                ),
            ],
            database_operations=[],
        )
    ]
