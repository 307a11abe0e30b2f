"""The demo street's responsibility list and its history.

March 2024: the first list — 126 street items and 18 community assistance items.
July 2025: the reform (精简) — 46 items go back to district departments or lose their
basis, 8 duties are put on the negative list, and 15 completion limits are shortened,
leaving 80 street items. May 2026: a few more adjustments. Every change is a version
written through the services, with its reason and approving document.
"""

import datetime as dt

from django.utils import timezone

from jiedao.cases.models import Category
from jiedao.org.models import Unit

from . import services
from .models import DutyItem
from .selectors import count_in_force

FIRST_LIST = (dt.datetime(2024, 3, 1, 9, 0), "示范街发〔2024〕8号", "街道权责清单首次公布")
REFORM = (dt.datetime(2025, 7, 1, 9, 0), "朝政发〔2025〕12号", "街道权责清单精简：职责上收区级部门或无法定依据")
ADJUST = (dt.datetime(2026, 5, 8, 9, 0), "示范街发〔2026〕5号", "根据运行情况压缩办结时限")

# (top, mid) → (unit, power type, statute, article, street holds full enforcement power, verb)
KEPT = [
    (("城乡建设", "城市建设和市政管理"), "CG", "处置", "《城市市容和环境卫生管理条例》", "第四条", True, "的处置"),
    (("城乡建设", "城乡规划"), "ZHZF", "处罚", "《中华人民共和国城乡规划法》", "第六十八条", True, "的查处"),
    (("城乡建设", "住房保障与房地产"), "ZJ", "处置", "《物业管理条例》", "第四十九条", False, "的协调处理"),
    (("城乡建设", "安全生产"), "YJGL", "检查", "《中华人民共和国安全生产法》", "第九条", True, "的检查处置"),
    (("环境保护", "环境污染"), "STHJ", "处罚", "《中华人民共和国大气污染防治法》", "第一百一十八条", True, "的查处"),
    (("民政", "社会救助"), "MZ", "给付", "《社会救助暂行办法》", "第十一条", False, "的受理审核"),
    (("民政", "社会服务"), "MZ", "确认", "《中华人民共和国老年人权益保障法》", "第三十七条", False, "的办理"),
    (("卫生计生", "食品药品监管"), "SCJG", "检查", "《中华人民共和国食品安全法》", "第六条", False, "的监督检查"),
    (("政法", "仲裁与调解"), "PAJS", "裁决", "《中华人民共和国人民调解法》", "第八条", False, "的调解"),
    (("劳动和社会保障", "就业培训"), "GGFW", "给付", "《中华人民共和国就业促进法》", "第三十五条", False, "的服务"),
    (("卫生计生", "公共卫生"), "WJ", "处置", "《中华人民共和国传染病防治法》", "第九条", True, "的处置"),
    (("民政", "优抚"), "MZ", "给付", "《军人抚恤优待条例》", "第三条", False, "的办理"),
]
# How residents put it: words for the public lookup (一键查询职能归属).
KEYWORDS = {
    "环境卫生": "垃圾清运、垃圾桶满了、楼道堆物、堆放杂物、卫生死角、小广告",
    "城市公共设施": "路灯不亮、路灯坏了、井盖缺失、护栏损坏、公共座椅",
    "基础设施": "道路破损、路面坑洼、下水道堵塞、雨水积水、排水不畅",
    "园林绿化": "树木修剪、树枝遮挡、绿地毁坏、草坪、大树倒伏",
    "园林绿化环卫": "落叶清扫、绿化带垃圾",
    "小区管理": "楼道堆物、飞线充电、电动车充电、小区停车、乱停车",
    "居民服务设施": "健身器材损坏、电梯故障、门禁坏了、便民设施",
    "城管执法": "占道经营、摆摊设点、店外经营、违规广告牌",
    "燃气供应": "燃气泄漏、天然气、煤气味",
    "自来水供应": "停水、水压低、自来水浑浊",
    "电力供应": "停电、电压不稳",
    "冬季采暖": "暖气不热、供暖、暖气漏水",
    "违章建筑": "违建、私搭乱建、楼顶加盖、违规搭建",
    "噪音污染": "噪音扰民、装修噪音、广场舞音响、夜间施工",
    "大气污染": "油烟扰民、露天烧烤、烟尘、异味",
    "物业服务": "物业不作为、物业费、保洁不到位",
    "修缮装修": "房屋漏水、渗水、违规装修",
    "安全隐患": "安全隐患、消防通道堵塞",
    "食品安全": "食品过期、餐馆卫生、无证餐饮",
    "城镇低保": "低保申请、低保",
    "就业和再就业": "找工作、就业登记、失业",
    "消防安全": "消防通道、灭火器、楼道堆物",
}
OVERRIDES = {  # leaf → unit, where a mid's usual unit does not hold the duty
    ("城乡建设", "城市建设和市政管理", "城管执法"): "ZHZF",
    ("城乡建设", "城市建设和市政管理", "燃气供应"): "ZJ",
    ("城乡建设", "城市建设和市政管理", "自来水供应"): "ZJ",
    ("城乡建设", "城市建设和市政管理", "电力供应"): "ZJ",
    ("城乡建设", "城市建设和市政管理", "冬季采暖"): "ZJ",
    ("环境保护", "环境污染", "噪音污染"): "ZHZF",
}
# Duties that need a second unit (协办), which gets a co-handling task at dispatch.
COLLABORATORS = {
    ("城乡建设", "城乡规划", "违章建筑"): ["ZJ"],
    ("城乡建设", "城市建设和市政管理", "燃气供应"): ["YJGL"],
    ("城乡建设", "安全生产", "安全隐患"): ["ZHZF"],
}
# 小事不出网格: handled by the community committee where the matter arises.
COMMUNITY_LEVEL = {
    ("城乡建设", "城市建设和市政管理", "环境卫生"),
    ("城乡建设", "城市建设和市政管理", "小区管理"),
    ("城乡建设", "城市建设和市政管理", "居民服务设施"),
    ("城乡建设", "住房保障与房地产", "物业服务"),
}
EXCLUDED_LEAVES = {"劳动仲裁", "人事仲裁", "民商事仲裁", "生效法律文书执行"}
# Handed back to district departments in the reform: (top, mid) with the original unit.
REMOVED = [
    (("城乡建设", "建筑市场"), "ZJ", "检查", "《建筑市场管理规定》"),
    (("城乡建设", "工程质量"), "ZJ", "检查", "《建设工程质量管理条例》"),
    (("城乡建设", "国有土地上房屋征收与补偿"), "ZJ", "协助", "《国有土地上房屋征收与补偿条例》"),
    (("商贸旅游", "市场监管"), "SCJG", "检查", "《中华人民共和国产品质量法》"),
    (("教育文体", "文化"), "GGFW", "检查", "《公共文化服务保障法》"),
    (("教育文体", "教育行政管理"), "GGFW", "协助", "《中华人民共和国教育法》"),
    (("劳动和社会保障", "劳动关系"), "GGFW", "检查", "《劳动保障监察条例》"),
]
NEGATIVE = [
    ("招商引资任务", ("经济管理", "宏观调控", "产业行业政策"), "《关于推动街道职责准入的意见》", "第三条"),
    ("协税护税", ("经济管理", "金融财税", "税收征管"), "《中华人民共和国税收征收管理法》", "第五条"),
    ("非法集资查处", ("经济管理", "金融财税", "集资融资"), "《防范和处置非法集资条例》", "第七条"),
    ("企业资质审批", ("城乡建设", "建筑市场", "企业资质和执业资格"), "《建筑业企业资质管理规定》", "第四条"),
    ("环境影响评价审批", ("环境保护", "建设项目审批", "未批先建"), "《中华人民共和国环境影响评价法》", "第二十二条"),
    ("劳动争议仲裁", ("政法", "仲裁与调解", "劳动仲裁"), "《中华人民共和国劳动争议调解仲裁法》", "第十七条"),
    (
        "房屋征收决定",
        ("城乡建设", "国有土地上房屋征收与补偿", "审批手续"),
        "《国有土地上房屋征收与补偿条例》",
        "第四条",
    ),
    ("矿产开采监管", ("国土资源", "矿产资源管理", "矿产开采"), "《中华人民共和国矿产资源法》", "第十一条"),
]
NEGATIVE_UNIT = {
    "招商引资任务": "QFGW",
    "协税护税": "QSW",
    "非法集资查处": "QJR",
    "企业资质审批": "QZJW",
    "环境影响评价审批": "QSTHJ",
    "劳动争议仲裁": "QRSJ",
    "房屋征收决定": "QZJW",
    "矿产开采监管": "QGT",
}
DISTRICT_UNITS = {
    "QFGW": "区发展改革委",
    "QSW": "区税务局",
    "QJR": "区金融办",
    "QZJW": "区住房城乡建设委",
    "QSTHJ": "区生态环境局",
    "QRSJ": "区人力社保局",
    "QGT": "区规划自然资源分局",
}
ASSIST = [
    ("社区建设", ("民政", "基层选举和社区建设", "社区建设"), "《中华人民共和国城市居民委员会组织法》", "第三条"),
    (
        "居委会选举组织",
        ("民政", "基层选举和社区建设", "居委会选举"),
        "《中华人民共和国城市居民委员会组织法》",
        "第八条",
    ),
    ("城镇低保入户调查", ("民政", "社会救助", "城镇低保"), "《社会救助暂行办法》", "第十一条"),
    ("特困人员供养走访", ("民政", "社会救助", "特困人员供养"), "《社会救助暂行办法》", "第十五条"),
    ("流动人口信息登记", ("政法", "户籍证件", "流动人口管理"), "《居住证暂行条例》", "第五条"),
    ("社区矫正协助", ("政法", "刑罚执行", "社区矫正"), "《中华人民共和国社区矫正法》", "第十二条"),
    ("疾病预防控制宣传", ("卫生计生", "公共卫生", "疾病预防控制"), "《中华人民共和国传染病防治法》", "第九条"),
    ("计划生育服务", ("卫生计生", "人口计生", "计划生育服务管理"), "《中华人民共和国人口与计划生育法》", "第十二条"),
    (
        "独生子女父母奖励申报",
        ("卫生计生", "人口计生", "独生子女父母奖励政策"),
        "《中华人民共和国人口与计划生育法》",
        "第二十七条",
    ),
    ("就业困难人员帮扶", ("劳动和社会保障", "就业培训", "就业和再就业"), "《中华人民共和国就业促进法》", "第五十二条"),
    (
        "城乡居民养老保险代办",
        ("劳动和社会保障", "城镇居民社会保险", "城乡居民养老保险"),
        "《中华人民共和国社会保险法》",
        "第二十条",
    ),
    (
        "城镇居民医疗保险代办",
        ("劳动和社会保障", "城镇居民社会保险", "城镇居民医疗保险"),
        "《中华人民共和国社会保险法》",
        "第二十五条",
    ),
    ("公共文化活动组织", ("教育文体", "文化", "公共文化"), "《中华人民共和国公共文化服务保障法》", "第三十一条"),
    ("法治宣传", ("政法", "法制建设", "法制宣传"), "《中华人民共和国宪法》", "第一百一十一条"),
    ("小区环境卫生巡查", ("城乡建设", "城市建设和市政管理", "环境卫生"), "《城市市容和环境卫生管理条例》", "第十条"),
    ("物业服务矛盾协调", ("城乡建设", "住房保障与房地产", "物业服务"), "《物业管理条例》", "第二十条"),
    ("消防安全巡查", ("政法", "社会治安", "消防安全"), "《中华人民共和国消防法》", "第三十二条"),
    ("治安隐患排查", ("政法", "社会治安", "治安案件"), "《中华人民共和国治安管理处罚法》", "第九条"),
]
HOW_TO = "拨打12345、在“街道通”上报或到便民服务中心窗口反映，工单会自动派给主办单位。"


def _aware(naive):
    return timezone.make_aware(naive, timezone.get_default_timezone())


def _leaves():
    by_path = {}
    for cat in Category.objects.filter(level=3).select_related("parent__parent"):
        by_path[(cat.parent.parent.name, cat.parent.name, cat.name)] = cat
    return by_path


def _values(name, list_type, power, level, unit, categories, statute, article, full, category=None, **extra):
    values = {
        "name": name,
        "list_type": list_type,
        "power_type": power,
        "level": level,
        "responsible_unit": unit,
        "categories": [c.code for c in categories],
        "basis_statute": statute,
        "basis_article": article,
        "basis_text": f"依据{statute}{article}，由{'街道' if list_type != 'negative' else '区级部门'}依法履行。",
        "full_enforcement": full,
        "effective_from": dt.date(2024, 3, 1),
        "how_to": HOW_TO,
        "keywords": KEYWORDS.get(category.name, "") if category is not None else "",
        "response_hours": category.response_hours if category is not None else None,
        "completion_workdays": category.completion_workdays if category is not None else None,
        "needs_verification": category.needs_verification if category is not None else False,
    }
    values.update(extra)
    return values


def build_duty_list(admin, street):
    """Writes the demo list and its history. Returns the number of items in force now."""

    for code, name in DISTRICT_UNITS.items():
        Unit.objects.get_or_create(code=code, defaults={"street": street, "name": name, "kind": Unit.Kind.DISTRICT})
    leaves = _leaves()
    street_items, removed_items = [], []
    for (top, mid), unit, power, statute, article, full, verb in KEPT:
        for path, cat in sorted(leaves.items(), key=lambda kv: kv[1].code):
            if path[:2] != (top, mid) or path[2] in EXCLUDED_LEAVES:
                continue
            leaf_name = path[2] if path[2] != "其他" else f"其他{mid}"
            community = path in COMMUNITY_LEVEL
            street_items.append(
                _values(
                    f"{leaf_name}问题{verb}",
                    "street",
                    power,
                    "社区" if community else "街道",
                    "" if community else OVERRIDES.get(path, unit),
                    [cat],
                    statute,
                    article,
                    full and not community,
                    category=cat,
                    collaborating_units=COLLABORATORS.get(path, []),
                )
            )
    street_items = street_items[:80]
    for (top, mid), unit, power, statute in REMOVED:
        for path, cat in sorted(leaves.items(), key=lambda kv: kv[1].code):
            if path[:2] == (top, mid):
                leaf_name = path[2] if path[2] != "其他" else f"其他{mid}"
                removed_items.append(
                    _values(
                        f"{leaf_name}事项的{power}",
                        "street",
                        power,
                        "街道",
                        unit,
                        [cat],
                        statute,
                        "",
                        False,
                        category=cat,
                    )
                )
    at, doc, reason = FIRST_LIST
    rows = []
    for index, values in enumerate(street_items + removed_items, start=1):
        rows.append({"row": index, "code": f"SFJD-{index:03d}", **values})
    for index, (name, path, statute, article) in enumerate(ASSIST, start=1):
        cat = leaves.get(path)
        if cat is None:
            continue
        rows.append(
            {
                "row": len(rows) + 1,
                "code": f"SQXZ-{index:03d}",
                **_values(name, "community", "协助", "社区", "", [cat], statute, article, False, category=cat),
            }
        )
    services.import_rows(admin, rows=rows, reason=reason, approval_doc=doc, at=_aware(at))

    at, doc, reason = REFORM
    for index in range(len(street_items) + 1, len(street_items) + len(removed_items) + 1):
        services.repeal_duty(
            admin,
            code=f"SFJD-{index:03d}",
            reason=reason,
            approval_doc=doc,
            effective_to=dt.date(2025, 7, 1),
            at=_aware(at),
        )
    negative_rows = []
    for index, (name, path, statute, article) in enumerate(NEGATIVE, start=1):
        cat = leaves.get(path)
        if cat is None:
            continue
        negative_rows.append(
            {
                "row": index,
                "code": f"FMQD-{index:03d}",
                **_values(
                    name,
                    "negative",
                    "其他",
                    "区级部门",
                    NEGATIVE_UNIT[name],
                    [cat],
                    statute,
                    article,
                    False,
                    effective_from=dt.date(2025, 7, 1),
                    how_to="此事项不属于街道职责，请向区级主管部门反映。",
                ),
            }
        )
    services.import_rows(admin, rows=negative_rows, reason="建立街道职责准入负面清单", approval_doc=doc, at=_aware(at))
    _shorten_limits(admin, [f"SFJD-{i * 5:03d}" for i in range(1, 16)], *REFORM)
    _shorten_limits(admin, [f"SFJD-{i * 7:03d}" for i in range(1, 6)], *ADJUST)

    return count_in_force(timezone.localdate())


def _shorten_limits(admin, codes, at, doc, reason):

    for code in codes:
        item = DutyItem.objects.select_related("current").filter(code=code).first()
        if item is None or item.current.status != "in_force":
            continue
        values = services.snapshot(item.current)
        if not values["completion_workdays"] or values["completion_workdays"] <= 1:
            continue
        values["completion_workdays"] -= 1
        raw = dict(
            values,
            responsible_unit=values["responsible_unit"].code if values["responsible_unit"] else "",
            collaborating_units=[u.code for u in values["collaborating_units"]],
            categories=[c.code for c in values["categories"]],
        )
        services.save_duty(admin, code=code, raw=raw, reason=reason, approval_doc=doc, at=_aware(at))
