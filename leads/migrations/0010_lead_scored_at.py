from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0009_merge_quarantine_blacklists"),
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
