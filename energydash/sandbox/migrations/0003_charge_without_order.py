import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    """Fault knob: a placing request that charges the balance but creates no order."""

    dependencies = [("sandbox", "0002_encrypt_sandbox_credentials")]

    operations = [
        migrations.AddField(
            model_name="sandboxaccount",
            name="charge_without_order_rate",
            field=models.FloatField(
                default=0.0,
                help_text="Share of placing requests that deduct the order's cost from the "
                "balance but create no order and answer the insufficient-funds refusal: money "
                "gone, no order (the console's ledger shows a discrepancy).",
                validators=[
                    django.core.validators.MinValueValidator(0.0),
                    django.core.validators.MaxValueValidator(1.0),
                ],
            ),
        ),
        migrations.AddField(
            model_name="sandboxaccount",
            name="charge_without_order_once",
            field=models.BooleanField(
                default=False,
                help_text="The next placing request charges without an order (as above), then "
                "this switches itself off.",
            ),
        ),
    ]
