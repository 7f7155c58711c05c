from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_route_routeattempt_from_api")]

    operations = [
        migrations.AddField(
            model_name="order",
            name="cost_flag",
            field=models.CharField(blank=True, max_length=500),
        ),
    ]
