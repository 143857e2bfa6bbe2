"""A small, realistic Chinese-market lead book for the browser tests and their screenshots."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from leadcrm.tenancy.models import Role
from leadcrm.tenancy.scoping import tenant_scope
from leadcrm.tenancy.services import CreatedTenant
from leads.models import Lead
from leads.services import lead_intake_many
from tests.conftest import add_member

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞"]
COMPANIES = [
    ("北京纷扬科技有限公司", "北京", "北京", "软件与信息服务"),
    ("上海云启数据有限公司", "上海", "上海", "大数据"),
    ("深圳前海智联科技有限公司", "广东", "深圳", "智能硬件"),
    ("杭州云帆网络科技有限公司", "浙江", "杭州", "电子商务"),
    ("成都天府软件股份有限公司", "四川", "成都", "软件与信息服务"),
    ("武汉光谷生物医药有限公司", "湖北", "武汉", "生物医药"),
    ("南京金陵智造集团", "江苏", "南京", "制造业"),
    ("广州羊城教育科技有限公司", "广东", "广州", "教育培训"),
    ("苏州工业园区精密机械有限公司", "江苏", "苏州", "制造业"),
    ("西安秦川新能源有限公司", "陕西", "西安", "新能源"),
    ("厦门鹭岛物流有限公司", "福建", "厦门", "物流"),
    ("青岛海润食品有限公司", "山东", "青岛", "食品饮料"),
]
TITLES = ["市场总监", "IT 经理", "采购主管", "总经理", "运营负责人", "销售副总裁", "CTO", "行政经理"]
SOURCES = ["官网", "抖音", "展会", "公众号", "百度推广", "小红书", "转介绍"]
STATUSES = ["pending", "pending", "following", "following", "converted", "invalid", "returned"]


def _tier(score: int) -> str:
    return "hot" if score >= 80 else "warm" if score >= 50 else "cold"


def _grade(score: int) -> str:
    return "A" if score >= 75 else "B" if score >= 50 else "C" if score >= 25 else "D"


def demo_lead_book(created: CreatedTenant, *, count: int = 64) -> dict[str, Any]:
    """Reps, leads with scores, statuses and owners, one duplicate and one collected
    submission. Returns the reps and a few named leads the tests look for."""
    rng = random.Random(20250301)
    reps = [
        add_member(created, "wang.fang@demo.test", role=Role.REP, name="王芳"),
        add_member(created, "li.qiang@demo.test", role=Role.REP, name="李强"),
        add_member(created, "zhao.min@demo.test", role=Role.MANAGER, name="赵敏"),
    ]
    payloads = []
    for i in range(count):
        company, province, city, industry = COMPANIES[i % len(COMPANIES)]
        payloads.append(
            {
                # unique names: the intake pipeline links same company + name as duplicates
                "name": SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES) + 3 * i) % len(GIVEN)],
                "mobile": f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
                "email": f"contact{i}@example{i % 9}.cn",
                "company": company,
                "title": TITLES[i % len(TITLES)],
                "industry": industry,
                "province": province,
                "city": city,
                "source": SOURCES[i % len(SOURCES)],
                "campaign": "2025 春季新品发布会" if i % 3 == 0 else "",
                "notes": "对私有化部署感兴趣，希望下周安排演示。" if i % 5 == 0 else "",
            }
        )
    payloads[-1].update(
        name="张伟", mobile="13816627395", company="北京纷扬科技有限公司", title="市场总监", province="北京", city="北京", source="展会",
        campaign="2025 春季新品发布会", industry="软件与信息服务", notes="对私有化部署感兴趣，希望下周安排演示。",
    )
    now = timezone.now()
    with tenant_scope(created.tenant.id):
        outcomes = lead_intake_many(tenant=created.tenant, payloads=payloads, channel="api")
        leads = [outcome.lead for outcome in outcomes if outcome.lead is not None]
        for i, lead in enumerate(leads):
            score = rng.choice([rng.randint(5, 45), rng.randint(50, 79), rng.randint(80, 98)])
            owner = reps[i % 2] if i % 4 else None
            Lead.objects.filter(id=lead.id).update(
                created_at=now - dt.timedelta(hours=3 * (len(leads) - i), minutes=rng.randint(0, 59)),
                score_total=Decimal(score), score_static=Decimal(min(100, score * 0.6)),
                score_dynamic=Decimal(score * 0.4), grade=_grade(score), level=1 if score >= 70 else 2 if score >= 40 else 3,
                tier=_tier(score), is_mature=score >= 60, status=STATUSES[i % len(STATUSES)],
                owner_id=owner.user_id if owner else None, owner_assigned_at=now if owner else None,
            )
        showcase = leads[-1]  # the newest: first row of the default list
        Lead.objects.filter(id=showcase.id).update(
            score_total=Decimal(92), score_static=Decimal(55), score_dynamic=Decimal(37), grade="A", level=1,
            tier="hot", is_mature=True, status="following", tags=["重点客户", "私有化"], owner_id=reps[0].user_id,
            owner_assigned_at=now - dt.timedelta(hours=2), last_activity_at=now - dt.timedelta(minutes=40),
        )
        # Through the real pipeline: the same mobile again is collected (归集) into the lead…
        lead_intake_many(
            tenant=created.tenant, channel="form",
            payloads=[{"name": "张伟", "mobile": payloads[-1]["mobile"], "company": "北京纷扬", "source": "官网"}],
        )
        # …and the same person and company with other contacts is tagged as a duplicate of it.
        (dup_outcome,) = lead_intake_many(
            tenant=created.tenant, channel="api",
            payloads=[{"name": "张伟", "company": "北京纷扬科技有限公司", "email": "zhangwei@fenyang.cn", "source": "抖音"}],
        )
        duplicate = dup_outcome.lead

    return {"reps": reps, "showcase": showcase, "duplicate": duplicate, "lead_count": len(leads) + 1}
