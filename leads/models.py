from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext_lazy as _

from leadcrm.models import TenantOwnedModel
from leads.dedup_rules import DedupAction, DedupCompareWith


def score_rank(unscored: int) -> Case:
    """The total score, or `unscored` for a lead not scored yet: below every score when sorting
    high to low (-1), above every score when sorting low to high (1000), so unscored leads come
    last either way (they have no score to rank by). The list's score orders sort by these and
    each has an index of exactly this expression (below), which PostgreSQL walks in order."""
    return Case(
        When(scored_at__isnull=True, then=Value(Decimal(unscored))),
        default=F("score_total"),
        output_field=models.DecimalField(max_digits=6, decimal_places=2),
    )


class LeadStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    FOLLOWING = "following", _("跟进中")
    CONVERTED = "converted", _("已转换")
    INVALID = "invalid", _("无效")
    RETURNED = "returned", _("已退回")
    TRANSFERRED = "transferred", _("更换给他人")
    VOIDED = "voided", _("已作废")


# Which status may follow which (SPEC §5): a lead is worked (pending → following → converted),
# handed on (returned to its pool, transferred to another rep) or closed (invalid, voided).
# Invalid and returned leads can be picked up again; voided is final.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    LeadStatus.PENDING: frozenset({"following", "converted", "invalid", "returned", "transferred", "voided"}),
    LeadStatus.FOLLOWING: frozenset({"converted", "invalid", "returned", "transferred", "voided"}),
    LeadStatus.TRANSFERRED: frozenset({"pending", "following", "converted", "invalid", "returned", "voided"}),
    LeadStatus.RETURNED: frozenset({"pending", "following", "invalid", "voided"}),
    LeadStatus.INVALID: frozenset({"pending", "voided"}),
    LeadStatus.CONVERTED: frozenset({"voided"}),
    LeadStatus.VOIDED: frozenset(),
}
STATUSES_NEEDING_REASON = frozenset({LeadStatus.INVALID, LeadStatus.VOIDED})


class OwnerChangeReason(models.TextChoices):
    """Why a lead changed hands: stored in the audit log, worded on the lead's timeline."""

    DUPLICATE_OF = "duplicate_of", _("疑似重复，沿用原线索负责人")
    CUSTOMER_OWNER = "customer_owner", _("重复进入，改为客户负责人")
    ASSIGNMENT_RULE = "assignment_rule", _("按分配规则分配")
    MANUAL = "manual", _("手动分配")
    CLAIM = "claim", _("从线索池领取")
    TRANSFER = "transfer", _("转交他人")
    RECYCLE = "recycle", _("超时未跟进，回收到线索池")
    RETURN = "return", _("退回线索池")
    MEMBER_REMOVED = "member_removed", _("负责人已停用，退回线索池")
    IDLE = "idle", _("长期未跟进，按线索池规则收回")


# Reasons the system gives a status change (the sweep's), worded on the timeline; a person's
# reason is their own text and is shown as typed.
SYSTEM_STATUS_REASONS = {
    "follow_up": _("记录了跟进"),
    "sla": _("超时未跟进"),
    "idle": _("长期未跟进，按线索池规则收回"),
}


OWNER_CHANGE_ACTION = "lead.owner_change"
DUPLICATE_NOTICE_ACTION = "lead.duplicate_notice"  # a previous owner told their lead came in again
STATUS_CHANGE_ACTION = "lead.status_change"
POOL_CHANGE_ACTION = "lead.pool_change"
# Someone asked the owner to hand the lead over (the duplicate search tool, leads/dedup_search.py).
TRANSFER_REQUEST_ACTION = "lead.transfer_request"
# The lead's score crossed a line (written by leads.score_crossings for scoring's signals).
BECAME_HOT_ACTION = "lead.became_hot"
BECAME_MATURE_ACTION = "lead.became_mature"
# A person (or an API key) changed the lead's fields: before and after per field (leads.lead_edits).
LEAD_EDIT_ACTION = "lead.edit"


class Tier(models.TextChoices):
    HOT = "hot", _("热")
    WARM = "warm", _("温")
    COLD = "cold", _("冷")


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class Lead(TenantOwnedModel):
    status = models.CharField(max_length=16, choices=LeadStatus.choices, default=LeadStatus.PENDING)
    # Lead FKs carry no single-column index: the (tenant, owner|pool, …) composites serve every
    # query, and each extra index costs on every insert (intake speed is a feature).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    pool = models.ForeignKey(
        "assignment.Pool", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    name = models.CharField(max_length=100, blank=True)
    mobile = models.CharField(max_length=20, blank=True)  # E.164
    phone = models.CharField(max_length=40, blank=True)  # E.164 when parseable, else as given
    email = models.CharField(max_length=254, blank=True)  # lower-cased
    wechat = models.CharField(max_length=64, blank=True)
    company = models.CharField(max_length=200, blank=True)
    # Company and person keys (leads.matching), written by intake's normalise stage:
    # `company_key` the core (brand + trade, "纷扬科技") for display and grouping, `company_brand`
    # the brand (字号, "纷扬") and `name_key` the contact's name key, which the duplicate look-up
    # searches by equality and prefix ranges; "C" so that a range's upper bound sorts last.
    company_key = models.CharField(max_length=200, blank=True)
    company_brand = models.CharField(max_length=100, blank=True, db_collation="C")
    name_key = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=100, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    company_size = models.CharField(max_length=50, blank=True)
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    province = models.CharField(max_length=50, blank=True)
    city = models.CharField(max_length=50, blank=True)
    source = models.CharField(max_length=50, blank=True)
    campaign = models.CharField(max_length=100, blank=True)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)
    custom = models.JSONField(default=dict, blank=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # The duplicate rule that linked this lead to what it duplicates, and the customer when a
    # customer's contact matched (SPEC §3; conversion fills customers later).
    duplicate_rule = models.ForeignKey(
        "DedupRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    duplicate_customer = models.ForeignKey(
        "Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    search_text = models.TextField(blank=True)  # name, company, phones, WeChat: one trigram index for `q`
    # Each pair of adjacent Chinese characters in the name and company: a two-character search
    # (a name like 王伟, a brand like 华为) has no trigram to look up.
    search_bigrams = ArrayField(models.CharField(max_length=2), default=list, blank=True)

    # Score, denormalised so the list filters and sorts on indexed columns. Written only by the
    # scoring app; zero until the lead is scored (see `scored_at`).
    score_total = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    score_static = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    score_dynamic = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    score_smart = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    grade = models.CharField(max_length=1, choices=Grade.choices, default=Grade.D)
    level = models.PositiveSmallIntegerField(default=3)
    tier = models.CharField(max_length=8, choices=Tier.choices, default=Tier.COLD)
    is_mature = models.BooleanField(default=False)
    # Null until the lead is first scored: "not scored" is its own state, not a D3/cold it was
    # never given. `score_version` is the rule set's version the score came from.
    scored_at = models.DateTimeField(null=True, blank=True)
    score_version = models.PositiveIntegerField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    owner_assigned_at = models.DateTimeField(null=True, blank=True)
    # The running follow-up deadline (SLA, written by assignment); null once the owner followed
    # up, or when no policy applies. The sweep reads it through its partial index.
    deadline_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "source", "external_id"],
                condition=~models.Q(external_id=""),
                name="lead_unique_external_id_per_source",
            ),
        ]
        indexes = [
            # Keyset pagination: every list order ends in id so the cursor is unique.
            models.Index(fields=["tenant", "-created_at", "-id"], name="lead_tenant_created_idx"),
            models.Index(fields=["tenant", "status", "-created_at", "-id"], name="lead_tenant_status_idx"),
            models.Index(fields=["tenant", "owner", "-created_at", "-id"], name="lead_tenant_owner_idx"),
            models.Index(fields=["tenant", "source", "-created_at", "-id"], name="lead_tenant_source_idx"),
            models.Index(fields=["tenant", "tier", "-created_at", "-id"], name="lead_tenant_tier_idx"),
            models.Index(fields=["tenant", "grade", "-created_at", "-id"], name="lead_tenant_grade_idx"),
            models.Index(F("tenant"), score_rank(-1).desc(), F("id").desc(), name="lead_tenant_score_desc_idx"),
            models.Index(F("tenant"), score_rank(1000).asc(), F("id").asc(), name="lead_tenant_score_asc_idx"),
            # "Not scored" (few, once rules are published), newest first.
            models.Index(
                fields=["tenant", "-created_at", "-id"], name="lead_tenant_unscored_idx", condition=Q(scored_at__isnull=True)
            ),
            models.Index(fields=["tenant", "pool", "-created_at", "-id"], name="lead_tenant_pool_idx"),
            models.Index(
                fields=["tenant", "deadline_at"], name="lead_tenant_deadline_idx", condition=Q(deadline_at__isnull=False)
            ),
            models.Index(fields=["tenant", "mobile"], name="lead_tenant_mobile_idx", condition=~models.Q(mobile="")),
            # Pattern ops: the same index serves the duplicate rule's equality and `q`'s prefix search.
            models.Index(
                fields=["tenant", "email"], opclasses=["int8_ops", "varchar_pattern_ops"], name="lead_tenant_email_idx",
                condition=~models.Q(email=""),
            ),
            models.Index(fields=["tenant", "wechat"], name="lead_tenant_wechat_idx", condition=~models.Q(wechat="")),
            models.Index(fields=["tenant", "phone"], name="lead_tenant_phone_idx", condition=~models.Q(phone="")),
            # Company duplicate rules: brand ranges (equal, or extended) and the contact's name
            # key; a big company has thousands of leads, so the name belongs in the index rather
            # than in a filter over every one of them. Serves the company alone too.
            models.Index(
                fields=["tenant", "company_brand", "name_key"], name="lead_tenant_brand_name_idx",
                condition=~models.Q(company_brand=""),
            ),
            models.Index(
                fields=["tenant", "duplicate_of"], name="lead_tenant_duplicate_idx", condition=Q(duplicate_of__isnull=False)
            ),
            # Small (duplicates only): deleting a rule or a customer nulls these without a scan
            # of every lead.
            models.Index(
                fields=["tenant", "duplicate_rule"], name="lead_tenant_dup_rule_idx",
                condition=Q(duplicate_rule__isnull=False),
            ),
            models.Index(
                fields=["tenant", "duplicate_customer"], name="lead_tenant_dup_customer_idx",
                condition=Q(duplicate_customer__isnull=False),
            ),
            GinIndex(
                fields=["tenant", "search_text"], opclasses=["int8_ops", "gin_trgm_ops"], name="lead_search_trgm_idx"
            ),
            GinIndex(
                fields=["tenant", "search_bigrams"], opclasses=["int8_ops", "array_ops"], name="lead_search_bigram_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.company or f"#{self.id}"

    @property
    def group(self) -> str:
        return f"{self.grade}{self.level}"

    @property
    def is_scored(self) -> bool:
        return self.scored_at is not None


class IntakeStatus(models.TextChoices):
    QUARANTINED = "quarantined", _("已隔离")
    RESTORED = "restored", _("已恢复")
    PURGED = "purged", _("已清除")


class IntakeRecord(TenantOwnedModel):
    """The intake log: every rejected submission with its payload and reason codes (隔离区)."""

    channel = models.CharField(max_length=20)  # api, bulk, import, form, manual
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    reasons = ArrayField(models.CharField(max_length=64), default=list)
    status = models.CharField(max_length=16, choices=IntakeStatus.choices, default=IntakeStatus.QUARANTINED)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey("tenancy.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Restore (leads/quarantine.py): the pipeline re-run with `waived_reasons` waived; `lead` is
    # the lead it created, was collected into, or updated (`restore_outcome`).
    restored_at = models.DateTimeField(null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    waived_reasons = ArrayField(models.CharField(max_length=64), default=list, blank=True, db_default=[])
    restore_outcome = models.CharField(max_length=16, blank=True, default="", db_default="")
    # Purge: the payload's personal data is gone; reasons, channel and time stay for the counts.
    purged_at = models.DateTimeField(null=True, blank=True)
    purged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta(TenantOwnedModel.Meta):
        indexes = [
            models.Index(fields=["tenant", "status", "-created_at"], name="intake_tenant_status_idx"),
            # The quarantine list and the API, newest first across statuses (keyset on created_at, id).
            models.Index(fields=["tenant", "-created_at", "-id"], name="intake_tenant_created_idx"),
        ]


class LeadSubmission(TenantOwnedModel):
    """A submission collected (归集) into an existing lead: the lead is not duplicated, but
    what arrived, and from where, is kept."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=20)
    rule = models.CharField(max_length=100)  # the rule's name when it matched (kept if the rule goes)
    dedup_rule = models.ForeignKey("DedupRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField(encoder=DjangoJSONEncoder)

    class Meta(TenantOwnedModel.Meta):
        indexes = [models.Index(fields=["tenant", "lead", "-created_at"], name="submission_tenant_lead_idx")]


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("文本")
    NUMBER = "number", _("数字")
    BOOLEAN = "boolean", _("是/否")
    DATE = "date", _("日期")
    CHOICE = "choice", _("单选")


class CustomField(TenantOwnedModel):
    """A per-tenant custom lead field; `Lead.custom` is validated against these."""

    key = models.SlugField(max_length=50)
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=16, choices=CustomFieldType.choices, default=CustomFieldType.TEXT)
    choices = models.JSONField(default=list, blank=True)
    is_required = models.BooleanField(default=False)

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="customfield_unique_key_per_tenant")]


class ContactLock(TenantOwnedModel):
    """A contact (mobile, e-mail, source + external id) that a transaction is taking in right
    now, as a 64-bit hash. Intake inserts its contacts' rows before it looks for duplicates and
    deletes them before it commits: a second transaction inserting the same contact waits on
    the unique key until the first ends, then sees its lead. The table is empty between
    transactions and UNLOGGED (nothing in it outlives a crash that matters).

    A row lock rather than PostgreSQL advisory locks because a 1000-lead batch needs up to
    3000 of them, and the server's shared lock table (64 per connection by default) ran out
    with a handful of bulk calls at once."""

    pk = models.CompositePrimaryKey("tenant_id", "key")
    # No foreign key constraint: checking it would cost a query per row, for rows that live
    # a few milliseconds.
    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    key = models.BigIntegerField()
    created_at = None  # type: ignore[assignment]  # drops the inherited field (Django's idiom)
    updated_at = None  # type: ignore[assignment]  # drops the inherited field


# --- cleansing rules (SPEC §3): per-tenant blacklists, sensitive words and what a hit does ---------


class BlacklistKind(models.TextChoices):
    """The kinds of `leads.cleansing.BLACKLIST_KINDS`; a hit quarantines with `blacklist.<kind>`."""

    PHONE = "phone", _("电话")
    EMAIL = "email", _("邮箱")
    EMAIL_DOMAIN = "email_domain", _("邮箱域名")
    COMPANY = "company", _("公司")
    KEYWORD = "keyword", _("关键词")


class BlacklistEntry(TenantOwnedModel):
    """One blacklisted phone, e-mail, e-mail domain, company or keyword. `value` is the entry as
    `blacklist_entry_normalise` stores it (E.164, lower-case …), so "138 1234 5678" and
    "+8613812345678" are one entry; `original` is what the admin typed."""

    kind = models.CharField(max_length=16, choices=BlacklistKind.choices)
    value = models.TextField()
    original = models.CharField(max_length=300)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind", "value"], name="blacklist_unique_value_per_kind"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="blacklist_tenant_created_idx"),
            models.Index(fields=["tenant", "kind", "-created_at", "-id"], name="blacklist_tenant_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class SensitiveWordCategory(models.TextChoices):
    """A tenant word's category: its own (`custom`), one of the built-in lexicon's, or `allow`:
    an exception that cancels the hits inside it (a product name holding a listed word)."""

    CUSTOM = "custom", _("自定义")
    GAMBLING = "gambling", _("赌博")
    PORNOGRAPHY = "pornography", _("色情")
    FRAUD = "fraud", _("诈骗")
    INVOICE = "invoice", _("发票")
    WEAPONS = "weapons", _("武器")
    DRUGS = "drugs", _("毒品")
    POLITICAL = "political", _("政治")
    PROFANITY = "profanity", _("辱骂")
    ALLOW = "allow", _("例外（不拦截）")


class SensitiveWord(TenantOwnedModel):
    """A tenant's own sensitive word, matched with the built-in lexicon in every scanned field.
    `word` is normalised for matching (`sensitive_word_normalise`); `original` as typed."""

    word = models.TextField()
    original = models.CharField(max_length=200)
    category = models.CharField(max_length=16, choices=SensitiveWordCategory.choices, default=SensitiveWordCategory.CUSTOM)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "word"], name="sensitiveword_unique_per_tenant")]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="sensitiveword_created_idx"),
            models.Index(fields=["tenant", "category", "-created_at", "-id"], name="sensitiveword_category_idx"),
        ]

    def __str__(self) -> str:
        return self.word


class SensitiveAction(models.TextChoices):
    QUARANTINE = "quarantine", _("隔离")
    FLAG = "flag", _("放行并标记")


class CleansingPolicy(TenantOwnedModel):
    """A tenant's cleansing settings, one row per tenant (installed with the tenant's defaults).

    The versions are the per-process matcher caches' keys (leads.cleansing): every change to the
    blacklist bumps `blacklist_version`, every change to the words or to `use_builtin_words`
    `words_version`, and every change of any kind `version`, in the transaction that makes it,
    under this row's lock. Two counters rather than one, so adding a phone number does not
    rebuild a 100,000-word automaton (≈2 s) in every process."""

    sensitive_action = models.CharField(max_length=16, choices=SensitiveAction.choices, default=SensitiveAction.QUARANTINE)
    use_builtin_words = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=0)
    blacklist_version = models.PositiveIntegerField(default=0)
    words_version = models.PositiveIntegerField(default=0)

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant"], name="cleansingpolicy_one_per_tenant")]

    def __str__(self) -> str:
        return f"cleansing policy v{self.version}"


# --- duplicate rules, company aliases, customers and contacts (SPEC §3) ------------------------


class DedupRule(TenantOwnedModel):
    """One of a tenant's ordered duplicate rules (leads.dedup_rules describes them)."""

    position = models.PositiveIntegerField()
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    compare_with = models.CharField(max_length=16, choices=DedupCompareWith.choices, default=DedupCompareWith.LEADS)
    conditions = ArrayField(models.CharField(max_length=16))
    window_days = models.PositiveIntegerField(null=True, blank=True)  # None: any time
    action = models.CharField(max_length=24, choices=DedupAction.choices)

    class Meta(TenantOwnedModel.Meta):
        # Not unique on position: a reorder rewrites several positions in one statement.
        indexes = [models.Index(fields=["tenant", "position"], name="deduprule_tenant_position_idx")]

    def __str__(self) -> str:
        return self.name


class DedupConfig(TenantOwnedModel):
    """A tenant's dedup configuration version: bumped in the transaction of every change to its
    rules or company aliases. Intake reads it (one small query per batch) and keeps the compiled
    rules and alias index per (tenant, version), so a change takes effect at once everywhere."""

    version = models.PositiveBigIntegerField(default=1)

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant"], name="dedupconfig_unique_per_tenant")]


class CompanyAlias(TenantOwnedModel):
    """A brand or product name standing for a company ("纷享销客" → "北京纷扬科技有限公司")."""

    alias = models.CharField(max_length=200)
    company = models.CharField(max_length=200)
    alias_key = models.CharField(max_length=200)  # leads.matching.alias_key(alias)

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "alias_key"], name="companyalias_unique_key_per_tenant")]

    def __str__(self) -> str:
        return f"{self.alias} → {self.company}"


class Customer(TenantOwnedModel):
    """A customer company (客户); conversion of a lead fills these, with their contacts."""

    name = models.CharField(max_length=200)
    company_key = models.CharField(max_length=200, blank=True)  # as on Lead
    company_brand = models.CharField(max_length=100, blank=True, db_collation="C")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(TenantOwnedModel.Meta):
        indexes = [
            models.Index(fields=["tenant", "company_brand"], name="customer_tenant_brand_idx", condition=~Q(company_brand="")),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TenantOwnedModel):
    """A person at a customer; duplicate rules comparing "contacts" match these."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=100, blank=True)
    name_key = models.CharField(max_length=100, blank=True)
    mobile = models.CharField(max_length=20, blank=True)  # E.164
    phone = models.CharField(max_length=40, blank=True)
    email = models.CharField(max_length=254, blank=True)
    wechat = models.CharField(max_length=64, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(TenantOwnedModel.Meta):
        indexes = [
            models.Index(fields=["tenant", "customer", "name_key"], name="contact_tenant_customer_idx"),
            models.Index(fields=["tenant", "mobile"], name="contact_tenant_mobile_idx", condition=~Q(mobile="")),
            models.Index(fields=["tenant", "email"], name="contact_tenant_email_idx", condition=~Q(email="")),
            models.Index(fields=["tenant", "wechat"], name="contact_tenant_wechat_idx", condition=~Q(wechat="")),
            models.Index(fields=["tenant", "phone"], name="contact_tenant_phone_idx", condition=~Q(phone="")),
        ]

    def __str__(self) -> str:
        return self.name or self.mobile or self.email or f"#{self.id}"


# --- saved views of the lead list ----------------------------------------------------------------

SAVED_VIEW_NAME_MAX_LENGTH = 60


class SavedViewSharing(models.TextChoices):
    PRIVATE = "private", _("仅自己")
    TEAM = "team", _("我的团队")
    TENANT = "tenant", _("全公司")


class SavedView(TenantOwnedModel):
    """A lead list someone saved: its filters and ordering (the list's query string, each name
    with its list of values), its columns, and who else may pick it. A viewer still sees only
    the leads they may see: the view stores a question, never its answer."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=SAVED_VIEW_NAME_MAX_LENGTH)
    query = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(default=list, blank=True)
    shared_with = models.CharField(max_length=8, choices=SavedViewSharing.choices, default=SavedViewSharing.PRIVATE)

    class Meta(TenantOwnedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "owner", "name"], name="savedview_unique_name_per_owner")
        ]
        indexes = [
            models.Index(fields=["tenant", "owner"], name="savedview_tenant_owner_idx"),
            models.Index(
                fields=["tenant", "shared_with"], name="savedview_tenant_shared_idx",
                condition=~Q(shared_with="private"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SavedViewDefault(TenantOwnedModel):
    """The saved view a member's lead list opens with (their own or one shared with them)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    view = models.ForeignKey(SavedView, on_delete=models.CASCADE, related_name="+")

    class Meta(TenantOwnedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="savedviewdefault_unique_user")]
        indexes = [models.Index(fields=["tenant", "view"], name="savedviewdefault_view_idx")]
