# Duplicate rules per tenant (SPEC §3): the rules, the dedup configuration version, company
# aliases, customers and contacts; the lead's matching keys and the rule that linked it. The
# brand look-up index is built by 0009, after the keys are filled in, rather than row by row.

import django.contrib.postgres.fields
import django.db.models.deletion
import django.db.models.manager
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assignment', '0001_initial'),
        ('leads', '0007_contact_lock'),
        ('tenancy', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CompanyAlias',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('alias', models.CharField(max_length=200)),
                ('company', models.CharField(max_length=200)),
                ('alias_key', models.CharField(max_length=200)),
            ],
            options={
                'abstract': False,
                'default_manager_name': 'all_tenants',
            },
            managers=[
                ('all_tenants', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='Contact',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('name', models.CharField(blank=True, max_length=100)),
                ('name_key', models.CharField(blank=True, max_length=100)),
                ('mobile', models.CharField(blank=True, max_length=20)),
                ('phone', models.CharField(blank=True, max_length=40)),
                ('email', models.CharField(blank=True, max_length=254)),
                ('wechat', models.CharField(blank=True, max_length=64)),
            ],
            options={
                'abstract': False,
                'default_manager_name': 'all_tenants',
            },
            managers=[
                ('all_tenants', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='Customer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('name', models.CharField(max_length=200)),
                ('company_key', models.CharField(blank=True, max_length=200)),
                ('company_brand', models.CharField(blank=True, db_collation='C', max_length=100)),
            ],
            options={
                'abstract': False,
                'default_manager_name': 'all_tenants',
            },
            managers=[
                ('all_tenants', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='DedupConfig',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('version', models.PositiveBigIntegerField(default=1)),
            ],
            options={
                'abstract': False,
                'default_manager_name': 'all_tenants',
            },
            managers=[
                ('all_tenants', django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name='DedupRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('position', models.PositiveIntegerField()),
                ('name', models.CharField(max_length=100)),
                ('is_active', models.BooleanField(default=True)),
                ('compare_with', models.CharField(choices=[('leads', '已有线索'), ('contacts', '客户联系人'), ('both', '线索和客户联系人')], default='leads', max_length=16)),
                ('conditions', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=16), size=None)),
                ('window_days', models.PositiveIntegerField(blank=True, null=True)),
                ('action', models.CharField(choices=[('route_to_owner', '新建并交给原负责人跟进'), ('assign', '新建并按分配规则分配'), ('collect', '归集到源线索（不新建）'), ('update_and_reown', '更新原记录并改为客户负责人'), ('tag', '仅标记为重复')], max_length=24)),
            ],
            options={
                'abstract': False,
                'default_manager_name': 'all_tenants',
            },
            managers=[
                ('all_tenants', django.db.models.manager.Manager()),
            ],
        ),
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_tenant_company_name_idx',
        ),
        migrations.AddField(
            model_name='lead',
            name='company_brand',
            field=models.CharField(blank=True, db_collation='C', max_length=100),
        ),
        migrations.AddField(
            model_name='lead',
            name='name_key',
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AlterField(
            model_name='leadsubmission',
            name='rule',
            field=models.CharField(max_length=100),
        ),
        migrations.AddField(
            model_name='companyalias',
            name='tenant',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
        ),
        migrations.AddField(
            model_name='contact',
            name='owner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='contact',
            name='tenant',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
        ),
        migrations.AddField(
            model_name='customer',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='customer',
            name='owner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='customer',
            name='tenant',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
        ),
        migrations.AddField(
            model_name='contact',
            name='customer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='leads.customer'),
        ),
        migrations.AddField(
            model_name='lead',
            name='duplicate_customer',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='leads.customer'),
        ),
        migrations.AddField(
            model_name='dedupconfig',
            name='tenant',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
        ),
        migrations.AddField(
            model_name='deduprule',
            name='tenant',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
        ),
        migrations.AddField(
            model_name='lead',
            name='duplicate_rule',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='leads.deduprule'),
        ),
        migrations.AddField(
            model_name='leadsubmission',
            name='dedup_rule',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='leads.deduprule'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('phone', ''), _negated=True), fields=['tenant', 'phone'], name='lead_tenant_phone_idx'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('duplicate_rule__isnull', False)), fields=['tenant', 'duplicate_rule'], name='lead_tenant_dup_rule_idx'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('duplicate_customer__isnull', False)), fields=['tenant', 'duplicate_customer'], name='lead_tenant_dup_customer_idx'),
        ),
        migrations.AddConstraint(
            model_name='companyalias',
            constraint=models.UniqueConstraint(fields=('tenant', 'alias_key'), name='companyalias_unique_key_per_tenant'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(condition=models.Q(('company_brand', ''), _negated=True), fields=['tenant', 'company_brand'], name='customer_tenant_brand_idx'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(fields=['tenant', 'customer', 'name_key'], name='contact_tenant_customer_idx'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('mobile', ''), _negated=True), fields=['tenant', 'mobile'], name='contact_tenant_mobile_idx'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('email', ''), _negated=True), fields=['tenant', 'email'], name='contact_tenant_email_idx'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('wechat', ''), _negated=True), fields=['tenant', 'wechat'], name='contact_tenant_wechat_idx'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(condition=models.Q(('phone', ''), _negated=True), fields=['tenant', 'phone'], name='contact_tenant_phone_idx'),
        ),
        migrations.AddConstraint(
            model_name='dedupconfig',
            constraint=models.UniqueConstraint(fields=('tenant',), name='dedupconfig_unique_per_tenant'),
        ),
        migrations.AddIndex(
            model_name='deduprule',
            index=models.Index(fields=['tenant', 'position'], name='deduprule_tenant_position_idx'),
        ),
    ]
