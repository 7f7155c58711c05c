"""BatchLine.route follows Route from api to orders: state only, the column and its foreign key
(to the unchanged table api_route) stay as they are."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("batches", "0001_batches_and_lines"),
        ("orders", "0004_route_routeattempt_from_api"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="batchline",
                    name="route",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="orders.route",
                    ),
                ),
            ],
        ),
    ]
