"""The order rollups no longer keep drafts (balances/rollups.py): drop any draft rows."""

from django.db import migrations


def drop_draft_rows(apps, schema_editor):
    for name in ("HourlyOrderRollup", "DailyOrderRollup"):
        apps.get_model("balances", name).objects.filter(status="draft").delete()


class Migration(migrations.Migration):
    dependencies = [("balances", "0004_hourly_balance_rollups")]

    operations = [migrations.RunPython(drop_draft_rows, migrations.RunPython.noop)]
