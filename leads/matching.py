"""Duplicate matching of companies and contact people (SPEC §3, the ToB rule "company (fuzzy) AND
contact name"). Pure: no ORM, no I/O; unit-tested without a database.

A Chinese company name is written as [region] 字号 (brand) [industry] [legal form] [branch], and
people add, drop, reorder or restyle every part except the brand: "北京纷扬科技有限公司",
"北京纷扬", "纷扬科技", "北京市纷扬科技有限公司", "纷扬科技（北京）有限公司", "北京 纷扬 科技",
"北京紛揚科技有限公司" and "北京纷扬科技有限公司上海分公司" are one company. So matching works on
the brand, extracted the same way on both sides:

1. fold the text: full-width to half-width (NFKC), Traditional to Simplified (OpenCC t2s, plus a
   few variant characters it leaves alone), lower case;
2. drop brackets with what they hold (（北京）, (集团), (Fenyang Tech Ltd)), then spaces and
   punctuation; an English name standing beside a Chinese one is a translation and is dropped;
3. cut the branch after the first "公司" (…有限公司上海分公司), then strip legal forms, branch words
   and a trailing region from the end;
4. strip region prefixes from the front: province, city, district, stacked (四川省成都, 深圳市南山区);
5. split what is left at the first industry word from its third character on: the part before is
   the brand (字号), the rest the industry ("纷扬" | "网络科技").

Invariants, and why:
- Every stripping step keeps at least two characters of brand. "北京金华环保科技" loses 北京 but
  keeps 金华 (a city name used as a brand), so it still meets "金华环保科技"; a name that is all
  region and industry ("北京科技有限公司") keeps its region as the brand rather than becoming empty.
- Brands are compared exactly, never by edit distance: "纷鼎"/"纷定", "瑞智"/"睿智", "华瑞"/"化瑞"
  are different registered companies, and in a two- or three-character brand one character is
  the whole difference. Leniency goes where people really vary the text (region, legal form,
  industry, brackets, script, width, spacing), not into the brand.
- Two brands also match when one is the other plus a word of two or more characters
  ("百度" ~ "百度网讯", an unlisted descriptor), but not plus one character ("纷扬" vs "纷扬达" is
  another brand).
- Equal brands are vetoed when the two names say incompatible things: regions that cannot be the
  same place (北京 vs 上海; 合肥 and 安徽 are compatible: the city is in the province) or
  industries from disjoint families (物流 vs 教育; 科技 alone is compatible with everything).
  Brands collide across unrelated companies (宏达, 华信…); the veto keeps that from merging them.
- Latin names (Hong Kong, Taiwan, foreign firms) go through the same steps with English legal,
  industry and place words; there, and only there, a typo is tolerated (rapidfuzz ratio ≥ 92 on
  brands of eight letters or more). A Chinese name never matches a Latin one except through the
  tenant's aliases: romanisation is many-to-one (Wang Wei is 王伟, 王薇, 汪伟…).
- The tenant alias table (product or brand name → company, "纷享销客" → "北京纷扬科技有限公司") is
  resolved on each side before comparing, by the alias's core, brand or whole folded text.

Person names (`person_name_key`): the same folding, then for a Chinese name only its Chinese
characters (so "王 萱强", "王·萱强", "王萱強", "王萱强先生", "陳大文 Peter" key as one), with
honorifics and job titles stripped; for a Latin name its letters, whatever the case, order,
spacing or hyphens ("David Wang" = "david  wang" = "Wang, David"; "Chan Tai-man" = "CHAN Tai Man"). A surname with a title ("王总",
"王经理") keys as typed: it meets the same form again but never a full name ("王萱强") nor another
title ("王经理"), since a surname alone cannot tell two people at one company apart. "Wang Wei" does
not meet "王伟", for the romanisation reason above.

The database look-up stores `company_brand(…)` and `person_name_key(…)` per lead and finds
candidates by equality and prefix (see `brand_prefixes`); `same_company` decides on them.
Everything is cached: intake calls these for every lead of a 1,000-lead batch.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from opencc_purepy import OpenCC
from rapidfuzz import fuzz


def _words(text: str) -> list[str]:
    """Word lists are written as space-separated text: hundreds of Chinese words read better so."""
    return text.split()


# --- folding ------------------------------------------------------------------------------------

_T2S = OpenCC("t2s")
# Variants OpenCC's t2s leaves as they are, seen in Hong Kong and Taiwan names.
_VARIANTS = str.maketrans({"衞": "卫", "硏": "研", "粧": "妆", "锺": "钟", "甯": "宁", "靑": "青", "淸": "清", "姫": "姬", "吿": "告", "綫": "线"})
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAS_CJK = re.compile(f"[{_CJK}]")
_NOT_CJK = re.compile(f"[^{_CJK}]+")
_NOT_WORD = re.compile(f"[^{_CJK}a-z0-9]+")
_LATIN_WORD = re.compile(r"[a-z0-9]+")
# Brackets and what they hold: a region (（北京）), a legal form ((集团)), a translation. 「」 and 《》
# quote the name itself and stay.
_BRACKETED = re.compile(r"[(\[【〔〖{<][^()\[\]【】〔〕〖〗{}<>]*[)\]】〕〗}>]")
_BRACKET_CHARS = re.compile(r"[()\[\]【】〔〕〖〗{}<>「」『』《》〈〉\"'“”‘’]")


@lru_cache(maxsize=16_384)
def _is_traditional(char: str) -> bool:
    return _T2S.convert(char) != char


@lru_cache(maxsize=65_536)
def fold(text: str) -> str:
    """Full-width to half-width, Traditional to Simplified, lower case, whitespace runs to one space."""
    text = unicodedata.normalize("NFKC", text)
    # OpenCC converts phrase by phrase and costs ~25 µs a name; most names are Simplified already,
    # which a per-character look-up tells in ~1 µs.
    if not text.isascii() and any(_is_traditional(char) for char in text):
        text = _T2S.convert(text)
    return " ".join(text.translate(_VARIANTS).lower().split())


def _drop_brackets(text: str) -> str:
    """Brackets with their content, unless that would leave nothing ("（王萱强）")."""
    dropped = text
    for _ in range(3):  # nested brackets, innermost first
        inner = _BRACKETED.sub(" ", dropped)
        if inner == dropped:
            break
        dropped = inner
    if not _NOT_WORD.sub("", dropped):
        dropped = text
    return _BRACKET_CHARS.sub(" ", dropped)


# --- regions ------------------------------------------------------------------------------------

# Province-level divisions and their prefecture-level cities (plus county-level cities that name
# many companies). A province with "" has no cities listed on purpose.
_PROVINCE_CITIES: dict[str, str] = {
    "北京": "海淀 朝阳区 中关村", "天津": "滨海", "上海": "浦东", "重庆": "",
    "河北": "石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水 三河 迁安 定州 辛集 任丘",
    "山西": "太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁",
    "内蒙古": "呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布 锡林郭勒 阿拉善",
    "辽宁": "沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛",
    "吉林": "长春 四平 辽源 通化 白山 松原 白城 延边",
    "黑龙江": "哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化",
    "江苏": "南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁 昆山 江阴 张家港 常熟 太仓 宜兴 丹阳 溧阳 如皋 靖江",
    "浙江": "杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水 义乌 慈溪 余姚 诸暨 乐清 瑞安 温岭 海宁 桐乡 永康 东阳 临海",
    "安徽": "合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城",
    "福建": "福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德 晋江 石狮 福清 南安",
    "江西": "南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶",
    "山东": "济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽 寿光 龙口 胶州 荣成 即墨",
    "河南": "郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店 济源",
    "湖北": "武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州 恩施 仙桃 潜江 天门",
    "湖南": "长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 湘西",
    "广东": "广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山 潮州 揭阳 云浮 顺德 南海",
    "广西": "南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左",
    "海南": "海口 三亚 儋州",
    "四川": "成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳 凉山",
    "贵州": "贵阳 六盘水 遵义 安顺 毕节 铜仁",
    "云南": "昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧 楚雄 红河 大理 西双版纳 德宏",
    "西藏": "拉萨 日喀则 昌都 林芝 山南 那曲",
    "陕西": "西安 铜川 宝鸡 咸阳 渭南 延安 汉中 榆林 安康 商洛",
    "甘肃": "兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南",
    "青海": "西宁 海东",
    "宁夏": "银川 石嘴山 吴忠 固原 中卫",
    "新疆": "乌鲁木齐 克拉玛依 吐鲁番 哈密 昌吉 阿克苏 喀什 和田 伊犁 石河子",
    "台湾": "台北 新北 桃园 台中 台南 高雄 基隆 新竹 嘉义 苗栗 彰化 南投 云林 屏东 宜兰 花莲 台东",
    "香港": "九龙 新界 港岛",
    "澳门": "",
}
_AUTONOMOUS_FULL = {"内蒙古自治区": "内蒙古", "广西壮族自治区": "广西", "西藏自治区": "西藏", "宁夏回族自治区": "宁夏", "新疆维吾尔自治区": "新疆"}
_COUNTRY = ("中国", "中华人民共和国")


@dataclass(frozen=True)
class _Place:
    province: str  # "" for the whole country
    city: str  # "" for a province-level name


def _build_places() -> dict[str, _Place]:
    places: dict[str, _Place] = {}
    for province, cities in _PROVINCE_CITIES.items():
        for form in (province, province + "省", province + "市", province + "自治区", province + "特别行政区"):
            places[form] = _Place(province, "")
        for city in cities.split():
            place = _Place(province, city.removesuffix("区"))
            for form in (city, city + "市", city + "地区", city + "区", city + "县", city + "新区", city + "自治州"):
                places.setdefault(form, place)
    for full, province in _AUTONOMOUS_FULL.items():
        places[full] = _Place(province, "")
    for country in _COUNTRY:
        places[country] = _Place("", "")
    return places


def _by_edge(words: Iterable[str], *, size: int, last: bool = False) -> dict[str, tuple[str, ...]]:
    """Words by their first (or last) `size` characters, longest first: a look-up tries only the
    few words that can fit, and most names start (or end) with characters no word has there."""
    index: dict[str, list[str]] = {}
    for word in sorted(words, key=len, reverse=True):
        index.setdefault(word[-size:] if last else word[:size], []).append(word)
    return {edge: tuple(group) for edge, group in index.items()}


_PLACES = _build_places()
_PLACES_BY_FIRST = _by_edge(_PLACES, size=2)  # every form has two characters or more
_PLACES_BY_LAST = _by_edge(_PLACES, size=2, last=True)
# A district or county after a stripped city: 南山区, 浦东新区, 余杭区, 萧山区, 高新区, 开发区.
_DISTRICT = re.compile(f"^[{_CJK}]{{1,4}}?(?:新区|开发区|区|县)")


def _place_prefix(text: str) -> tuple[str, _Place] | None:
    for form in _PLACES_BY_FIRST.get(text[:2], ()):
        if len(form) < len(text) and text.startswith(form):
            return form, _PLACES[form]
    return None


def _place_suffix(text: str) -> tuple[str, _Place] | None:
    for form in _PLACES_BY_LAST.get(text[-2:], ()):
        if len(form) < len(text) and text.endswith(form):
            return form, _PLACES[form]
    return None


# --- legal forms, branches, industries ----------------------------------------------------------

_LEGAL_CJK = frozenset(
    _words("股份有限公司 有限责任公司 有限公司 股份公司 集团公司 总公司 分公司 公司 集团 控股 股份 有限 "
    "合伙企业 有限合伙 普通合伙 个人独资企业 独资企业 个体工商户 个体户 工作室 经营部 门市部 商行 事务所 "
    "办事处 代表处 营业部 分部 分店 分行 支行 总部 分厂 厂 企业社 商号")
)
_LEGAL_BY_LAST = _by_edge(_LEGAL_CJK, size=1, last=True)  # 厂 is one character
# Where a branch starts: what follows the first of these is the branch (…有限公司上海分公司).
_BRANCH_CUT = re.compile("(?:股份有限公司|有限责任公司|有限公司|公司)")

# Industry words (行业) and the families used to tell "纷扬物流" from "纷扬教育". A word may sit in
# several families (智能: tech and equipment). Family "" words are generic: they end a brand
# but say nothing about the line of business (科技 names companies of every trade).
_INDUSTRY_FAMILIES: dict[str, str] = {
    "": "科技 技术 实业 发展 产业 企业 国际 事业 高科技 新技术 经营 管理 服务 技术服务 技术开发 科技发展 "
    "控股 中心 有限 集团",
    "tech": "信息 信息技术 信息科技 网络 网络科技 网络技术 软件 计算机 电脑 数码 数字 数字科技 数据 大数据 数据服务 "
    "云计算 互联网 通信 通讯 电子 电子科技 智能 智能科技 人工智能 物联网 系统 集成 系统集成 资讯 软体 网路 "
    "电讯 半导体 微电子 光电 芯片 集成电路 游戏 动漫 区块链 安全 网安 自动化 智能化 电子商务",
    "trade": "工贸 国际贸易 电子商务 商务 贸易 商贸 进出口 外贸 经贸 商业 零售 百货 超市 连锁 批发 供应链 供应链管理",
    "logistics": "物流 供应链 供应链管理 运输 货运 快递 仓储 航运 船务 国际货运代理 货运代理 货代 配送 速运",
    "medical": "医疗 医疗器械 医疗科技 器械 医药 药业 制药 生物 生物科技 生物技术 生物医药 基因 健康 医学 诊断 卫生 "
    "大健康 药房 医院 诊所 口腔 康复 养老",
    "environment": "环保 环保科技 环境 环境工程 环境科技 节能 水务 净化 环卫 生态 再生资源 新能源",
    "energy": "新能源 能源 电力 光伏 太阳能 风电 电气 储能 石油 石化 燃气 煤炭 电池 节能",
    "equipment": "机械 机械制造 制造 装备 智能装备 设备 机电 自动化 工业 精密 模具 五金 机床 仪器 仪表 材料 "
    "新材料 化工 塑胶 塑料 橡胶 钢铁 金属 汽车 汽配 零部件 电器 家电 纺织 服装 服饰 鞋业 家具 包装 印刷 "
    "建材 陶瓷 玻璃 照明 电机 阀门 泵业 重工 轻工 电子 智能 制品 器材 工程机械 机器人",
    "education": "教育 教育科技 教育咨询 培训 学校 留学 文教 幼儿园 职业技能",
    "media": "文化 传媒 文化传媒 文化传播 传播 广告 影视 影业 娱乐 出版 艺术 设计 创意 会展 展览 体育 旅游 "
    "旅行社 酒店 演艺 网络科技",
    "services": "咨询 管理咨询 企业管理 顾问 人力资源 外包 财务 会计 法律 知识产权 代理 营销 策划 劳务 物业 "
    "物业管理 保洁 家政 安保 保安 租赁 人才 招聘 检测 认证 商务咨询",
    "finance": "金融 投资 投资管理 资产管理 资本 基金 证券 保险 银行 信托 担保 融资租赁 支付 小额贷款 典当 "
    "期货 财富 金服",
    "property": "房地产 房地产开发 地产 置业 房产 建筑 建设 工程 装饰 装修 装饰工程 建筑工程 市政 园林 绿化 "
    "景观 规划 勘察 测绘 设计院 物业",
    "food": "餐饮管理 酒店 食品 农业 农牧 牧业 畜牧 养殖 种植 渔业 饮料 饮品 酒业 茶业 茶叶 粮油 餐饮 水产 果业 乳业 生鲜 "
    "农产品 调味品 烟草",
}


def _build_industries() -> dict[str, frozenset[str]]:
    families: dict[str, set[str]] = {}
    for family, words in _INDUSTRY_FAMILIES.items():
        for word in words.split():
            families.setdefault(word, set())
            if family:
                families[word].add(family)
    return {word: frozenset(names) for word, names in families.items()}


_INDUSTRIES = _build_industries()
_INDUSTRIES_BY_FIRST = _by_edge(_INDUSTRIES, size=2)  # every word has two characters or more


def _industry_word_at(text: str, start: int) -> str:
    """The longest industry word starting at `start`, or ""."""
    for word in _INDUSTRIES_BY_FIRST.get(text[start : start + 2], ()):
        if text.startswith(word, start):
            return word
    return ""

# English counterparts for Latin names.
_LATIN_LEGAL = frozenset(
    _words("co company companies ltd limited inc incorporated corp corporation llc llp plc lp gmbh ag sa sas bv nv "
    "pte pty kk srl spa oy ab as group holdings holding the and of")
)
_LATIN_PLACES = frozenset(
    _words("china chinese prc beijing shanghai tianjin chongqing shenzhen guangzhou hangzhou nanjing suzhou chengdu "
    "wuhan xian changsha zhengzhou qingdao xiamen ningbo hefei jinan dongguan foshan wuxi dalian shenyang "
    "kunming fuzhou hong kong hongkong hk macau macao taiwan taipei kaohsiung taichung kowloon asia pacific "
    "global international intl worldwide")
)
_LATIN_INDUSTRY = frozenset(
    _words("technology technologies tech software information info network networks digital data cloud internet "
    "electronic electronics ecommerce commerce trading trade import export industrial industries industry "
    "enterprise enterprises development science sciences scientific medical biotech biotechnology "
    "pharmaceutical pharma health healthcare logistics supply chain management services service solutions "
    "systems system energy environmental environment machinery manufacturing equipment intelligent smart "
    "education culture media consulting consultants investment investments capital finance financial "
    "properties property real estate construction engineering food foods")
)
_LEADING_LATIN = re.compile(r"^[a-z]+")
_LATIN_TITLES = frozenset(_words("mr mrs ms miss mdm madam dr prof sir mister"))


# --- companies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyName:
    """A company name taken apart. `brand` is what duplicate matching compares."""

    brand: str  # 字号: "纷扬"; "fenyang" for a Latin name; "" when nothing is left
    industry: str  # "网络科技"; "" when the name gives none
    province: str  # "北京"; "" when the name gives none
    city: str  # "成都"; "" when the name gives none
    is_latin: bool

    @property
    def core(self) -> str:
        """Brand and industry, no region and no legal form: "纷扬科技"."""
        return self.brand + self.industry

    @property
    def families(self) -> frozenset[str]:
        return _industry_families(self.industry)

    @property
    def is_place_only(self) -> bool:
        """A region and nothing else ("北京", "（北京）"): no company to show or to group by."""
        return not self.industry and self.brand in _PLACES


def _split_industry(core: str) -> tuple[str, str]:
    """Brand | industry at the first industry word that leaves at least two characters of brand."""
    for start in range(2, len(core) - 1):
        if _industry_word_at(core, start):
            return core[:start], core[start:]
    return core, ""


@lru_cache(maxsize=16_384)
def _industry_families(industry: str) -> frozenset[str]:
    """The families of every industry word inside `industry`, overlapping ones too: "餐饮管理" is
    catering (餐饮) whatever else 管理 says, so it stays compatible with a bare "餐饮"."""
    families: set[str] = set()
    for start in range(len(industry) - 1):
        for word in _INDUSTRIES_BY_FIRST.get(industry[start : start + 2], ()):
            if industry.startswith(word, start):
                families |= _INDUSTRIES[word]
    return frozenset(families)


def _strip_legal_suffix(text: str) -> str:
    for word in _LEGAL_BY_LAST.get(text[-1:], ()):
        if len(text) - len(word) >= 2 and text.endswith(word):
            return text[: -len(word)]
    return text


def _is_all_industry(text: str) -> bool:
    position = 0
    while position < len(text):
        if not (word := _industry_word_at(text, position)):
            return False
        position += len(word)
    return True


def _has_brand(text: str, *, place_is_brand: bool = True) -> bool:
    """Whether `text` still holds a brand once its industry words are set aside: at least two
    characters that are not all industry ("环保科技") and, unless `place_is_brand`, not a place."""
    brand = _split_industry(text)[0]
    return len(brand) >= 2 and not _is_all_industry(brand) and (place_is_brand or brand not in _PLACES)


def _parse_cjk(text: str) -> CompanyName:
    # The branch: whatever follows the first 公司 (…有限公司上海分公司, …公司销售部).
    if (cut := _BRANCH_CUT.search(text, 2)) and cut.end() < len(text):
        text = text[: cut.end()]
    province = city = ""
    while (shorter := _strip_legal_suffix(text)) != text:  # legal forms and branch words, from the end
        text = shorter
        # A region right before them names a branch (纷扬科技上海分公司) or, rarely, the seat
        # (纷扬中国有限公司): dropped, and not taken as the company's region, which a branch's is not.
        if (suffix := _place_suffix(text)) and _has_brand(text[: -len(suffix[0])], place_is_brand=False):
            text = text[: -len(suffix[0])]
    stripped_place = False
    if (latin := _LEADING_LATIN.match(text)) and latin.group() in _LATIN_PLACES and _has_brand(text[latin.end() :]):
        text, stripped_place = text[latin.end() :], True  # "Beijing纷扬科技", "HK纷扬"
    while (prefix := _place_prefix(text)) and _has_brand(rest := text[len(prefix[0]) :]):
        _, place = prefix
        if place.province and province and place.province != province and not city:
            # 北京 then 朝阳: read the second as a district of the first, not another province's city
            place = _Place(province, place.city)
        province, city = province or place.province, city or place.city
        text, stripped_place = rest, True
    if stripped_place and (district := _DISTRICT.match(text)) and _has_brand(text[district.end() :]):
        text = text[district.end() :]
    brand, industry = _split_industry(text)
    if industry and (inner := _place_suffix(brand)) and _has_brand(brand[: -len(inner[0])], place_is_brand=False):
        brand = brand[: -len(inner[0])]  # the seat between brand and trade: 纷扬北京科技有限公司
    return CompanyName(brand=brand, industry=industry, province=province, city=city, is_latin=False)


def _parse_latin(text: str) -> CompanyName:
    words = _LATIN_WORD.findall(text)
    while words and words[-1] in _LATIN_LEGAL | _LATIN_PLACES:
        words.pop()
    while len(words) > 1 and words[0] in _LATIN_PLACES | {"the"}:
        words.pop(0)
    brand_words: list[str] = []
    for index, word in enumerate(words):
        if index and (word in _LATIN_INDUSTRY or word in _LATIN_LEGAL):
            industry = " ".join(w for w in words[index:] if w not in _LATIN_LEGAL and w not in _LATIN_PLACES)
            return CompanyName("".join(brand_words), industry, "", "", is_latin=True)
        brand_words.append(word)
    return CompanyName("".join(brand_words), "", "", "", is_latin=True)


def _drop_translation(text: str) -> str:
    """An English name beside a Chinese one ("紛揚科技 Fenyang Technology Ltd") is a translation:
    keep the Chinese. A Latin word inside the Chinese name ("北京 ABC 科技") is part of it."""
    if not _HAS_CJK.search(text):
        return text
    kept: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run and not (len(run) >= 2 or any(word in _LATIN_LEGAL or word in _LATIN_INDUSTRY for word in run)):
            kept.extend(run)
        run.clear()

    for token in text.split(" "):
        if token.isascii():
            run.extend(_LATIN_WORD.findall(token))
        else:
            flush()
            kept.append(token)
    flush()
    return " ".join(kept)


# What people type in the company field when there is none: two 张伟 "个人" are not colleagues.
_NOT_A_COMPANY = frozenset(
    _words(
        "无 暂无 没有 不详 未知 未填 其他 其它 个人 个体 个体户 自由职业 自由职业者 学生 在校学生 家庭主妇 无业 退休 待定 "
        "保密 测试 公司 企业 单位 工作室 na none null nil unknown test testing personal individual self "
        "selfemployed freelance freelancer student retired"
    )
)
_NO_COMPANY = CompanyName("", "", "", "", is_latin=False)


@lru_cache(maxsize=65_536)
def parse_company(name: str) -> CompanyName:
    """The parts of a company name (see the module docstring for the steps)."""
    text = _drop_translation(_drop_brackets(fold(name)))
    compact = _NOT_WORD.sub("", text)
    if not compact or compact in _NOT_A_COMPANY:
        return _NO_COMPANY
    parsed = _parse_latin(text) if not _HAS_CJK.search(compact) else _parse_cjk(compact)
    # A one-character brand is a fragment, not a name two leads can share by chance alone.
    return parsed if len(parsed.brand) >= 2 and parsed.brand not in _NOT_A_COMPANY else _NO_COMPANY


def company_core(name: str) -> str:
    """Brand and industry, without region or legal form: "北京纷扬科技有限公司" → "纷扬科技"."""
    return parse_company(name).core


def company_brand(name: str) -> str:
    """The brand (字号): "北京纷扬科技有限公司", "纷扬科技（北京）有限公司", "北京纷扬" → "纷扬"."""
    return parse_company(name).brand


def brand_prefixes(brand: str) -> list[str]:
    """The shorter brands `brand` extends by a word of two or more characters ("百度网讯" → ["百度"]):
    with `brand` itself, the stored brands a look-up must find by equality. (Stored brands that
    extend `brand` are found by a prefix range: `brand` followed by at least two characters.)"""
    if not brand or brand.isascii():
        return [brand] if brand else []
    return [brand[:length] for length in range(2, len(brand) - 1)] + [brand]


def _brands_match(a: CompanyName, b: CompanyName) -> bool:
    if not a.brand or not b.brand:
        return False
    if a.brand in _PLACES or b.brand in _PLACES:
        # No brand but a region ("北京科技有限公司"): the region and trade together are the name.
        short, long = sorted((a.core, b.core), key=len)
        return long.startswith(short)
    if a.brand == b.brand:  # "ABC" and "北京ABC科技有限公司" too
        return True
    if a.is_latin or b.is_latin:
        return a.is_latin == b.is_latin and min(len(a.brand), len(b.brand)) >= 8 and fuzz.ratio(a.brand, b.brand) >= 92
    short, long = sorted((a.brand, b.brand), key=len)
    return len(short) >= 2 and long.startswith(short) and len(long) - len(short) >= 2


def _places_compatible(a: CompanyName, b: CompanyName) -> bool:
    if a.province and b.province and a.province != b.province:
        return False
    return not (a.city and b.city and a.city != b.city)


def _industries_compatible(a: CompanyName, b: CompanyName) -> bool:
    fa, fb = a.families, b.families
    return not fa or not fb or bool(fa & fb)


def companies_match(a: CompanyName, b: CompanyName) -> bool:
    """The matching rule on parsed names (for callers that parse once and compare many)."""
    return _brands_match(a, b) and _places_compatible(a, b) and _industries_compatible(a, b)


# --- aliases ------------------------------------------------------------------------------------


def alias_key(text: str) -> str:
    """How an alias is looked up: its core, or its folded text when it has none."""
    return company_core(text) or _NOT_WORD.sub("", fold(text))


def alias_index(aliases: Mapping[str, str]) -> dict[str, str]:
    """A tenant's alias table (alias → company, as people typed them) keyed for `resolve_alias`.
    Build it once per batch, not per comparison."""
    return {alias_key(alias): company for alias, company in aliases.items() if alias_key(alias)}


def resolve_alias(name: str, index: Mapping[str, str]) -> str:
    """The company `name` stands for: itself unless its core, brand or folded text is an alias."""
    if not index:
        return name
    parsed = parse_company(name)
    for key in (parsed.core, parsed.brand, _NOT_WORD.sub("", fold(name))):
        if key and (company := index.get(key)):
            return company
    return name


def lookup_brands(name: str, index: Mapping[str, str] | None = None) -> list[str]:
    """The stored brands a database look-up for `name` must search: its own (through the
    aliases) and that of every alias of the same company, since leads keep the brand they were
    typed with ("纷享销客" stays "纷享销客" when the alias is added later). Each is then searched
    with `brand_prefixes` and the range of brands extending it; `same_company` decides."""
    brand = parse_company(resolve_alias(name, index) if index else name).brand
    brands = [brand] if brand else []
    for alias, company in (index or {}).items():
        alias_brand = parse_company(alias).brand or alias
        if brand and parse_company(company).brand == brand and alias_brand not in brands:
            brands.append(alias_brand)
    return brands


# Sorts after every character in the "C" collation: lo..lo+LAST_CHARACTER is "starts with lo".
LAST_CHARACTER = "\U0010ffff"


def lookup_ranges(name: str, index: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """The stored-brand ranges (lo, hi) a database look-up for company `name` searches, for
    `company_brand BETWEEN lo AND hi` under the "C" collation: each brand of `lookup_brands` with
    every brand extending it, and each shorter brand it extends exactly. A superset of what
    `same_company` accepts (it has the last word); empty when `name` has no brand."""
    ranges: list[tuple[str, str]] = []
    for brand in lookup_brands(name, index):
        ranges.extend((shorter, shorter) for shorter in brand_prefixes(brand) if shorter != brand)
        ranges.append((brand, brand + LAST_CHARACTER))
    return ranges


# --- the decisions ------------------------------------------------------------------------------


def same_company(a: str, b: str, aliases: Mapping[str, str] | None = None) -> bool:
    """Whether two company names denote one company. `aliases` is an `alias_index`."""
    if aliases:
        a, b = resolve_alias(a, aliases), resolve_alias(b, aliases)
    return companies_match(parse_company(a), parse_company(b))


def company_similarity(a: str, b: str, aliases: Mapping[str, str] | None = None) -> float:
    """0–100, for ranking look-up results (查重工具): 100 when `same_company`, else how close the
    cores are (rapidfuzz ratio), capped below the match so no ranking can be read as a match."""
    if same_company(a, b, aliases):
        return 100.0
    pa, pb = parse_company(a), parse_company(b)
    if not pa.core or not pb.core:
        return 0.0
    return min(fuzz.ratio(pa.core, pb.core), 99.0)


# --- people -------------------------------------------------------------------------------------

_TITLES = frozenset(
        _words("先生 女士 小姐 太太 夫人 老师 经理 总经理 副总经理 总监 副总监 主任 副主任 主管 董事长 副董事长 董事 总裁 副总裁 "
        "副总 老总 老板 老板娘 部长 副部长 科长 处长 局长 厂长 院长 校长 所长 站长 店长 组长 队长 会长 秘书长 秘书 "
        "助理 专员 工程师 总工 博士 教授 医生 大夫 律师 会计 同学 师傅 总经办 采购 销售 行政 人事 财务 负责人 "
    "联系人 本人 采购经理 销售经理 市场经理 项目经理 技术总监 财务总监 运营总监 总助 经理助理")
)
_TITLE_LENGTHS = sorted({len(title) for title in _TITLES}, reverse=True)
_LATIN_NAME_WORD = re.compile(r"[a-z]+")
_COMPOUND_SURNAMES = frozenset(
    _words("欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 独孤 南宫 西门 申屠 "
    "太史 闻人 万俟 呼延 赫连 澹台 公冶 宗政 濮阳 淳于 单于 钟离 百里 东郭 仲孙 拓跋")
)


@lru_cache(maxsize=65_536)
def person_name_key(name: str) -> str:
    """What two contact names must share to be one person (see the module docstring)."""
    text = _drop_brackets(fold(name))
    if _HAS_CJK.search(text):
        typed = _NOT_CJK.sub("", text)
        bare = typed
        while any(len(bare) > (cut := length) and bare[-length:] in _TITLES for length in _TITLE_LENGTHS):
            bare = bare[:-cut]
        is_surname_only = bare != typed and (len(bare) == 1 or bare in _COMPOUND_SURNAMES)
        return typed if is_surname_only else bare
    # A romanised name's words come in either order and split anyhow ("Wang Xuanqiang", "Xuan-Qiang
    # Wang", "CHAN Tai Man", "Chan Taiman"): the key is its letters, sorted.
    words = [word for word in _LATIN_NAME_WORD.findall(text) if word not in _LATIN_TITLES]
    return "".join(sorted("".join(words)))


def same_person(a: str, b: str) -> bool:
    """Whether two contact names denote one person: equal, non-empty name keys."""
    key = person_name_key(a)
    return bool(key) and key == person_name_key(b)
