"""Demo data (SPEC §0): a seeded tenant with realistic Chinese-market leads.

`demo_seed()` creates the tenant `demo` once — owner, manager, reps in teams, pools, a few
thousand leads, a quarantine with rejected submissions — and on later runs changes nothing
and only returns the log-ins again. `python manage.py seed_demo` is a thin wrapper.

Speed matters (it runs on the first `make demo` start; ~2 s for 3000 leads): a few hundred
leads go through the real intake pipeline (`lead_intake_many`), then get their lifecycle
(created_at — `auto_now_add` ignores given values —, owner, status, pool, score) from one
set-based UPDATE. The rest are built with the same normalisation (`normalise_lead`,
`search_text`) and inserted, lifecycle included, by one INSERT … SELECT over a JSON parameter.
The ownership audit trail is one INSERT … SELECT too. Scores are plausible placeholders
consistent with the default thresholds (API.md); the scoring engine recomputes them.

Content is deterministic for a given seed (`random.Random(seed)`, `Faker.seed_instance`);
timestamps are relative to the time of the run.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from faker import Faker

from assignment.models import Pool
from leadcrm.db import insert_many
from leadcrm.tenancy.models import AuditLog, Membership, Role, Tenant
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import membership_create, tenant_create, user_get_or_create
from leads.models import IntakeRecord, Lead, LeadStatus, LeadSubmission
from leads.normalization import is_fake_mobile, normalise_lead, parse_phone, search_columns, split_region
from leads.services import lead_intake_many

DEMO_SLUG = "demo"
DEMO_NAME = "演示科技有限公司"
DEMO_DOMAIN = "demo.leadcrm.local"
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
ADMIN_PASSWORD = "demo-admin-2026"
MANAGER_EMAIL = f"manager@{DEMO_DOMAIN}"
STAFF_PASSWORD = "demo-rep-2026"  # manager and every rep
DEFAULT_LEADS = 3000
DEFAULT_SEED = 2026
HISTORY_DAYS = 180
PIPELINE_LEADS_MAX = 300  # this many go through lead_intake_many; the rest are bulk-built

MANAGER = ("周婷", "销售部")
# (display name, team); rep1 … rep8 in this order
REPS = (
    ("张伟", "华东一组"), ("李娜", "华东一组"), ("王磊", "华东一组"),
    ("刘洋", "华南组"), ("陈静", "华南组"),
    ("杨帆", "华北组"), ("赵敏", "华北组"),
    ("黄俊", "大客户组"),
)
EXTRA_POOLS = (
    ("华东线索池", "上海、江苏、浙江、安徽、福建、江西、山东的未分配线索"),
    ("展会线索池", "展会与线下活动收集的名片线索"),
)

REGION_TEAMS = {
    "华东一组": {"上海市", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省"},
    "华南组": {"广东省", "广西壮族自治区", "海南省"},
    "华北组": {"北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省"},
}
EAST_CHINA = REGION_TEAMS["华东一组"]

# --- vocabulary --------------------------------------------------------------------------------
SURNAMES = (  # (surname, pinyin, weight)
    ("王", "wang", 10), ("李", "li", 10), ("张", "zhang", 9), ("刘", "liu", 7), ("陈", "chen", 7), ("杨", "yang", 5),
    ("黄", "huang", 4), ("赵", "zhao", 4), ("吴", "wu", 4), ("周", "zhou", 4), ("徐", "xu", 3), ("孙", "sun", 3),
    ("马", "ma", 3), ("朱", "zhu", 3), ("胡", "hu", 3), ("郭", "guo", 3), ("何", "he", 3), ("高", "gao", 2),
    ("林", "lin", 2), ("罗", "luo", 2), ("郑", "zheng", 2), ("梁", "liang", 2), ("谢", "xie", 2), ("宋", "song", 2),
    ("唐", "tang", 2), ("许", "xu", 2), ("韩", "han", 2), ("冯", "feng", 2), ("邓", "deng", 2), ("曹", "cao", 2),
    ("彭", "peng", 1), ("曾", "zeng", 1), ("肖", "xiao", 1), ("田", "tian", 1), ("董", "dong", 1), ("袁", "yuan", 1),
    ("潘", "pan", 1), ("蒋", "jiang", 1), ("蔡", "cai", 1), ("余", "yu", 1), ("杜", "du", 1), ("叶", "ye", 1),
    ("程", "cheng", 1), ("魏", "wei", 1), ("苏", "su", 1), ("吕", "lv", 1), ("丁", "ding", 1), ("沈", "shen", 1),
    ("欧阳", "ouyang", 0.3), ("司马", "sima", 0.1),
)
BRANDS = (  # 字号 with pinyin for the company web domain
    ("华信", "huaxin"), ("博远", "boyuan"), ("中科", "zhongke"), ("恒通", "hengtong"), ("瑞丰", "ruifeng"),
    ("天成", "tiancheng"), ("鼎盛", "dingsheng"), ("正泰", "zhengtai"), ("宏图", "hongtu"), ("远景", "yuanjing"),
    ("新元", "xinyuan"), ("聚能", "juneng"), ("凯达", "kaida"), ("汇智", "huizhi"), ("云启", "yunqi"),
    ("明德", "mingde"), ("安信", "anxin"), ("金桥", "jinqiao"), ("众诚", "zhongcheng"), ("卓越", "zhuoyue"),
    ("同创", "tongchuang"), ("海纳", "haina"), ("启明", "qiming"), ("盛世", "shengshi"), ("嘉禾", "jiahe"),
    ("永信", "yongxin"), ("华拓", "huatuo"), ("优品", "youpin"), ("星河", "xinghe"), ("智远", "zhiyuan"),
    ("立达", "lida"), ("德润", "derun"), ("光华", "guanghua"), ("蓝海", "lanhai"), ("东方", "dongfang"),
    ("九州", "jiuzhou"), ("信达", "xinda"), ("睿思", "ruisi"), ("万象", "wanxiang"), ("精工", "jinggong"),
    ("锐捷", "ruijie"), ("长风", "changfeng"), ("泰和", "taihe"), ("科远", "keyuan"), ("弘毅", "hongyi"),
    ("巨石", "jushi"), ("康泰", "kangtai"), ("禾丰", "hefeng"), ("佳诚", "jiacheng"), ("晨光", "chenguang"),
    ("融通", "rongtong"), ("百川", "baichuan"), ("鑫源", "xinyuan"), ("致远", "zhiyuan"), ("领航", "linghang"),
    ("中鼎", "zhongding"), ("华夏", "huaxia"), ("天顺", "tianshun"), ("坤元", "kunyuan"), ("易达", "yida"),
)
INDUSTRIES = {  # industry: (weight, words used in company names)
    "制造业": (22, ("机械制造", "精密机械", "电子", "新材料", "模具", "自动化设备", "化工")),
    "软件/互联网": (18, ("科技", "信息技术", "网络科技", "软件", "数据科技", "智能科技")),
    "零售": (10, ("商贸", "贸易", "电子商务", "连锁超市", "供应链")),
    "医疗": (9, ("医疗器械", "生物科技", "医药", "健康科技")),
    "教育": (8, ("教育科技", "培训", "文化传播")),
    "金融": (8, ("投资管理", "融资租赁", "资产管理", "保险代理")),
    "物流": (8, ("物流", "供应链管理", "国际货运代理", "速运")),
    "房地产": (5, ("置业", "房地产开发", "物业服务")),
    "汽车": (5, ("汽车零部件", "汽车销售服务", "新能源汽车")),
    "能源": (4, ("新能源", "能源科技", "光伏科技")),
    "餐饮": (3, ("餐饮管理", "食品")),
}
LEGAL_FORMS = (("有限公司", 68), ("股份有限公司", 14), ("集团有限公司", 8), ("有限责任公司", 10))
SIZES = (("1-49", 34), ("50-199", 30), ("200-999", 23), ("1000+", 13))
REVENUE_RANGE = {  # 万元
    "1-49": (50, 2_000), "50-199": (1_000, 20_000), "200-999": (10_000, 200_000), "1000+": (100_000, 5_000_000),
}
TITLES = (  # (title, weight, decision maker)
    ("总经理", 8, True), ("副总经理", 4, True), ("董事长", 2, True), ("CEO", 2, True), ("采购总监", 5, True),
    ("技术总监", 4, True), ("CTO", 2, True), ("市场总监", 4, True), ("销售总监", 4, True), ("运营总监", 2, True),
    ("采购经理", 7, False), ("IT经理", 7, False), ("信息中心主任", 3, False), ("销售经理", 7, False),
    ("市场经理", 5, False), ("产品经理", 4, False), ("运营主管", 4, False), ("财务经理", 3, False),
    ("人事经理", 3, False), ("行政主管", 3, False), ("工程师", 5, False), ("市场专员", 6, False),
    ("销售代表", 4, False), ("采购专员", 4, False), ("助理", 3, False), ("学生", 2, False),
)
SOURCES = (
    ("官网", 20), ("百度推广", 17), ("抖音", 15), ("公众号", 12), ("展会", 12), ("线下活动", 8), ("客户转介绍", 9),
    ("知乎", 7),
)
ONLINE_SOURCES = {"官网", "百度推广", "抖音", "公众号", "知乎"}
CITY_AREA_CODES = {"北京市": "10", "上海市": "21", "天津市": "22", "重庆市": "23", "广州市": "20", "深圳市": "755",
                   "杭州市": "571", "南京市": "25", "苏州市": "512", "成都市": "28", "武汉市": "27", "西安市": "29"}
NOTES = (  # Chinese text takes full-width punctuation (RUF001)
    "咨询私有化部署报价", "需要对接企业微信和钉钉", "预算30万左右，计划下季度采购", "想了解线索自动分配功能",  # noqa: RUF001
    "已有CRM，考虑替换", "要求提供同行业案例", "希望安排线上演示", "关注数据安全与等保", "销售团队约50人",  # noqa: RUF001
    "需要API对接自有系统", "只是了解一下，暂无预算", "老板要求月底前选型", "对比了纷享销客和销售易",  # noqa: RUF001
    "需要移动端支持", "希望试用两周",
)
FOLLOW_TAGS = ("已加微信", "高意向", "需回访", "预算明确", "决策人", "竞品客户")
INVALID_TAGS = ("空号", "无购买意向", "同行", "联系不上", "个人用户")
MOBILE_PREFIXES = (  # real CN mobile prefixes; the 8 digits after them are random
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156",
    "157", "158", "159", "166", "170", "171", "172", "173", "175", "176", "177", "178", "180", "181", "182", "183",
    "184", "185", "186", "187", "188", "189", "191", "193", "195", "198", "199",
)
FREE_MAIL = ("163.com", "126.com", "sina.com", "foxmail.com", "139.com", "sohu.com")


def _weighted(rng: random.Random, pairs: Any) -> Any:
    items = list(pairs)
    return rng.choices([p[0] for p in items], weights=[p[1] for p in items])[0]


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    name: str
    team: str = ""


@dataclass
class DemoResult:
    tenant: Tenant
    created: bool
    logins: list[DemoLogin]
    api_key: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def demo_logins(tenant: Tenant) -> list[DemoLogin]:
    """Who can log in to the demo tenant (passwords are the fixed demo ones)."""
    order = {Role.OWNER: 0, Role.ADMIN: 1, Role.MANAGER: 2, Role.REP: 3, Role.READ_ONLY: 4}
    with tenant_scope(tenant.id):
        memberships = list(Membership.objects.select_related("user").filter(is_active=True))
    memberships.sort(key=lambda m: (order.get(m.role, 9), len(m.user.email), m.user.email))
    return [
        DemoLogin(
            role=m.role, email=m.user.email, name=m.display_name, team=m.team,
            password=ADMIN_PASSWORD if m.role in (Role.OWNER, Role.ADMIN) else STAFF_PASSWORD,
        )
        for m in memberships
    ]


def demo_seed(*, leads: int = DEFAULT_LEADS, seed: int = DEFAULT_SEED, now: datetime | None = None) -> DemoResult:
    """Create the demo tenant with its data, or, when it exists, change nothing."""
    started = time.perf_counter()
    existing = Tenant.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return DemoResult(tenant=existing, created=False, logins=demo_logins(existing),
                          seconds=time.perf_counter() - started)
    try:
        with transaction.atomic():  # all or nothing: a failed seed leaves no half tenant behind
            created = tenant_create(
                slug=DEMO_SLUG, name=DEMO_NAME, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD,
                with_api_key=True,
            )
            tenant = created.tenant
            with tenant_scope(tenant.id):
                counts = _Seeder(tenant=tenant, owner=created.owner.user, leads=leads, seed=seed, now=now).run()
    except (ValidationError, IntegrityError):
        # another process seeded it meanwhile (two starts at once): theirs stands
        existing = Tenant.objects.filter(slug=DEMO_SLUG).first()
        if existing is None:
            raise
        return DemoResult(tenant=existing, created=False, logins=demo_logins(existing),
                          seconds=time.perf_counter() - started)
    return DemoResult(
        tenant=tenant, created=True, logins=demo_logins(tenant),
        api_key=created.api_key.raw_key if created.api_key else None, counts=counts,
        seconds=time.perf_counter() - started,
    )


@dataclass
class _Plan:
    """One lead: what arrives (payload) and what happened to it since (lifecycle, score)."""

    payload: dict[str, Any]
    created_at: datetime
    status: str
    owner_id: int | None
    pool_id: int
    owner_assigned_at: datetime | None
    last_activity_at: datetime | None
    static: float
    dynamic: float
    tags: list[str]
    lead_id: int | None = None


class _Seeder:
    def __init__(self, *, tenant: Tenant, owner: User, leads: int, seed: int, now: datetime | None) -> None:
        self.tenant = tenant
        self.owner = owner
        self.n = max(0, leads)
        self.rng = random.Random(seed)
        self.faker = Faker("zh_CN")
        self.faker.seed_instance(seed)
        self.now = now or timezone.now()
        self.tz = ZoneInfo(tenant.timezone or "Asia/Shanghai")
        self.used_mobiles: set[str] = set()
        self.used_emails: set[str] = set()
        self.external_ids = 0

    # --- people and pools --------------------------------------------------------------------
    def _staff(self) -> None:
        hashed = make_password(STAFF_PASSWORD)  # hashed once, not once per user: Argon2 is slow on purpose
        staff = [(MANAGER_EMAIL, *MANAGER, Role.MANAGER)] + [
            (f"rep{i}@{DEMO_DOMAIN}", name, team, Role.REP) for i, (name, team) in enumerate(REPS, start=1)
        ]
        self.reps: list[User] = []
        self.rep_team: dict[int, str] = {}
        new_users: list[int] = []
        for email, name, team, role in staff:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = user_get_or_create(email=email, password=None, name=name)
                new_users.append(user.id)
            membership_create(tenant=self.tenant, user=user, role=role, display_name=name, team=team,
                              created_by=self.owner)
            if role == Role.REP:
                self.reps.append(user)
                self.rep_team[user.id] = team
        User.objects.filter(id__in=new_users).update(password=hashed)
        self.team_reps: dict[str, list[User]] = {}
        for rep in self.reps:
            self.team_reps.setdefault(self.rep_team[rep.id], []).append(rep)
        self.regional_reps = [rep for rep in self.reps if self.rep_team[rep.id] != "大客户组"]

    def _pools(self) -> None:
        self.default_pool = Pool.objects.get(is_default=True)
        self.pools = {name: Pool.objects.create(tenant=self.tenant, name=name, description=description)
                      for name, description in EXTRA_POOLS}

    # --- one lead --------------------------------------------------------------------------------
    def _mobile(self) -> tuple[str, str, str]:
        """A fresh valid CN mobile whose number block has a known province/city (手机号属地)."""
        rng = self.rng
        while True:
            number = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"
            if number in self.used_mobiles or is_fake_mobile(number):
                continue
            parsed = parse_phone(number)
            if parsed is None or not parsed.is_valid or not parsed.is_mobile:
                continue
            province, city = split_region(parsed.region_text)
            if not city or not province.endswith(("省", "市", "自治区")):
                continue  # the number block is only known as "中国"
            self.used_mobiles.add(number)
            return number, province, city

    def _created_at(self) -> datetime:
        """Spread over the last HISTORY_DAYS, more recent than old, mostly on working hours."""
        rng = self.rng
        while True:
            days_ago = HISTORY_DAYS * rng.random() ** 1.4
            local = (self.now - timedelta(days=days_ago)).astimezone(self.tz)
            hour = _weighted(rng, [(h, 6 if 9 <= h < 18 else 2 if 7 <= h < 23 else 0.3) for h in range(24)])
            local = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
            if local.weekday() >= 5 and rng.random() < 0.6:
                continue
            if local < self.now:
                return local

    def _events(self) -> list[tuple[str, str, datetime, str]]:
        """Exhibitions and offline events inside the history window: (source, campaign, date, city)."""
        season = {12: "冬季", 1: "冬季", 2: "冬季", 3: "春季", 4: "春季", 5: "春季", 6: "夏季", 7: "夏季", 8: "夏季"}
        events = []
        for days_ago, source, template, city in (
            (158, "展会", "{y}中国国际工业博览会", "上海市"), (121, "展会", "{y}华南智能制造展", "深圳市"),
            (64, "展会", "{y}中国数字化转型大会", "北京市"), (27, "展会", "{y}{s}企业服务博览会", "杭州市"),
            (140, "线下活动", "{y}{s}新品发布会", "上海市"), (88, "线下活动", "{y}渠道伙伴大会", "广州市"),
            (45, "线下活动", "{m}月客户答谢沙龙", "成都市"), (9, "线下活动", "{y}{s}销售管理闭门会", "北京市"),
        ):
            day = (self.now - timedelta(days=days_ago)).astimezone(self.tz)
            day = day.replace(hour=10, minute=0, second=0, microsecond=0)
            name = template.format(y=day.year, m=day.month, s=season.get(day.month, "秋季"))
            events.append((source, name, day, city))
        return events

    def _campaign(self, source: str, at: datetime) -> tuple[str, str, str, str]:
        """(campaign, utm_source, utm_medium, utm_campaign) for an online lead created at `at`."""
        rng, ym, m = self.rng, f"{at.year}{at.month:02d}", at.month
        if source == "抖音":
            return f"抖音信息流-{m}月", "douyin", "feed", f"dy_feed_{ym}"
        if source == "百度推广":
            name, code = rng.choice((("品牌词", "brand"), ("行业词", "industry"), ("竞品词", "competitor")))
            return f"百度搜索-{name}", "baidu", "cpc", f"bd_{code}_{ym}"
        if source == "公众号":
            name, code = rng.choice(
                (("线索管理白皮书", "whitepaper"), ("销售自动化实战", "article"), (f"{m}月直播预告", "live"))
            )
            return f"公众号-{name}", "wechat", "social", f"wx_{code}_{ym}"
        if source == "知乎":
            name, code = rng.choice((("专栏文章", "column"), ("问答推广", "answer")))
            return f"知乎-{name}", "zhihu", "content", f"zh_{code}_{ym}"
        # 官网
        name = _weighted(rng, (("官网-免费试用", 4), ("官网-预约演示", 3), ("", 3)))
        utm_source, utm_medium = _weighted(rng, ((("baidu", "organic"), 5), (("bing", "organic"), 2), (("", ""), 4)))
        utm_campaign = ("site_trial" if "试用" in name else "site_demo" if name else "") if utm_source else ""
        return name, utm_source, utm_medium, utm_campaign

    def _company(self, city: str, industry: str, size: str) -> tuple[str, str]:
        rng = self.rng
        brand, pinyin = rng.choice(BRANDS)
        word = rng.choice(INDUSTRIES[industry][1])
        form = _weighted(rng, LEGAL_FORMS)
        if size != "1000+" and form == "集团有限公司":
            form = "有限公司"
        prefix = city.removesuffix("市") if city.endswith("市") and rng.random() < 0.85 else ""
        name = f"{prefix}{brand}{word}{form}"
        if rng.random() < 0.05:
            name += f"({rng.choice(('上海', '深圳', '北京', '苏州'))}分公司)"
        return name, pinyin

    def _email(self, surname_pinyin: str, company_pinyin: str) -> str:
        rng = self.rng
        while True:
            kind = rng.random()
            if kind < 0.3:
                email = f"{rng.randrange(10_000_000, 3_000_000_000)}@qq.com"
            elif kind < 0.6:
                email = f"{surname_pinyin}{rng.randrange(1, 9999)}@{rng.choice(FREE_MAIL)}"
            else:
                initials = "".join(rng.choices("abcdefghjklmnpqrstwxyz", k=rng.randint(1, 2)))
                local = f"{surname_pinyin}{rng.choice(('', '.', '_'))}{initials}"
                email = f"{local}@{company_pinyin}{rng.choice(('.com', '.com.cn', '.cn', 'tech.com'))}"
            if email not in self.used_emails:
                self.used_emails.add(email)
                return email

    def _payload(
        self, at: datetime, source: str, event: tuple[str, str, datetime, str] | None
    ) -> tuple[dict[str, Any], str]:
        """A submission as a channel would send it, and the province its mobile belongs to."""
        rng, faker = self.rng, self.faker
        mobile, province, city = self._mobile()
        surname, surname_pinyin = _weighted(rng, [((s, p), w) for s, p, w in SURNAMES])
        name = surname + faker.first_name()
        industry = _weighted(rng, [(k, v[0]) for k, v in INDUSTRIES.items()])
        size = _weighted(rng, SIZES)
        company_city = city if rng.random() < 0.8 else rng.choice(("上海市", "北京市", "深圳市", "杭州市", "广州市"))
        company, company_pinyin = self._company(company_city, industry, size)
        title = _weighted(rng, [(t, w) for t, w, _ in TITLES])
        payload: dict[str, Any] = {"name": name, "mobile": mobile, "title": title}
        if title == "学生":
            school = f"{company_city.removesuffix('市')}{rng.choice(('理工', '财经', '师范', '科技'))}大学"
            payload["company"] = rng.choice(("", school))
            industry, size = "教育", ""
        else:
            payload["company"] = company
        payload["industry"] = industry
        if size:
            payload["company_size"] = size
        if size and rng.random() < 0.4:
            low, high = REVENUE_RANGE[size]
            payload["annual_revenue"] = str(Decimal(rng.randrange(low, high)) * 10_000)
        if rng.random() < 0.45:
            payload["email"] = self._email(surname_pinyin, company_pinyin)
        if rng.random() < 0.3:
            payload["wechat"] = f"{surname_pinyin}{rng.choice(('', '_', '-'))}{rng.randrange(10, 99999)}"
        if size and rng.random() < 0.12 and (code := CITY_AREA_CODES.get(company_city)):
            digits = 8 if len(code) == 2 else rng.choice((7, 8))
            phone = f"0{code}-{rng.choice('68')}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"
            if (parsed := parse_phone(phone)) is not None and parsed.is_valid:
                payload["phone"] = phone
        payload["source"] = source
        if event is not None:
            payload["campaign"] = event[1]
        else:
            if source in ONLINE_SOURCES:
                campaign, utm_source, utm_medium, utm_campaign = self._campaign(source, at.astimezone(self.tz))
                payload.update(
                    campaign=campaign, utm_source=utm_source, utm_medium=utm_medium, utm_campaign=utm_campaign
                )
            elif source == "客户转介绍":
                payload["campaign"] = "老客户推荐计划"
        if payload["source"] in ("抖音", "百度推广"):  # their lead APIs push an id we upsert on
            self.external_ids += 1
            prefix = "dy" if payload["source"] == "抖音" else "bd"
            payload["external_id"] = f"{prefix}{7_000_000_000 + self.external_ids * 7919 + rng.randrange(7919)}"
        if rng.random() < 0.3:
            payload["notes"] = rng.choice(NOTES)
        return {key: value for key, value in payload.items() if value not in ("", None)}, province

    def _score(self, payload: dict[str, Any]) -> tuple[float, float]:
        """Plausible static (profile fit) and dynamic (behaviour) scores; the engine recomputes."""
        rng = self.rng
        intent = rng.gauss(0, 1)  # fit and engagement go together: hot leads exist
        decision = {t for t, _, d in TITLES if d}
        static = 35.0 + 13 * intent
        static += 10 if payload.get("title") in decision else 0
        static -= 20 if payload.get("title") == "学生" else 0
        static -= 5 if not payload.get("company") else 0
        static += {"1-49": 0, "50-199": 6, "200-999": 12, "1000+": 18}.get(payload.get("company_size", ""), 0)
        static += 8 if payload.get("industry") in ("制造业", "软件/互联网", "金融") else 0
        static += 4 if payload.get("email") else 0
        static += rng.gauss(6, 10)
        source_pull = {
            "展会": 22, "线下活动": 25, "官网": 20, "客户转介绍": 28,
            "百度推广": 14, "公众号": 16, "知乎": 12, "抖音": 8,
        }
        dynamic = 10 + source_pull.get(payload["source"], 10) + rng.expovariate(1 / 25) + 22 * intent
        if "试用" in payload.get("campaign", "") or "演示" in payload.get("campaign", ""):
            dynamic += 15
        return max(0.0, min(100.0, round(static, 1))), max(0.0, min(100.0, round(dynamic, 1)))

    def _plan(self, payload: dict[str, Any], province: str, at: datetime) -> _Plan:
        rng = self.rng
        static, dynamic = self._score(payload)
        total = _total(static, dynamic)
        tier = _tier(total)
        age_days = (self.now - at).total_seconds() / 86400
        assign_p = {"hot": 0.95, "warm": 0.85, "cold": 0.3}[tier]
        if age_days < 0.5:
            assign_p *= 0.5  # the newest leads are still waiting in the pools
        pool = self.pools["展会线索池"] if payload["source"] in ("展会", "线下活动") else (
            self.pools["华东线索池"] if province in EAST_CHINA else self.default_pool
        )
        tags: list[str] = []
        owner_id = owner_assigned_at = last_activity_at = None
        if rng.random() < assign_p:
            rep = self._rep_for(province, payload, tier)
            owner_id = rep.id
            owner_assigned_at = min(at + timedelta(minutes=rng.randint(3, 60 * 30)), self.now)
            # weights of following, converted, pending, transferred, invalid: better leads convert more
            weights = {"hot": (48, 30, 16, 3, 3), "warm": (50, 11, 25, 4, 10), "cold": (40, 3, 32, 3, 22)}[tier]
            if age_days < 3:
                weights = (weights[0], 0, *weights[2:])  # too young to have converted
            status = _weighted(rng, zip(_OWNED_STATUSES, weights, strict=True))
            if status != LeadStatus.PENDING:
                span = max(60.0, (self.now - owner_assigned_at).total_seconds() * 0.8)
                last_activity_at = owner_assigned_at + timedelta(seconds=rng.uniform(600, span))
            if status in (LeadStatus.FOLLOWING, LeadStatus.CONVERTED) and rng.random() < 0.4:
                tags = rng.sample(FOLLOW_TAGS, k=rng.randint(1, 2))
        else:
            status = _weighted(rng, ((LeadStatus.PENDING, 76), (LeadStatus.RETURNED, 19), (LeadStatus.INVALID, 5)))
        if status == LeadStatus.INVALID:
            tags = [rng.choice(INVALID_TAGS)]
        return _Plan(payload=payload, created_at=at, status=status, owner_id=owner_id, pool_id=pool.id,
                     owner_assigned_at=owner_assigned_at, last_activity_at=last_activity_at, static=static,
                     dynamic=dynamic, tags=tags)

    def _rep_for(self, province: str, payload: dict[str, Any], tier: str) -> User:
        rng = self.rng
        if tier == "hot" and payload.get("company_size") == "1000+" and rng.random() < 0.7:
            return rng.choice(self.team_reps["大客户组"])
        for team, provinces in REGION_TEAMS.items():
            if province in provinces and rng.random() < 0.9:
                return rng.choice(self.team_reps[team])
        return rng.choice(self.regional_reps)

    # --- the run ---------------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        self._staff()
        self._pools()
        events = self._events()
        plans: list[_Plan] = []
        for _ in range(self.n):
            event = None
            source = _weighted(self.rng, SOURCES)
            if source in ("展会", "线下活动") and self.rng.random() < 0.85:
                # cards collected at an event arrive in a burst after it
                event = self.rng.choice([e for e in events if e[0] == source])
                at = min(event[2] + timedelta(hours=self.rng.uniform(2, 96)), self.now - timedelta(minutes=5))
            else:
                at = self._created_at()
            payload, province = self._payload(at, source, event)
            plans.append(self._plan(payload, province, at))

        # 1. a few hundred through the real pipeline, by the channel they would arrive on
        pipeline = plans[: min(PIPELINE_LEADS_MAX, self.n // 5)]
        by_channel: dict[str, list[_Plan]] = {}
        for plan in pipeline:
            by_channel.setdefault(_channel(plan.payload["source"]), []).append(plan)
        for channel, group in by_channel.items():
            outcomes = lead_intake_many(tenant=self.tenant, payloads=[p.payload for p in group], channel=channel)
            for plan, outcome in zip(group, outcomes, strict=True):
                if outcome.outcome == "created" and outcome.lead is not None:
                    plan.lead_id = outcome.lead.id

        # 2. the rest built with the same normalisation, lifecycle included, in one statement
        rest = plans[len(pipeline):]
        built = [self._lead(plan) for plan in rest]
        insert_many(built)
        for plan, lead in zip(rest, built, strict=True):
            plan.lead_id = lead.id

        # 3. a few duplicates collected (归集) into existing leads, and the quarantine
        merged = self._duplicates(pipeline)
        quarantined = self._quarantine()

        # 4. lifecycle, scores and timestamps of the pipeline's leads in one statement (created_at is
        # auto_now_add: only an UPDATE can back-date it); the ownership audit trail in another
        self._apply(pipeline)
        self._backdate_submissions()
        self._audit_ownership()
        leads = [p for p in plans if p.lead_id]
        return {
            "leads": len(leads), "via_pipeline": sum(1 for p in pipeline if p.lead_id),
            "assigned": sum(1 for p in leads if p.owner_id), "merged": merged, "quarantined": quarantined,
            "reps": len(self.reps),
        }

    def _duplicates(self, pipeline: list[_Plan]) -> int:
        """Re-submissions of known contacts (a second form fill, a scanned card): collected."""
        sources = [p for p in pipeline if p.lead_id][: max(0, min(15, len(pipeline) // 10))]
        payloads = [
            {"name": p.payload["name"], "mobile": p.payload["mobile"], "company": p.payload.get("company", ""),
             "source": self.rng.choice(("官网", "公众号", "展会")), "notes": "再次提交表单"}
            for p in sources
        ]
        if not payloads:
            return 0
        outcomes = lead_intake_many(tenant=self.tenant, payloads=payloads, channel="form")
        return sum(1 for outcome in outcomes if outcome.outcome == "merged")

    def _quarantine(self) -> int:
        faker = self.faker
        company = f"{self.rng.choice(BRANDS)[0]}科技有限公司"
        bad: list[tuple[str, dict[str, Any]]] = [
            ("form", {"name": faker.name(), "company": company, "title": "经理"}),  # no contact
            ("form", {"name": faker.name(), "company": "个人"}),
            ("api", {"name": faker.name()}),
            ("form", {"name": "测试", "mobile": "13800000000"}),  # fake patterns
            ("form", {"name": faker.name(), "mobile": "13800138000", "email": "test@test"}),
            ("api", {"name": faker.name(), "mobile": "12345678901", "source": "抖音"}),
            ("form", {"name": "aaa", "mobile": "13911111111"}),
            ("api", {"name": faker.name(), "mobile": "18888888888", "source": "百度推广"}),
            ("import", {"name": faker.name(), "mobile": "1381234", "company": company}),  # too short
            ("import", {"name": faker.name(), "mobile": "021-12345", "company": company}),
            ("form", {"name": faker.name(), "email": "zhang@@163.com"}),  # malformed e-mail
            ("form", {"name": faker.name(), "email": "wangli.163.com"}),
            ("import", {"name": faker.name(), "email": "li..ming@qq.com", "company": company}),
            ("api", {"name": faker.name(), "email": "sales@localhost", "source": "知乎"}),
            ("form", {"name": faker.name(), "mobile": self._mobile()[0], "notes": "可代开发票 量大从优"}),  # sensitive
            ("form", {"name": faker.name(), "mobile": self._mobile()[0], "company": "澳门博彩娱乐有限公司"}),
            ("api", {"name": faker.name(), "wechat": "daikuan888", "notes": "贷款包过 当天放款"}),
            ("form", {"name": faker.name(), "mobile": self._mobile()[0], "title": "刷单兼职招聘"}),
            ("import", {"name": faker.name(), "mobile": self._mobile()[0], "notes": "高仿名表批发"}),
            ("form", {"name": faker.name(), "email": "promo@mail.ru", "notes": "cheap viagra"}),
            ("form", {"name": faker.name(), "mobile": "00000000000", "email": "none"}),
        ]
        count = 0
        for channel in ("form", "api", "import"):
            group = [payload for c, payload in bad if c == channel]
            outcomes = lead_intake_many(tenant=self.tenant, payloads=group, channel=channel)
            count += sum(1 for outcome in outcomes if outcome.outcome == "quarantined")
        # spread the quarantine over the last month, oldest first
        records = list(IntakeRecord.objects.order_by("id").values_list("id", flat=True))
        rows = [{"id": rid, "at": self.now - timedelta(days=self.rng.uniform(0.1, 30))} for rid in records]
        _update_timestamps(IntakeRecord._meta.db_table, self.tenant.id, rows)
        return count

    def _lead(self, plan: _Plan) -> Lead:
        """The row the intake pipeline would have written for this payload, plus its lifecycle."""
        fields = normalise_lead(plan.payload).fields
        values = {name: fields[name] for name in _BULK_FIELDS}
        values["annual_revenue"] = Decimal(fields["annual_revenue"]) if fields.get("annual_revenue") else None
        return Lead(tenant=self.tenant, **search_columns(fields), **values, **_lifecycle(plan))

    def _apply(self, plans: list[_Plan]) -> None:
        rows = [{"id": plan.lead_id, **_lifecycle(plan)} for plan in plans if plan.lead_id]
        table = connection.ops.quote_name(Lead._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} AS l SET
                    created_at = v.created_at, updated_at = v.updated_at,
                    status = v.status, owner_id = v.owner_id, pool_id = v.pool_id,
                    owner_assigned_at = v.owner_assigned_at, last_activity_at = v.last_activity_at,
                    score_total = v.score_total, score_static = v.score_static, score_dynamic = v.score_dynamic,
                    grade = v.grade, level = v.level, tier = v.tier, is_mature = v.is_mature,
                    tags = ARRAY(SELECT jsonb_array_elements_text(v.tags))::varchar(50)[]
                FROM jsonb_to_recordset(%s::jsonb) AS v(
                    id bigint, created_at timestamptz, updated_at timestamptz, status text, owner_id integer,
                    pool_id bigint, owner_assigned_at timestamptz, last_activity_at timestamptz, score_total numeric,
                    score_static numeric, score_dynamic numeric, grade text, level smallint, tier text,
                    is_mature boolean, tags jsonb)
                WHERE l.tenant_id = %s AND l.id = v.id
                """,  # noqa: S608 - identifiers from model meta; values are parameters
                [json.dumps(rows, cls=DjangoJSONEncoder), self.tenant.id],
            )

    def _backdate_submissions(self) -> None:
        """A collected submission arrived after the lead it was collected into."""
        sub, lead = (connection.ops.quote_name(m._meta.db_table) for m in (LeadSubmission, Lead))
        with connection.cursor() as cursor:
            cursor.execute(
                f"""UPDATE {sub} AS s SET
                        created_at = LEAST(l.created_at + (%s - l.created_at) * ((s.id %% 7 + 1) / 8.0), %s),
                        updated_at = LEAST(l.created_at + (%s - l.created_at) * ((s.id %% 7 + 1) / 8.0), %s)
                    FROM {lead} AS l WHERE s.tenant_id = %s AND l.tenant_id = s.tenant_id AND l.id = s.lead_id""",  # noqa: S608 - identifiers from model meta; values are parameters
                [self.now, self.now, self.now, self.now, self.tenant.id],
            )

    def _audit_ownership(self) -> None:
        """Every ownership change is audited (SPEC §1): one entry per assigned lead."""
        audit, lead = (connection.ops.quote_name(m._meta.db_table) for m in (AuditLog, Lead))
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {audit} (tenant_id, actor_id, actor_api_key_id, action, object_type, object_id, changes,
                                         created_at, updated_at)
                    SELECT tenant_id, NULL, NULL, 'lead.owner_change', 'lead', id::text,
                           jsonb_build_object('from', NULL, 'to', owner_id, 'reason', 'assignment_rule'),
                           owner_assigned_at, owner_assigned_at
                    FROM {lead} WHERE tenant_id = %s AND owner_id IS NOT NULL AND owner_assigned_at IS NOT NULL""",  # noqa: S608 - identifiers from model meta; values are parameters
                [self.tenant.id],
            )


_BULK_FIELDS = (
    "name", "mobile", "phone", "email", "wechat", "company", "company_key", "title", "industry", "company_size",
    "province", "city", "source", "campaign", "utm_source", "utm_medium", "utm_campaign", "external_id", "notes",
    "custom",
)
_OWNED_STATUSES = (
    LeadStatus.FOLLOWING, LeadStatus.CONVERTED, LeadStatus.PENDING, LeadStatus.TRANSFERRED, LeadStatus.INVALID,
)

# Score defaults of a new tenant (API.md); the scoring engine recomputes them later.
MATURITY = 50


def _total(static: float, dynamic: float) -> float:
    return round(min(100.0, 0.55 * static + 0.45 * dynamic), 2)


def _tier(total: float) -> str:
    return "hot" if total >= 80 else "warm" if total >= 50 else "cold"


def _grade(static: float) -> str:
    return "A" if static >= 75 else "B" if static >= 50 else "C" if static >= 25 else "D"


def _level(dynamic: float) -> int:
    return 1 if dynamic >= 60 else 2 if dynamic >= 30 else 3


def _lifecycle(plan: _Plan) -> dict[str, Any]:
    total = _total(plan.static, plan.dynamic)
    return {
        "created_at": plan.created_at,
        "updated_at": max(filter(None, (plan.created_at, plan.owner_assigned_at, plan.last_activity_at))),
        "status": plan.status, "owner_id": plan.owner_id, "pool_id": plan.pool_id,
        "owner_assigned_at": plan.owner_assigned_at, "last_activity_at": plan.last_activity_at,
        "score_total": Decimal(str(total)), "score_static": Decimal(str(plan.static)),
        "score_dynamic": Decimal(str(plan.dynamic)), "grade": _grade(plan.static), "level": _level(plan.dynamic),
        "tier": _tier(total), "is_mature": total >= MATURITY, "tags": list(plan.tags),
    }


def _channel(source: str) -> str:
    channels = {"官网": "form", "抖音": "api", "百度推广": "api", "展会": "import", "线下活动": "import"}
    return channels.get(source, "manual")


def _update_timestamps(db_table: str, tenant_id: int, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = connection.ops.quote_name(db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} AS t SET created_at = v.at, updated_at = v.at
                FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, at timestamptz)
                WHERE t.tenant_id = %s AND t.id = v.id""",  # noqa: S608 - identifiers from model meta; values are parameters
            [json.dumps(rows, cls=DjangoJSONEncoder), tenant_id],
        )
