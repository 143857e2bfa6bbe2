from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0008_quarantine"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="scored_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="lead",
            name="score_version",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
