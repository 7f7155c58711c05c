"""Rollups add up each order's spend (orders.money.SPEND: kept money, cost - refund, plus the
possible charge of unresolved orders), so refunded-in-part and failed-after-charge orders count.
The new column is filled by recomputing every rollup row from the orders. Alerts gain the kind
"charge above the limits" (orders/cost_check.py)."""

from django.db import migrations, models


def rebuild_rollups(apps, schema_editor):
    from energydash.balances.rollups import rebuild

    rebuild()


class Migration(migrations.Migration):
    dependencies = [("balances", "0005_rollups_leave_out_drafts")]

    operations = [
        migrations.AddField(
            model_name="dailyorderrollup",
            name="spend_sun",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="hourlyorderrollup",
            name="spend_sun",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(rebuild_rollups, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="alert",
            name="kind",
            field=models.CharField(
                choices=[
                    ("low_balance", "Low balance"),
                    ("refresh_failing", "Balance refresh failing"),
                    ("ledger_discrepancy", "Ledger discrepancy"),
                    ("summary_mismatch", "itrx summary mismatch"),
                    ("cost_overrun", "Charge above the limits"),
                ],
                max_length=20,
            ),
        ),
    ]
