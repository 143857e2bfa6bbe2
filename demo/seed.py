"""Demo data (SPEC §0): a seeded tenant with realistic Chinese-market leads and their history.

`demo_seed()` creates the tenant `demo` once — owner, manager, reps in teams, pools, a few
thousand leads with their history, a quarantine — and on later runs changes nothing and only
returns the log-ins again. `python manage.py seed_demo` is a thin wrapper. The browser tests
build their (smaller) book with the same `demo_book_build()`.

Nothing here writes a lead, a history row or a timestamp by itself: every submission goes
through the intake pipeline (`lead_intake_many`, with the time it arrived), every pool entry,
assignment and status change through the services that audit them, each at a time in the past.
Scores are left to the scoring engine: until it scores a lead, the lead is unscored. The leads'
behaviour (site visits, mail, webinars, demo requests) goes in through the events service, in
the past, and the event worker's rescore scores them before the demo starts.

Content is deterministic for a given seed (`random.Random(seed)`, `Faker.seed_instance`);
timestamps are relative to the time of the run.
"""

from __future__ import annotations

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
from django.db import IntegrityError, transaction
from django.utils import timezone
from faker import Faker

from assignment.models import Pool
from assignment.selectors import pool_default
from assignment.services import pool_create
from capture.webform_services import WebFormInput, webform_create
from demo.people_seed import demo_people_seed
from leadcrm.tenancy.models import Membership, Role, Tenant
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import membership_create, tenant_create, user_get_or_create
from leads.cleansing_services import blacklist_entry_add
from leads.intake import lead_intake_many
from leads.models import Lead, LeadStatus, OwnerChangeReason, SavedViewSharing
from leads.normalization import is_fake_mobile, parse_phone, split_region
from leads.saved_views import saved_view_create
from leads.services import (
    OwnerChange,
    PoolPlacement,
    StatusChange,
    lead_owner_change_many,
    lead_pool_place_many,
    lead_status_change_many,
)
from scoring.events import events_ingest
from scoring.lead_scores import leads_rescore

DEMO_SLUG = "demo"
DEMO_NAME = "演示科技有限公司"
ADMIN_PASSWORD = "demo-admin-2026"
STAFF_PASSWORD = "demo-rep-2026"  # manager and every rep
DEFAULT_LEADS = 3000
DEFAULT_SEED = 2026
HISTORY_DAYS = 180
INTAKE_BATCH = 1000  # the bulk API's limit: the demo arrives as integrations would send it
EVENT_BATCH = 1000  # the events API's limit


def staff_domain(slug: str) -> str:
    """The demo staff's e-mail domain for a tenant (users are global; the domain keeps books apart)."""
    return f"{slug}.leadcrm.local"


DEMO_DOMAIN = staff_domain(DEMO_SLUG)
ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
MANAGER_EMAIL = f"manager@{DEMO_DOMAIN}"

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


@dataclass
class DemoBook:
    """What `demo_book_build` made: the staff, and the leads a visitor (or a test) looks for."""

    manager: Membership
    reps: list[Membership]
    showcase_id: int  # the newest lead: owned, followed up, re-submitted once, with a duplicate
    duplicate_id: int  # same person and company as the showcase, other contacts: tagged
    counts: dict[str, int]


def demo_logins(tenant: Tenant) -> list[DemoLogin]:
    """Who can log in to the demo tenant (passwords are the fixed demo ones)."""
    order: dict[str, int] = {Role.OWNER: 0, Role.ADMIN: 1, Role.MANAGER: 2, Role.REP: 3, Role.READ_ONLY: 4}
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
            book = demo_book_build(tenant=tenant, admin=created.owner.user, leads=leads, seed=seed, now=now)
    except (ValidationError, IntegrityError):
        # another process seeded it meanwhile (two starts at once): theirs stands
        existing = Tenant.objects.filter(slug=DEMO_SLUG).first()
        if existing is None:
            raise
        return DemoResult(tenant=existing, created=False, logins=demo_logins(existing),
                          seconds=time.perf_counter() - started)
    return DemoResult(
        tenant=tenant, created=True, logins=demo_logins(tenant),
        api_key=created.api_key.raw_key if created.api_key else None, counts=book.counts,
        seconds=time.perf_counter() - started,
    )


def demo_book_build(
    *, tenant: Tenant, admin: User | None, leads: int = DEFAULT_LEADS, seed: int = DEFAULT_SEED,
    now: datetime | None = None,
) -> DemoBook:
    """Staff, pools and `leads` leads with their history for an existing tenant, all through the
    services the product itself uses. `admin` is who configured it (the audit's actor)."""
    with tenant_scope(tenant.id):
        return _Book(tenant=tenant, admin=admin, leads=leads, seed=seed, now=now).run()


@dataclass
class _Plan:
    """One lead: what arrives, when, and what happens to it afterwards."""

    payload: dict[str, Any]
    channel: str
    at: datetime
    pool: Pool
    owner: User | None = None
    assigned_at: datetime | None = None
    returned_at: datetime | None = None
    # (status, when, reason), in order; applied after the lead exists
    statuses: list[tuple[str, datetime, str]] = field(default_factory=list)
    lead_id: int | None = None
    intent: float = 0.0  # how interested the person is: drives what they do (and their events)


class _Book:
    def __init__(self, *, tenant: Tenant, admin: User | None, leads: int, seed: int, now: datetime | None) -> None:
        self.tenant = tenant
        self.admin = admin
        self.n = max(0, leads)
        self.rng = random.Random(seed)
        self.faker = Faker("zh_CN")
        self.faker.seed_instance(seed)
        # A minute back: everything the demo says happened lies in the past, also on a fast start.
        self.now = (now or timezone.now()) - timedelta(minutes=1)
        self.tz = ZoneInfo(tenant.timezone or "Asia/Shanghai")
        self.domain = staff_domain(tenant.slug)
        self.used_mobiles: set[str] = set()
        self.used_emails: set[str] = set()
        self.external_ids = 0

    # --- people and pools --------------------------------------------------------------------
    def _staff(self) -> None:
        hashed = make_password(STAFF_PASSWORD)  # hashed once, not once per user: Argon2 is slow on purpose
        staff = [(f"manager@{self.domain}", *MANAGER, Role.MANAGER)] + [
            (f"rep{i}@{self.domain}", name, team, Role.REP) for i, (name, team) in enumerate(REPS, start=1)
        ]
        self.reps: list[User] = []
        self.rep_memberships: list[Membership] = []
        self.rep_team: dict[int, str] = {}
        new_users: list[int] = []
        for email, name, team, role in staff:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = user_get_or_create(email=email, password=None, name=name)
                new_users.append(user.id)
            membership = membership_create(
                tenant=self.tenant, user=user, role=role, display_name=name, team=team, created_by=self.admin
            )
            if role == Role.REP:
                self.reps.append(user)
                self.rep_memberships.append(membership)
                self.rep_team[user.id] = team
            else:
                self.manager = membership
        User.objects.filter(id__in=new_users).update(password=hashed)
        self.team_reps: dict[str, list[User]] = {}
        for rep in self.reps:
            self.team_reps.setdefault(self.rep_team[rep.id], []).append(rep)
        self.regional_reps = [rep for rep in self.reps if self.rep_team[rep.id] != "大客户组"]

    def _pools(self) -> None:
        self.default_pool = pool_default()
        self.pools = {
            name: pool_create(tenant=self.tenant, name=name, description=description, created_by=self.admin)
            for name, description in EXTRA_POOLS
        }

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


    def _plan(self, payload: dict[str, Any], province: str, at: datetime, channel: str) -> _Plan:
        """What happens to a lead after it arrives: the pool it enters, whether a rep gets it and
        when, and how far they take it. Interest (`intent`) drives it; it is the demo's story,
        not a score: scoring is the engine's job."""
        rng = self.rng
        pool = self.pools["展会线索池"] if payload["source"] in ("展会", "线下活动") else (
            self.pools["华东线索池"] if province in EAST_CHINA else self.default_pool
        )
        intent = rng.gauss(0, 1) + (0.6 if payload.get("title") in DECISION_MAKERS else 0)
        plan = _Plan(payload=payload, channel=channel, at=at, pool=pool, intent=intent)
        room = (self.now - at).total_seconds()
        if room < 1800 or rng.random() > (0.95 if intent > 0.8 else 0.8 if intent > -0.3 else 0.35):
            if room > 3 * 86400 and rng.random() < 0.06:  # judged worthless straight from the pool
                when = at + timedelta(seconds=rng.uniform(600, room * 0.5))
                plan.statuses.append((LeadStatus.INVALID, when, rng.choice(INVALID_REASONS)))
            return plan  # waits in its pool
        plan.owner = self._rep_for(province, payload, intent)
        plan.assigned_at = at + timedelta(seconds=rng.uniform(180, min(room * 0.3, 30 * 3600)))
        left = (self.now - plan.assigned_at).total_seconds()
        if rng.random() < 0.18 and left > 3600:
            outcome = _weighted(rng, (("wait", 55), ("returned", 25), ("transferred", 20)))
        else:
            outcome = "follow"
        if outcome == "returned":
            plan.returned_at = plan.assigned_at + timedelta(seconds=rng.uniform(600, left * 0.5))
            plan.statuses.append((LeadStatus.RETURNED, plan.returned_at, rng.choice(RETURN_REASONS)))
        elif outcome == "transferred":
            when = plan.assigned_at + timedelta(seconds=rng.uniform(600, left * 0.5))
            plan.statuses.append((LeadStatus.TRANSFERRED, when, "客户所在区域调整"))
        elif outcome == "follow":
            followed = plan.assigned_at + timedelta(seconds=rng.uniform(300, max(600.0, min(left * 0.3, 2 * 86400))))
            if followed >= self.now:
                return plan
            plan.statuses.append((LeadStatus.FOLLOWING, followed, ""))
            later = (self.now - followed).total_seconds()
            if later > 3 * 86400:
                end = _weighted(rng, (("convert", 30 if intent > 0.8 else 8), ("invalid", 10 if intent > -0.3 else 25),
                                      ("keep", 60)))
                when = followed + timedelta(seconds=rng.uniform(86400, later * 0.9))
                if end == "convert":
                    plan.statuses.append((LeadStatus.CONVERTED, when, "已签约"))
                elif end == "invalid":
                    plan.statuses.append((LeadStatus.INVALID, when, rng.choice(INVALID_REASONS)))
        return plan

    def _rep_for(self, province: str, payload: dict[str, Any], intent: float) -> User:
        rng = self.rng
        if intent > 1 and payload.get("company_size") == "1000+" and rng.random() < 0.7:
            return rng.choice(self.team_reps["大客户组"])
        for team, provinces in REGION_TEAMS.items():
            if province in provinces and rng.random() < 0.9:
                return rng.choice(self.team_reps[team])
        return rng.choice(self.regional_reps)

    # --- the run ---------------------------------------------------------------------------------
    def _channels_and_views(self) -> None:
        """What an admin and a manager set up on day one: the website's web form, and list views
        (the manager's hot leads shared with everyone, a rep's own follow-ups)."""
        webform_create(tenant=self.tenant, actor=self.admin, data=WebFormInput(
            name="官网咨询表单", source="官网", campaign="官网咨询",
            thank_you="感谢您的咨询！顾问会在一个工作日内与您联系。",
            fields=[
                {"name": "name", "label": "", "required": True}, {"name": "mobile", "label": "", "required": True},
                {"name": "company", "label": "", "required": True}, {"name": "title", "label": "", "required": False},
                {"name": "email", "label": "", "required": False}, {"name": "notes", "label": "需求简述", "required": False},
            ],
        ))
        saved_view_create(
            tenant=self.tenant, owner=self.manager.user, name="热线索（按评分）", query={"tier": ["hot"], "ordering": ["-score"]},
            columns=["status", "score", "grade", "tier", "owner", "created_at"], shared_with=SavedViewSharing.TENANT,
        )
        saved_view_create(
            tenant=self.tenant, owner=self.reps[0], name="我的跟进中", query={"status": ["following"]},
            columns=["status", "score", "tier", "source", "created_at"], is_default=False,
        )

    def run(self) -> DemoBook:
        self._staff()
        self._pools()
        events = self._events()
        plans: list[_Plan] = []
        for _ in range(max(0, self.n - 2)):  # the showcase and its duplicate make up the rest
            event = None
            source = _weighted(self.rng, SOURCES)
            if source in ("展会", "线下活动") and self.rng.random() < 0.85:
                # cards collected at an event arrive in a burst after it
                event = self.rng.choice([e for e in events if e[0] == source])
                at = min(event[2] + timedelta(hours=self.rng.uniform(2, 96)), self.now - timedelta(hours=1))
            else:
                at = self._created_at()
            payload, province = self._payload(at, source, event)
            plans.append(self._plan(payload, province, at, _channel(source)))
        showcase = self._showcase(plans)
        created = self._intake(plans)
        self._history(plans)
        merged = self._resubmissions([p for p in plans if p.lead_id and p is not showcase][:15], showcase)
        duplicate_id = self._duplicate_of(showcase)
        event_count = self._behaviour(plans, showcase)
        for kind, value, note in DEMO_BLACKLIST:  # the admin's 清洗规则, before the last submissions
            blacklist_entry_add(tenant=self.tenant, kind=kind, value=value, note=note, actor=self.admin)
        quarantined = self._quarantine()
        self._channels_and_views()
        demo_people_seed(
            tenant=self.tenant, admin=self.admin, manager=self.manager.user, reps=self.reps, now=self.now,
            owned_leads=[
                (p.lead_id, p.payload.get("name") or "", p.owner.id)
                for p in plans if p.lead_id and p.owner and not p.returned_at
            ][-12:],
        )
        assert showcase.lead_id is not None
        return DemoBook(
            manager=self.manager, reps=self.rep_memberships, showcase_id=showcase.lead_id, duplicate_id=duplicate_id,
            counts={
                "leads": created + 1,  # + the duplicate
                "assigned": sum(1 for p in plans if p.owner and not p.returned_at),
                "merged": merged, "quarantined": quarantined, "reps": len(self.reps), "events": event_count,
            },
        )

    # --- behaviour events ----------------------------------------------------------------------
    def _behaviour(self, plans: list[_Plan], showcase: _Plan) -> int:
        """What the leads did after they arrived (site visits, mail, webinars, demo requests),
        sent through the events service as an integration would, then scored by the engine:
        the keen ones end hot, most warm or cold, a few unsubscribed."""
        rng = self.rng
        items: list[dict[str, Any]] = []
        for plan in plans:
            if plan.lead_id is None:
                continue
            span = (self.now - plan.at).total_seconds()
            if plan is showcase:
                kinds = ["page_view", "page_view", "pricing_page_view", "whitepaper_download", "demo_request"]
                recent = 1.0
            elif plan.intent > 0.8:  # keen: strong signals, and lately
                kinds = ["page_view"] * rng.randint(3, 8) + ["email_open"] * rng.randint(1, 4) + rng.sample(
                    ["pricing_page_view", "pricing_page_view", "whitepaper_download", "webinar_attend", "email_reply",
                     "demo_request"], k=rng.randint(2, 6))
                recent = 0.15
            elif plan.intent > -0.3:  # curious
                kinds = ["page_view"] * rng.randint(0, 5) + ["email_open"] * rng.randint(0, 3) + rng.sample(
                    ["whitepaper_download", "pricing_page_view", "webinar_attend", "email_reply"], k=rng.randint(0, 2))
                recent = 0.5
            else:  # not interested: a glance, and now and then a "stop mailing me"
                kinds = ["email_open"] * rng.randint(0, 2) + (
                    [_weighted(rng, (("unsubscribe", 4), ("email_bounce", 3), ("spam_report", 1)))]
                    if rng.random() < 0.15 else []
                )
                recent = 1.0
            for kind in kinds:
                # `recent`: the share of the lead's history its events fall in, counted back from now
                at = self.now - timedelta(seconds=rng.uniform(60, max(120.0, span * recent)))
                at = max(at, plan.at + timedelta(seconds=30))
                items.append({
                    "event_id": f"demo-{plan.lead_id}-{len(items)}", "lead": {"id": plan.lead_id}, "type": kind,
                    "occurred_at": at.isoformat(), "properties": {"channel": "demo"},
                })
        for start in range(0, len(items), EVENT_BATCH):
            events_ingest(tenant_id=self.tenant.id, data={"events": items[start : start + EVENT_BATCH]})
        # Every lead, synchronously: the demo starts scored as the worker scores, so leads that
        # arrived months ago and did nothing since carry the inactivity penalty.
        ordered = list(Lead.objects.order_by("id").values_list("id", flat=True))
        for start in range(0, len(ordered), EVENT_BATCH):
            leads_rescore(tenant_id=self.tenant.id, lead_ids=ordered[start : start + EVENT_BATCH])
        return len(items)

    def _showcase(self, plans: list[_Plan]) -> _Plan:
        """The newest lead, at the top of the list: a decision maker from a company the specs
        use as their example, taken by the first rep within minutes and already followed up."""
        at = self.now - timedelta(hours=3)
        mobile = self._mobile()[0]
        payload = {
            "name": "林晓峰", "mobile": mobile, "email": "lin.xiaofeng@fenyang.com.cn", "company": "北京纷扬科技有限公司",
            "title": "市场总监", "industry": "软件/互联网", "company_size": "200-999", "annual_revenue": "86000000",
            "province": "北京市", "city": "北京市", "source": "官网", "campaign": "官网-预约演示", "utm_source": "baidu",
            "utm_medium": "organic", "utm_campaign": "site_demo", "notes": "希望下周安排线上演示，关注私有化部署。",
        }
        plan = _Plan(payload=payload, channel="form", at=at, pool=self.default_pool, owner=self.reps[0],
                     assigned_at=at + timedelta(minutes=6),
                     statuses=[(LeadStatus.FOLLOWING, at + timedelta(minutes=25), "")])
        plans.append(plan)
        return plan

    def _intake(self, plans: list[_Plan]) -> int:
        """Every submission through the intake pipeline, on its channel, in the order it came."""
        created = 0
        by_channel: dict[str, list[_Plan]] = {}
        for plan in sorted(plans, key=lambda p: p.at):
            by_channel.setdefault(plan.channel, []).append(plan)
        for channel, group in by_channel.items():
            for start in range(0, len(group), INTAKE_BATCH):
                batch = group[start : start + INTAKE_BATCH]
                outcomes = lead_intake_many(
                    tenant=self.tenant, payloads=[p.payload for p in batch], channel=channel,
                    received_at=[p.at for p in batch],
                )
                for plan, outcome in zip(batch, outcomes, strict=True):
                    if outcome.outcome == "created" and outcome.lead is not None:
                        plan.lead_id = outcome.lead.id
                        created += 1
        return created

    def _history(self, plans: list[_Plan]) -> None:
        """Pool entry, assignment, return and status changes, through the auditing services."""
        live = [p for p in plans if p.lead_id]
        lead_pool_place_many(
            tenant=self.tenant,
            placements=[PoolPlacement(lead_id=p.lead_id, pool_id=p.pool.id, at=p.at) for p in live if p.lead_id],
        )
        self._owner_changes(
            [OwnerChange(lead_id=p.lead_id, owner_id=p.owner.id, at=p.assigned_at)
             for p in live if p.lead_id and p.owner and p.assigned_at],
            OwnerChangeReason.ASSIGNMENT_RULE,
        )
        returned = [p for p in live if p.returned_at]
        self._owner_changes(
            [OwnerChange(lead_id=p.lead_id, owner_id=None, at=p.returned_at) for p in returned if p.lead_id],
            OwnerChangeReason.RETURN,
        )
        # One step per call, oldest first: each lead's second change starts from its first.
        depth = max((len(p.statuses) for p in live), default=0)
        for step in range(depth):
            lead_status_change_many(
                tenant=self.tenant, actor=None,
                changes=[
                    StatusChange(lead_id=p.lead_id, status=p.statuses[step][0], at=p.statuses[step][1],
                                 reason=p.statuses[step][2])
                    for p in live if p.lead_id and len(p.statuses) > step
                ],
            )

    def _owner_changes(self, changes: list[OwnerChange], reason: str) -> None:
        lead_owner_change_many(tenant=self.tenant, changes=changes, reason=reason, actor=None)

    def _resubmissions(self, sources: list[_Plan], showcase: _Plan) -> int:
        """Known contacts filling in a form again or leaving a card: collected (归集), not duplicated."""
        resubmitted = [*sources, showcase]
        payloads = [
            {"name": p.payload["name"], "mobile": p.payload["mobile"], "company": p.payload.get("company", ""),
             "source": self.rng.choice(("官网", "公众号", "展会")), "notes": "再次提交表单"}
            for p in resubmitted
        ]
        times = [p.at + (self.now - p.at) * self.rng.uniform(0.3, 0.9) for p in resubmitted]
        outcomes = lead_intake_many(tenant=self.tenant, payloads=payloads, channel="form", received_at=times)
        return sum(1 for outcome in outcomes if outcome.outcome == "merged")

    def _duplicate_of(self, showcase: _Plan) -> int:
        """The same person and company from another channel with other contacts: a new lead,
        tagged as a likely duplicate and routed to the showcase's owner by the intake pipeline."""
        payload = {"name": "林晓峰", "company": "北京纷扬科技有限公司", "email": "xiaofeng.lin@163.com",
                   "source": "抖音", "title": "市场总监", "province": "北京市", "city": "北京市"}
        at = showcase.at + timedelta(hours=1)
        (outcome,) = lead_intake_many(tenant=self.tenant, payloads=[payload], channel="api", received_at=[at])
        assert outcome.lead is not None
        lead_pool_place_many(tenant=self.tenant, placements=[PoolPlacement(lead_id=outcome.lead.id,
                                                                           pool_id=showcase.pool.id, at=at)])
        return outcome.lead.id

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
            ("form", {"name": faker.name(), "mobile": "139 5281 6437", "notes": "想了解一下价格"}),  # blacklisted
            ("api", {"name": faker.name(), "email": "li.na@fenxiang-crm.com", "company": "纷享销客", "title": "产品经理"}),
        ]
        count = 0
        for channel in ("form", "api", "import"):
            group = [payload for c, payload in bad if c == channel]
            # spread over the last month
            times = sorted(self.now - timedelta(days=self.rng.uniform(0.1, 30)) for _ in group)
            outcomes = lead_intake_many(tenant=self.tenant, payloads=group, channel=channel, received_at=times)
            count += sum(1 for outcome in outcomes if outcome.outcome == "quarantined")
        return count


DEMO_BLACKLIST = (
    ("phone", "139 5281 6437", "多次骚扰来电，要求不再联系"),
    ("email_domain", "fenxiang-crm.com", "竞品公司的邮箱"),
    ("email_domain", "mailinator.com", "一次性邮箱"),
    ("company", "深圳市某某信息咨询有限公司", "同行套取资料"),
    ("keyword", "刷单", ""),
)
DECISION_MAKERS = frozenset(title for title, _, is_decision_maker in TITLES if is_decision_maker)
INVALID_REASONS = ("空号", "无购买意向", "同行咨询", "联系不上", "个人用户，非企业客户")
RETURN_REASONS = ("不在负责区域", "客户要求换对接人", "暂无精力跟进")


def _channel(source: str) -> str:
    channels = {"官网": "form", "抖音": "api", "百度推广": "api", "展会": "import", "线下活动": "import"}
    return channels.get(source, "manual")
