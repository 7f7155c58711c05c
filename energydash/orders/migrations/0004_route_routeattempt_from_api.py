"""Route and RouteAttempt move from the api app to orders (routing belongs to orders).

State only: the tables keep their names (api_route, api_routeattempt) and their rows, so
nothing is copied and nothing is locked. The content types are relabelled api -> orders, so
permissions already granted on them (the admin role's) and admin history follow the models.
Paired with batches 0002 (BatchLine.route follows) and api 0002 (the api state forgets them).
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

MODELS = ("route", "routeattempt")


def _relabel(apps, schema_editor, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            continue  # already there (created by a post_migrate): the old row is merely stale
        ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)
    ContentType.objects.clear_cache()


def forwards(apps, schema_editor):
    _relabel(apps, schema_editor, "api", "orders")


def backwards(apps, schema_editor):
    _relabel(apps, schema_editor, "orders", "api")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_list_and_dashboard_indexes"),
        ("providers", "0003_account_large_order_warning"),
        ("api", "0001_tokens_routes_webhooks"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Route",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("key", models.CharField(max_length=100, unique=True)),
                        ("body_hash", models.CharField(max_length=64)),
                        ("via", models.CharField(max_length=40)),
                        ("kind", models.CharField(default="energy", max_length=16)),
                        ("receive_address", models.CharField(max_length=34)),
                        ("energy", models.PositiveIntegerField(blank=True, null=True)),
                        ("period", models.CharField(blank=True, max_length=8)),
                        ("activate", models.BooleanField(default=False)),
                        ("max_cost_sun", models.BigIntegerField(blank=True, null=True)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Routing"),
                                    ("placed", "Placed"),
                                    ("failed", "Refused everywhere (nothing charged)"),
                                    ("unknown", "Outcome unknown: reconciling, no failover"),
                                ],
                                default="pending",
                                max_length=16,
                            ),
                        ),
                        ("problem", models.TextField(blank=True)),
                        ("claimed_until", models.DateTimeField(blank=True, null=True)),
                        (
                            "created",
                            models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                        ),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "account",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="providers.provideraccount",
                            ),
                        ),
                        (
                            "order",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="orders.order",
                            ),
                        ),
                        (
                            "token",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="routes",
                                to="api.apitoken",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "api_route",
                        "ordering": ["-created", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="RouteAttempt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("number", models.PositiveSmallIntegerField()),
                        ("price_sun", models.BigIntegerField(blank=True, null=True)),
                        (
                            "outcome",
                            models.CharField(
                                choices=[
                                    ("accepted", "Accepted"),
                                    ("not_sent", "Refused before sending"),
                                    ("rejected", "Rejected by the provider"),
                                    ("unavailable", "Provider unavailable"),
                                    ("unknown", "No usable answer"),
                                    ("failed", "Failed after acceptance"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("message", models.TextField(blank=True)),
                        ("created", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "account",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="providers.provideraccount",
                            ),
                        ),
                        (
                            "order",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="route_attempts",
                                to="orders.order",
                            ),
                        ),
                        (
                            "route",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="attempts",
                                to="orders.route",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "api_routeattempt",
                        "ordering": ["route", "number"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("route", "number"), name="routeattempt_unique_number"
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
