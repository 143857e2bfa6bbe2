"""Labelled duplicate pairs of our own, in the shape of the shared `dedup_pairs.csv`, to judge the
matcher on names, companies and forms the shared file does not show (dev tooling).

    python -m tools.dedup_variants [--count 2000] [--seed 7] [--out pairs.csv]

Its vocabulary is deliberately not the shared file's: other brands (two to four characters,
Latin ones too), other cities and provinces (Hong Kong and Taiwan among them), other industries,
compound surnames and Hong Kong names with English ones. Its forms are what people in mainland
China, Hong Kong and Taiwan type: Traditional characters (OpenCC s2t / s2hk / s2tw), 臺/台,
股份有限公司 for 有限公司, (集团), branch offices, regions in brackets, stacked or as a province,
districts, spaces and full-width characters, dropped or shortened industry words, English names
beside Chinese ones, honorifics after names, English legal suffixes, product aliases. Negatives are
hard: one brand character changed for a homophone or look-alike, the same surname with a title
("王总"), another person with the same surname, the same name at another company, the same brand
in another city and trade, neighbouring mobiles.

Each row may carry `aliases` (JSON: alias → company) for the tenant's alias table.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from opencc_purepy import OpenCC


def _words(text: str) -> list[str]:
    """Word lists are written as space-separated text: hundreds of Chinese words read better so."""
    return text.split()


FIELDS = ["kind", "same", "a_name", "a_company", "a_mobile", "a_email", "b_name", "b_company", "b_mobile", "b_email", "aliases"]

_S2T = {config: OpenCC(config) for config in ("s2t", "s2hk", "s2tw")}

# Brand characters with their pinyin (for English names) and homophones or look-alikes (for the
# one-character-different negatives).
_BRAND_CHARS: dict[str, tuple[str, str]] = {
    "凯": ("kai", "恺楷铠"), "奥": ("ao", "澳傲"), "亿": ("yi", "易艺益"), "锐": ("rui", "瑞睿蕊"),
    "鑫": ("xin", "欣新馨"), "润": ("run", "闰"), "腾": ("teng", "滕藤"), "航": ("hang", "杭行"),
    "美": ("mei", "梅玫"), "佳": ("jia", "嘉家"), "捷": ("jie", "杰洁"), "力": ("li", "立丽利"),
    "优": ("you", "友佑"), "众": ("zhong", "中忠钟"), "卓": ("zhuo", "桌灼"), "越": ("yue", "悦跃粤"),
    "骏": ("jun", "俊峻"), "鹏": ("peng", "朋彭"), "鸿": ("hong", "宏洪红"), "旭": ("xu", "煦序"),
    "晖": ("hui", "辉徽"), "耀": ("yao", "瑶遥"), "弘": ("hong", "宏泓"), "正": ("zheng", "政铮"),
    "方": ("fang", "芳坊"), "汉": ("han", "瀚翰"), "唐": ("tang", "棠堂"), "威": ("wei", "维伟"),
    "尚": ("shang", "上商"), "品": ("pin", "聘"), "蓝": ("lan", "兰岚"), "源": ("yuan", "元远圆"),
    "坤": ("kun", "昆琨"), "乾": ("qian", "谦倩"), "光": ("guang", "广"), "宇": ("yu", "羽雨禹"),
    "海": ("hai", "凯"), "峰": ("feng", "锋丰风"), "诚": ("cheng", "成承城"), "银": ("yin", "音"),
    "龙": ("long", "隆珑"), "飞": ("fei", "菲非"), "祥": ("xiang", "翔详"), "康": ("kang", "慷"),
    "舜": ("shun", "顺"), "璟": ("jing", "景晶"), "麒": ("qi", "琪祺"), "迈": ("mai", "麦"),
    "拓": ("tuo", "托"), "展": ("zhan", "战湛"), "维": ("wei", "唯"), "泽": ("ze", "择则"),
}
_BRANDS_LATIN = ["Kingtop", "Sinoway", "Brightex", "Novacore", "Everwin", "Unitrend", "Hexalink", "Goldsea"]

# Industries with the short forms people use for them.
_INDUSTRIES: dict[str, list[str]] = {
    "文化传媒": ["文化", "传媒"], "建筑工程": ["建筑", "工程"], "食品": ["食品"], "化工": ["化工"],
    "物业管理": ["物业"], "人力资源": ["人力资源"], "广告": ["广告"], "餐饮管理": ["餐饮"],
    "网络科技": ["科技", "网络"], "信息技术": ["信息", "科技"], "生物医药": ["生物", "医药"],
    "新材料": ["材料"], "国际贸易": ["贸易", "国际"], "精密机械": ["机械", "精密"], "光电科技": ["光电", "科技"],
    "汽车销售服务": ["汽车"], "企业管理咨询": ["咨询", "企业管理"], "投资管理": ["投资"],
    "电子科技": ["电子", "科技"], "实业": ["实业"], "国际物流": ["物流"], "农业科技": ["农业"],
}
_INDUSTRY_EN = {"网络科技": "Network Technology", "信息技术": "Information Technology", "文化传媒": "Media",
                "生物医药": "Biomedical", "国际贸易": "International Trading", "电子科技": "Electronic Technology"}
# Cities with their provinces; Hong Kong and Taiwan write their own forms.
_CITIES: dict[str, str] = {
    "沈阳": "辽宁", "大连": "辽宁", "昆明": "云南", "福州": "福建", "佛山": "广东", "无锡": "江苏", "常州": "江苏",
    "温州": "浙江", "绍兴": "浙江", "南昌": "江西", "太原": "山西", "石家庄": "河北", "哈尔滨": "黑龙江",
    "长春": "吉林", "南宁": "广西", "贵阳": "贵州", "兰州": "甘肃", "乌鲁木齐": "新疆", "呼和浩特": "内蒙古",
    "烟台": "山东", "潍坊": "山东", "珠海": "广东", "惠州": "广东", "泉州": "福建", "洛阳": "河南", "宜昌": "湖北",
    "株洲": "湖南", "绵阳": "四川", "芜湖": "安徽", "嘉兴": "浙江", "徐州": "江苏", "海口": "海南", "银川": "宁夏",
}
_PROVINCE_FULL = {"广西": "广西壮族自治区", "新疆": "新疆维吾尔自治区", "内蒙古": "内蒙古自治区", "宁夏": "宁夏回族自治区"}
_DISTRICTS = {"沈阳": "浑南区", "大连": "甘井子区", "昆明": "五华区", "佛山": "南海区", "无锡": "滨湖区", "温州": "鹿城区",
              "福州": "鼓楼区", "珠海": "香洲区", "烟台": "芝罘区", "嘉兴": "南湖区"}
_HK_TW = {"香港": "", "台北": "台湾", "台中": "台湾", "高雄": "台湾", "新竹": "台湾"}
_LEGAL = ["有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "控股有限公司"]

_SURNAMES = _words("李 王 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 彭 曾 萧 田 董 潘 袁 蔡 蒋 余 杜 叶 程 魏 苏 吕 丁 任 沈 姚 卢 钟 姜 崔 谭 陆 范 汪 廖 石 金 韦 贾 夏 付 方 邹 熊 白 孟 秦 邱 侯 江 尹 薛 闫 段 雷 龙 黎 史 陶 贺 毛 郝 顾 龚 邵 万 覃 武 钱 戴 严 欧阳 司马 上官 诸葛 东方 皇甫 慕容 令狐")
_GIVEN = _words("子涵 梓萱 浩然 宇轩 思远 佳怡 欣妍 俊杰 嘉懿 晓东 海燕 丽华 建华 志强 秀英 婷 磊 勇 艳 超 斌 鹏 颖 倩 晨 瑶 琳 涛 杰 峰 嘉欣 雅婷 家豪 咏诗 伟明 国荣 志伟 美玲 淑芬 冠宇 宗翰 怡君 承恩")
_HOMOPHONE_SURNAME = {"王": "汪", "张": "章", "李": "黎", "陈": "程", "林": "凌", "周": "邹", "徐": "许", "杨": "阳"}
_ENGLISH_GIVEN = ["Peter", "Mary", "Kevin", "Jason", "Grace", "Eric", "Vivian", "Tony", "Cindy", "Alan"]
_CANTONESE = {"陈": "Chan", "李": "Lee", "张": "Cheung", "黄": "Wong", "刘": "Lau", "林": "Lam", "吴": "Ng", "郑": "Cheng"}
# Allocated mobile number blocks (号段) only: a number outside them is quarantined, never matched.
_MOBILE_BLOCKS = _words("130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199")
_HONORIFICS = ["先生", "女士", "小姐", "经理", "总监", "老师"]
_TITLES_ONLY = ["总", "经理", "总监", "老师", "工", "主任"]


@dataclass(frozen=True)
class Company:
    brand: str
    industry: str
    city: str
    legal: str

    @property
    def province(self) -> str:
        return _CITIES.get(self.city) or _HK_TW.get(self.city, "")

    @property
    def canonical(self) -> str:
        return f"{self.city}{self.brand}{self.industry}{self.legal}"

    @property
    def english(self) -> str:
        latin = "".join(_BRAND_CHARS[c][0] for c in self.brand if c in _BRAND_CHARS).capitalize() or self.brand
        return f"{latin} {_INDUSTRY_EN.get(self.industry, 'Technology')}"


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0

    # --- values -------------------------------------------------------------------------------

    def brand(self) -> str:
        length = self.rng.choices([2, 3, 4], weights=[70, 22, 8])[0]
        return "".join(self.rng.sample(list(_BRAND_CHARS), length))

    def company(self) -> Company:
        city = self.rng.choice(list(_CITIES) + list(_HK_TW)) if self.rng.random() < 0.9 else self.rng.choice(list(_CITIES))
        return Company(self.brand(), self.rng.choice(list(_INDUSTRIES)), city, self.rng.choice(_LEGAL))

    def person(self) -> str:
        return self.rng.choice(_SURNAMES) + self.rng.choice(_GIVEN)

    def mobile(self) -> str:
        return self.rng.choice(_MOBILE_BLOCKS) + f"{self.rng.randint(0, 99_999_999):08d}"

    def email(self, side: str) -> str:
        self.serial += 1
        return f"{side}{self.serial}@{self.rng.choice(['qq.com', '163.com', 'foxmail.com', 'example.com.hk', 'hinet.net'])}"

    # --- how people type them -----------------------------------------------------------------

    def mobile_form(self, mobile: str) -> str:
        n = mobile
        forms = [
            f"+86 {n[:3]} {n[3:7]} {n[7:]}", f"0086{n}", f"86-{n}", f"(+86){n}", f"（+86）{n}", f"{n[:3]}-{n[3:7]}-{n[7:]}",
            f"{n[:3]} {n[3:7]} {n[7:]}", f"+86-{n[:3]}-{n[3:7]}-{n[7:]}", f"{n[:3]}.{n[3:7]}.{n[7:]}",
            n.translate(str.maketrans("0123456789", "０１２３４５６７８９")), f"＋８６ {n}", f"手机：{n}", f" {n} ",
            n[:5] + n[5:].translate(str.maketrans("0123456789", "０１２３４５６７８９")), f"+86 ({n[:3]}) {n[3:7]} {n[7:]}",
        ]
        return self.rng.choice(forms)

    def email_form(self, email: str) -> str:
        local, domain = email.split("@")
        forms = [email.upper(), f"  {email} ", f"mailto:{email}", f"{local}＠{domain}", f"{local}@{domain.replace('.', '。', 1)}",
                 f"<{email}>", f"{self.person()} <{email.upper()}>", email.capitalize(), f"MAILTO:{email.upper()}",
                 f"{local.upper()}＠{domain.upper()}"]
        return self.rng.choice(forms)

    def traditional(self, text: str) -> str:
        return _S2T[self.rng.choice(list(_S2T))].convert(text)

    def person_form(self, name: str) -> str:
        surname = next((s for s in _SURNAMES if len(s) == 2 and name.startswith(s)), name[0])
        given = name[len(surname) :]
        forms: list[Callable[[], str]] = [
            lambda: self.traditional(name), lambda: f"{surname} {given}", lambda: f"{surname}·{given}",
            lambda: f"{name}{self.rng.choice(_HONORIFICS)}", lambda: f" {name} ", lambda: f"{surname}\u3000{given}",
            lambda: f"{self.traditional(name)} {self.rng.choice(_ENGLISH_GIVEN)}", lambda: f"{self.rng.choice(_ENGLISH_GIVEN)} {name}",
            lambda: f"{name}（{self.rng.choice(_ENGLISH_GIVEN)}）", lambda: f"{self.traditional(name)}{self.rng.choice(['先生', '小姐'])}",
        ]
        return self.rng.choice(forms)()

    def company_form(self, c: Company) -> str:
        """One way of writing `c` that still names it (never another city's company)."""
        region_forms: list[Callable[[], tuple[str, str, str]]] = [  # (before brand, after industry, after legal)
            lambda: ("", "", ""),
            lambda: (c.city, "", ""),
            lambda: (c.city + ("市" if c.province not in ("", "台湾") else ""), "", ""),
            lambda: (self._province(c) + c.city, "", ""),
            lambda: (self._province(c) + "省" * (c.province not in _PROVINCE_FULL and c.province not in ("", "台湾")) + c.city + "市" * (c.province not in ("", "台湾")), "", ""),
            lambda: (self._province(c), "", "") if c.province else (c.city, "", ""),
            lambda: ("", f"（{c.city}）", ""),
            lambda: ("", f"({c.city})", ""),
            lambda: (c.city + "市" + _DISTRICTS[c.city], "", "") if c.city in _DISTRICTS else (c.city, "", ""),
            lambda: (c.city, "", self.rng.choice(list(_CITIES)) + "分公司"),
            lambda: ("", "", self.rng.choice(list(_CITIES)) + self.rng.choice(["分公司", "办事处"])),
        ]
        before, after_industry, after_legal = self.rng.choice(region_forms)()
        industry = self.rng.choice([c.industry, c.industry, "", self.rng.choice(_INDUSTRIES.get(c.industry, [c.industry]))])
        legal = self.rng.choice([c.legal, "", "有限公司", "股份有限公司", "(集团)有限公司", "集团", "公司"])
        if after_legal and not legal:
            legal = "有限公司"
        if after_industry and not legal:
            legal = "有限公司"
        parts = [before, c.brand, industry, after_industry, legal, after_legal]
        if not industry and not legal and not before:
            parts[0] = c.city  # a bare brand alone is too little for anyone to write
        text = self.rng.choice(["", " "]).join(p for p in parts if p)
        if self.rng.random() < 0.3:
            text = self.traditional(text)
        if self.rng.random() < 0.15:
            text = text.replace("(", "（").replace(")", "）")
        if self.rng.random() < 0.1:
            text = f" {text} "
        if self.rng.random() < 0.08:
            text = f"{text} {c.english} Co., Ltd."
        return text

    def _province(self, c: Company) -> str:
        return _PROVINCE_FULL.get(c.province, c.province) if c.province else ""

    def lookalike(self, c: Company) -> Company:
        position = self.rng.randrange(len(c.brand))
        char = c.brand[position]
        other = self.rng.choice(_BRAND_CHARS[char][1]) if char in _BRAND_CHARS else "新"
        return Company(c.brand[:position] + other + c.brand[position + 1 :], c.industry, c.city, c.legal)

    def other_person(self, name: str) -> str:
        surname = next((s for s in _SURNAMES if len(s) == 2 and name.startswith(s)), name[0])
        choices: list[Callable[[], str]] = [
            lambda: surname + self.rng.choice([g for g in _GIVEN if g != name[len(surname) :]]),
            lambda: surname + self.rng.choice(_TITLES_ONLY),
            lambda: _HOMOPHONE_SURNAME.get(surname, "付") + name[len(surname) :],
            lambda: self.person(),
            lambda: name[:-1] if len(name) - len(surname) >= 2 else name + self.rng.choice("明华"),
        ]
        other = self.rng.choice(choices)()
        return other if other != name else other + "华"

    # --- pairs --------------------------------------------------------------------------------

    def pair(self, kind: str) -> dict[str, str]:
        c, name, mobile = self.company(), self.person(), self.mobile()
        a = {"a_name": name, "a_company": c.canonical, "a_mobile": mobile, "a_email": self.email("a")}
        b: dict[str, str]
        aliases = ""
        if kind == "same_mobile":
            b = {"b_name": self.rng.choice(["", name, self.person()]), "b_company": self.rng.choice(["", c.canonical]), "b_mobile": self.mobile_form(mobile), "b_email": ""}
        elif kind == "same_email":
            b = {"b_name": self.rng.choice([name, self.person()]), "b_company": self.rng.choice(["", c.canonical]), "b_mobile": "", "b_email": self.email_form(a["a_email"])}
        elif kind == "near_mobile":
            near = mobile[:-1] + str((int(mobile[-1]) + self.rng.randint(1, 9)) % 10)
            b = {"b_name": self.person(), "b_company": "", "b_mobile": self.mobile_form(near), "b_email": self.email("b")}
        elif kind == "company_variant":
            b = {"b_name": self.rng.choice([name, name, self.person_form(name)]), "b_company": self.company_form(c), "b_mobile": self.mobile(), "b_email": self.email("b")}
        elif kind == "latin_company_variant":
            latin = self.rng.choice(_BRANDS_LATIN)
            a["a_company"] = f"{latin} {self.rng.choice(['Technology', 'Trading', 'Industrial'])} Co., Ltd."
            b_company = self.rng.choice([f"{latin.upper()} LIMITED", f"{latin} Co Ltd", f"{latin.lower()} (Hong Kong) Limited", f"{latin} Holdings Ltd.", f"{latin} Group"])
            b = {"b_name": self.rng.choice([name, self.person_form(name)]), "b_company": b_company, "b_mobile": self.mobile(), "b_email": self.email("b")}
        elif kind == "latin_person_variant":
            first, last = self.rng.choice(_ENGLISH_GIVEN), self.rng.choice(list(_CANTONESE.values()))
            a["a_name"] = f"{first} {last}"
            b_name = self.rng.choice([f"{first.lower()}  {last.lower()}", f"{last.upper()} {first}", f"{last}, {first}", f"Mr. {first} {last}", f" {first.upper()} {last.upper()} "])
            b = {"b_name": b_name, "b_company": self.company_form(c), "b_mobile": self.mobile(), "b_email": self.email("b")}
        elif kind == "alias":
            product = self.brand() + self.rng.choice(["销客", "云", "通", "宝", "助手"])
            aliases = json.dumps({product: c.canonical}, ensure_ascii=False)
            b = {"b_name": name, "b_company": self.rng.choice([product, self.traditional(product), f"{product}系统", f" {product} "]), "b_mobile": self.mobile(), "b_email": self.email("b")}
        elif kind == "lookalike_company_same_name":
            other = self.lookalike(c)
            b_company = other.canonical if self.rng.random() < 0.6 else self.company_form(other)
            b = {"b_name": name, "b_company": b_company, "b_mobile": self.mobile(), "b_email": self.email("b")}
        elif kind == "same_company_other_person":
            b = {"b_name": self.other_person(name), "b_company": self.company_form(c), "b_mobile": self.mobile(), "b_email": self.email("b")}
        elif kind == "same_name_other_company":
            other = self.company()
            b = {"b_name": self.rng.choice([name, self.person_form(name)]), "b_company": other.canonical, "b_mobile": self.mobile(), "b_email": self.email("b")}
        elif kind == "same_brand_elsewhere":
            city = self.rng.choice([x for x in _CITIES if _CITIES[x] != c.province])
            industry = self.rng.choice([i for i in ("食品", "化工", "广告", "物业管理", "餐饮管理", "建筑工程") if i != c.industry])
            other = Company(c.brand, industry, city, c.legal)
            b = {"b_name": name, "b_company": other.canonical, "b_mobile": self.mobile(), "b_email": self.email("b")}
        else:
            raise ValueError(kind)
        same = kind in POSITIVE_KINDS
        return {"kind": kind, "same": str(int(same)), **a, **b, "aliases": aliases}

    def pairs(self, count: int) -> list[dict[str, str]]:
        kinds = list(KIND_WEIGHTS)
        weights = list(KIND_WEIGHTS.values())
        return [self.pair(self.rng.choices(kinds, weights=weights)[0]) for _ in range(count)]


POSITIVE_KINDS = {"same_mobile", "same_email", "company_variant", "latin_company_variant", "latin_person_variant", "alias"}
KIND_WEIGHTS = {
    "same_mobile": 12, "same_email": 10, "company_variant": 30, "latin_company_variant": 3, "latin_person_variant": 3,
    "alias": 3, "lookalike_company_same_name": 16, "same_company_other_person": 12, "same_name_other_company": 10,
    "same_brand_elsewhere": 4, "near_mobile": 5,
}


def generate_pairs(*, count: int, seed: int) -> list[dict[str, str]]:
    return Generator(seed).pairs(count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    rows = generate_pairs(count=args.count, seed=args.seed)
    out = args.out.open("w", newline="", encoding="utf-8") if args.out else sys.stdout
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
