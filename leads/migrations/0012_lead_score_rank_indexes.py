# The list's score orders put leads not scored yet last (leads.models.score_rank): one index of
# each sort expression replaces the plain (tenant, -score_total, -id) one, and a small partial
# index serves the "not scored" filter. Built concurrently: leads_lead is the big table.

from decimal import Decimal
from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('assignment', '0001_initial'),
        ('leads', '0011_merge_dedup_scoring'),
        ('tenancy', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='lead',
            index=models.Index(models.F('tenant'), models.OrderBy(models.Case(models.When(scored_at__isnull=True, then=models.Value(Decimal('-1'))), default=models.F('score_total'), output_field=models.DecimalField(decimal_places=2, max_digits=6)), descending=True), models.OrderBy(models.F('id'), descending=True), name='lead_tenant_score_desc_idx'),
        ),
        AddIndexConcurrently(
            model_name='lead',
            index=models.Index(models.F('tenant'), models.OrderBy(models.Case(models.When(scored_at__isnull=True, then=models.Value(Decimal('1000'))), default=models.F('score_total'), output_field=models.DecimalField(decimal_places=2, max_digits=6))), models.OrderBy(models.F('id')), name='lead_tenant_score_asc_idx'),
        ),
        AddIndexConcurrently(
            model_name='lead',
            index=models.Index(condition=models.Q(('scored_at__isnull', True)), fields=['tenant', '-created_at', '-id'], name='lead_tenant_unscored_idx'),
        ),
        RemoveIndexConcurrently(
            model_name='lead',
            name='lead_tenant_score_idx',
        ),
    ]
