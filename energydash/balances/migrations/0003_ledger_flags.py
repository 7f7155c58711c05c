import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """Ledger findings (discrepancies, itrx summary mismatches) and their alert kinds."""

    dependencies = [
        ("balances", "0002_order_rollups"),
        ("providers", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="alert",
            name="kind",
            field=models.CharField(
                choices=[
                    ("low_balance", "Low balance"),
                    ("refresh_failing", "Balance refresh failing"),
                    ("ledger_discrepancy", "Ledger discrepancy"),
                    ("summary_mismatch", "itrx summary mismatch"),
                ],
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="LedgerFlag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("discrepancy", "Discrepancy"),
                            ("summary_mismatch", "itrx summary mismatch"),
                        ],
                        max_length=20,
                    ),
                ),
                ("key", models.CharField(max_length=64)),
                ("started_at", models.DateTimeField()),
                ("ended_at", models.DateTimeField()),
                ("amount_sun", models.BigIntegerField()),
                ("details", models.JSONField(blank=True, default=dict)),
                ("created", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="providers.provideraccount",
                    ),
                ),
                (
                    "alert",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="ledger_flags",
                        to="balances.alert",
                    ),
                ),
            ],
            options={
                "ordering": ["-started_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("account", "kind", "key"), name="ledger_flag_unique"
                    )
                ],
            },
        ),
    ]
