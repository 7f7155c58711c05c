from django.db import migrations, models


class Migration(migrations.Migration):
    """Indexes the ledger needs: an account's orders by submission and by finish time."""

    dependencies = [("orders", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["account", "submitted_at"], name="order_account_submitted"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["account", "finished_at"], name="order_account_finished"),
        ),
    ]
