"""Route and RouteAttempt now belong to orders (orders 0004): the api state forgets them.

State only: their tables (api_route, api_routeattempt) and rows are kept and used by orders.
Runs after every reference to api.Route has moved (batches 0002).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_tokens_routes_webhooks"),
        ("orders", "0004_route_routeattempt_from_api"),
        ("batches", "0002_batchline_route_in_orders"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="RouteAttempt"),
                migrations.DeleteModel(name="Route"),
            ],
        ),
    ]
