from django.db import migrations

# ChangePolicy moves to partners (a program rule) and ChangeRequest to customers (how a
# customer's associations change). The tables are renamed, not recreated: no row is lost.


class Migration(migrations.Migration):
    dependencies = [("approvals", "0002_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable("changepolicy", "partners_changepolicy"),
                migrations.AlterModelTable("changerequest", "customers_changerequest"),
            ],
            state_operations=[
                migrations.DeleteModel("ChangePolicy"),
                migrations.DeleteModel("ChangeRequest"),
            ],
        )
    ]
