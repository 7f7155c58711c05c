import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0002_account_routing_priority"),
    ]

    operations = [
        migrations.AddField(
            model_name="provideraccount",
            name="large_order_sun",
            field=models.BigIntegerField(
                blank=True,
                help_text="The new-order page asks for a second look at orders quoted above this "
                "(a warning, not a limit).",
                null=True,
                validators=[django.core.validators.MinValueValidator(1)],
                verbose_name="large-order warning (sun)",
            ),
        ),
    ]
