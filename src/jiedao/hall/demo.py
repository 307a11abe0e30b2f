"""The demo street's service hall: a catalogue of real-life items with their materials
and limits, 一件事 bundles, and a year of applications, tickets and ratings made
through the services (so every step has its event)."""

import datetime as dt
import random

from django.db import transaction

from jiedao.registry.models import Person
from jiedao.workcal.calendar import SHANGHAI, is_workday

from . import services
from .models import Bundle, Material, ServiceItem, Ticket, TicketStatus

ID = ("居民身份证", True, True)
HUKOU = ("户口簿", True, True)
PHOTO = ("近期二寸免冠彩色照片", False, False)
FORM = ("申请表", True, False)
PROOF_ADDR = ("居住地址证明（房产证或租赁合同）", False, False)
LICENCE = ("营业执照", True, True)
LEGAL_ID = ("法定代表人身份证明", True, True)

# name, type, group, unit, statutory, promised, pledge, online depth, visits, extra materials
CATALOGUE = [
    ("老年人优待证办理", "public_service", "B", "GGFW", 20, 5, False, 4, 0, [PHOTO]),
    ("高龄津贴申领", "benefit", "B", "MZ", 20, 10, False, 3, 1, [("银行账户信息", False, False)]),
    (
        "最低生活保障申请",
        "benefit",
        "B",
        "MZ",
        30,
        20,
        True,
        3,
        1,
        [("家庭收入及财产状况声明", True, False), ("家庭经济状况核对授权书", True, False)],
    ),
    ("特困人员救助供养申请", "benefit", "B", "MZ", 30, 20, False, 3, 1, [("家庭收入及财产状况声明", True, False)]),
    ("临时救助申请", "benefit", "B", "MZ", 15, 5, True, 3, 1, [("困难情况说明", True, False)]),
    ("困难残疾人生活补贴申请", "benefit", "B", "MZ", 20, 10, False, 3, 1, [("残疾人证", True, True)]),
    ("重度残疾人护理补贴申请", "benefit", "B", "MZ", 20, 10, False, 3, 1, [("残疾人证", True, True)]),
    ("残疾人证新办", "confirmation", "B", "MZ", 30, 15, False, 2, 2, [PHOTO, ("医院诊断证明", True, False)]),
    ("居家养老服务补贴申请", "benefit", "B", "MZ", 20, 10, False, 3, 1, []),
    ("养老服务驿站入住评估", "public_service", "B", "GGFW", 15, 10, False, 2, 1, [("健康状况说明", False, False)]),
    ("独生子女父母奖励申领", "benefit", "B", "WJ", 20, 10, True, 3, 1, [("独生子女父母光荣证", True, False)]),
    ("计划生育家庭特别扶助申请", "benefit", "B", "WJ", 30, 15, False, 3, 1, [("子女死亡或伤残证明", True, False)]),
    ("生育登记服务", "public_service", "B", "WJ", 5, 1, True, 4, 0, [("结婚证", True, True)]),
    (
        "殡葬补贴申领",
        "benefit",
        "B",
        "MZ",
        15,
        5,
        False,
        3,
        1,
        [("死亡医学证明", True, False), ("火化证明", True, False)],
    ),
    ("退役军人优待证申领", "public_service", "B", "MZ", 20, 10, False, 3, 1, [("退役证件", True, False), PHOTO]),
    ("优抚对象定期抚恤补助申请", "benefit", "B", "MZ", 30, 15, False, 2, 1, [("优抚对象证件", True, False)]),
    ("困境儿童基本生活保障申请", "benefit", "B", "MZ", 30, 20, False, 2, 1, [("监护人身份证明", True, False)]),
    ("老年人意外伤害保险登记", "public_service", "B", "GGFW", 10, 3, False, 4, 0, []),
    ("就业登记", "public_service", "A", "GGFW", 10, 3, False, 4, 0, [("劳动合同", True, False)]),
    ("失业登记", "public_service", "A", "GGFW", 10, 1, True, 4, 0, [("解除劳动关系证明", True, False)]),
    ("就业困难人员认定", "confirmation", "A", "GGFW", 20, 10, True, 3, 1, [("困难情况证明", False, False)]),
    ("灵活就业人员社会保险补贴申请", "benefit", "A", "GGFW", 20, 10, False, 3, 1, [("社保缴费凭证", True, True)]),
    ("城乡居民基本养老保险参保登记", "public_service", "A", "GGFW", 10, 3, False, 4, 0, []),
    ("城乡居民基本养老保险待遇申领", "benefit", "A", "GGFW", 20, 10, False, 3, 1, [("银行账户信息", False, False)]),
    ("城乡居民基本医疗保险参保登记", "public_service", "A", "GGFW", 10, 3, False, 4, 0, []),
    ("社会保险关系转移", "public_service", "A", "GGFW", 45, 15, False, 4, 0, [("参保缴费凭证", True, True)]),
    ("社会保障卡申领", "public_service", "A", "GGFW", 20, 10, False, 4, 0, [PHOTO]),
    ("社会保障卡挂失补换", "public_service", "A", "GGFW", 10, 5, False, 4, 0, []),
    ("职业技能培训补贴申请", "benefit", "A", "GGFW", 20, 10, False, 3, 1, [("培训合格证书", True, False)]),
    ("大学生就业见习补贴申请", "benefit", "A", "GGFW", 20, 10, False, 3, 1, [("毕业证书", True, True)]),
    ("退休人员社会化管理登记", "public_service", "A", "GGFW", 10, 3, False, 3, 1, [("退休证", True, False)]),
    ("医疗保险异地就医备案", "public_service", "A", "GGFW", 5, 1, True, 4, 0, []),
    ("居住证申领", "public_service", "C", "GGFW", 15, 10, False, 3, 1, [PHOTO, PROOF_ADDR]),
    ("居住证签注", "public_service", "C", "GGFW", 5, 1, False, 4, 0, [("居住证", True, False)]),
    ("居住登记", "public_service", "C", "GGFW", 5, 1, True, 4, 0, [PROOF_ADDR]),
    ("居住证明开具", "confirmation", "C", "SQZL", 5, 2, True, 3, 1, [("居住情况承诺书", True, False)]),
    ("流动人口婚育证明", "confirmation", "C", "WJ", 10, 3, True, 3, 1, []),
    ("户籍迁入（投靠）初审", "confirmation", "C", "GGFW", 30, 15, False, 2, 2, [("亲属关系证明", True, True)]),
    ("出生医学证明信息核对", "confirmation", "C", "WJ", 10, 3, False, 3, 1, [("出生医学证明", True, True)]),
    ("家庭经济困难学生认定证明", "confirmation", "C", "MZ", 10, 5, True, 3, 1, [("在读证明", True, False)]),
    ("公租房申请初审", "confirmation", "C", "ZJ", 30, 20, False, 3, 1, [PROOF_ADDR, ("家庭收入证明", True, False)]),
    ("公租房租金补贴申请", "benefit", "C", "ZJ", 30, 20, False, 3, 1, [("租赁合同", True, False)]),
    ("住房困难家庭认定", "confirmation", "C", "ZJ", 30, 20, False, 2, 1, [PROOF_ADDR]),
    ("老旧小区加装电梯意见征询备案", "other", "C", "ZJ", 20, 10, False, 2, 1, [("业主意见汇总表", True, False)]),
    ("个体工商户设立登记", "license", "D", "SCJG", 15, 1, True, 4, 0, [("经营场所证明", False, False)]),
    ("个体工商户变更登记", "license", "D", "SCJG", 15, 1, True, 4, 0, [LICENCE]),
    ("个体工商户注销登记", "license", "D", "SCJG", 15, 1, True, 4, 0, [LICENCE]),
    ("企业开办一窗通", "license", "D", "SCJG", 5, 1, True, 4, 0, [LEGAL_ID, ("公司章程", True, False)]),
    ("食品经营许可", "license", "D", "SCJG", 20, 10, True, 4, 0, [LICENCE, ("食品安全管理制度", True, False)]),
    ("小餐饮店登记", "license", "D", "SCJG", 20, 5, True, 3, 1, [LICENCE, ("从业人员健康证明", True, False)]),
    ("户外广告设施设置备案", "other", "D", "CG", 20, 10, False, 2, 1, [LICENCE, ("设计效果图", True, False)]),
    ("门前三包责任书签订", "other", "D", "CG", 10, 1, False, 2, 1, [LICENCE]),
    ("临时占道施工审核", "license", "D", "CG", 20, 10, False, 2, 2, [("施工方案", True, False)]),
    ("建筑垃圾消纳备案", "other", "D", "CG", 10, 5, False, 3, 1, [("运输合同", True, False)]),
    ("排污登记", "other", "D", "STHJ", 20, 10, False, 4, 0, [LICENCE]),
    ("安全生产承诺备案", "other", "D", "YJGL", 10, 3, True, 3, 1, [LICENCE, ("安全承诺书", True, False)]),
    ("大型群众性活动安全许可初审", "license", "D", "PAJS", 15, 7, False, 2, 1, [("活动方案", True, False)]),
    ("残疾人就业保障金减免申请", "other", "D", "MZ", 20, 10, False, 3, 1, [LICENCE]),
    (
        "社区社会组织备案",
        "other",
        "E",
        "SQZL",
        30,
        15,
        False,
        3,
        1,
        [("组织章程", True, False), ("成员名单", True, False)],
    ),
    ("志愿者注册", "public_service", "E", "SQZL", 5, 1, False, 4, 0, []),
    ("法律援助申请转交", "public_service", "E", "PAJS", 10, 3, True, 3, 1, [("经济困难说明", True, False)]),
    ("人民调解申请", "public_service", "E", "PAJS", 30, 15, False, 2, 1, [("纠纷情况说明", True, False)]),
    ("门牌号码编制申请", "other", "E", "SQZL", 20, 10, False, 2, 1, [PROOF_ADDR]),
    ("犬只登记证明", "license", "E", "PAJS", 15, 5, False, 3, 1, [("犬只免疫证明", True, False), PHOTO]),
    ("无犯罪记录证明申请转办", "confirmation", "E", "PAJS", 10, 3, False, 3, 1, []),
    ("文化活动场地预约", "public_service", "E", "GGFW", 5, 1, False, 4, 0, []),
]

BUNDLES = [
    ("YJS-TX", "我要退休一件事", ["退休人员社会化管理登记", "城乡居民基本养老保险待遇申领", "老年人优待证办理"]),
    ("YJS-KD", "我要开小餐馆一件事", ["个体工商户设立登记", "小餐饮店登记", "门前三包责任书签订"]),
    ("YJS-SY", "新生儿出生一件事", ["出生医学证明信息核对", "城乡居民基本医疗保险参保登记", "社会保障卡申领"]),
]

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["秀英", "桂兰", "建国", "志强", "丽娟", "海燕", "德明", "淑珍", "红梅", "国庆", "晓东", "玉兰", "文华", "春生"]


def _unit(units, code, fallback):
    return units.get(code) or fallback


def build_catalogue(street, units):
    fallback = street.default_unit or next(iter(units.values()))
    items = {}
    for index, (name, kind, group, unit, statutory, promised, pledge, depth, visits, extra) in enumerate(
        CATALOGUE, start=1
    ):
        code = f"{street.code}{group}{index:04d}"
        item = ServiceItem.objects.create(
            code=code,
            basic_code=f"00{index:04d}{group}00000",
            name=name,
            item_type=kind,
            group=group,
            unit=_unit(units, unit, fallback),
            legal_basis=f"《{name.split('（')[0]}办理规定》",
            conditions=f"符合{name}相关条件的本街道辖区居民或单位",
            statutory_days=statutory,
            promised_days=promised,
            fee="不收费",
            place=f"{street.name}便民服务中心 综合窗口",
            hours="工作日 9:00-12:00，13:30-17:30",
            online_depth=depth,
            visits_required=visits,
            appointment_allowed=True,
            pledge_allowed=pledge,
            target_group="法人" if group == "D" else "自然人",
        )
        base = [LEGAL_ID] if group == "D" else [ID, HUKOU] if group in "BC" else [ID]
        for order, (mname, core, shared) in enumerate([*base, FORM, *list(extra)], start=1):
            Material.objects.create(
                item=item,
                order=order,
                name=mname,
                core=core,
                shared=shared,
                source="hall" if mname == FORM[0] else "government" if shared else "applicant",
                form="electronic" if shared else "original",
            )
        items[name] = item
    for code, name, names in BUNDLES:
        bundle = Bundle.objects.create(code=code, name=name, description=f"{name}：一次申请，多个部门并联审批。")
        bundle.items.set([items[n] for n in names])
    return items


def _people(rng, persons, count):
    people = []
    for _index in range(count):
        if persons and rng.random() < 0.45:
            person = rng.choice(persons)
            people.append({"name": person.name, "id_number": person.id_number, "phone": ""})
        else:
            people.append(
                {
                    "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                    "id_number": f"110105{rng.randint(1940, 2000)}{rng.randint(1, 12):02d}"
                    f"{rng.randint(1, 28):02d}{rng.randint(1000, 9999)}",
                    "phone": f"139{rng.randint(10000000, 99999999)}",
                }
            )
    return people


def _workday_moments(rng, now, days, per_day):
    start = (now - dt.timedelta(days=days)).astimezone(SHANGHAI).date()
    moments = []
    for offset in range(days - 1):
        day = start + dt.timedelta(days=offset)
        if not is_workday(day):
            continue
        for _n in range(per_day(offset / days)):
            minute = rng.randint(9 * 60, 17 * 60)
            moments.append(dt.datetime.combine(day, dt.time(minute // 60, minute % 60), SHANGHAI))
    return moments


@transaction.atomic
def build_hall(street, units, users, now, seed=11, days=365):
    """The catalogue, bundles and ``days`` of applications, tickets and ratings up to ``now``.

    ``units``: unit code → Unit; ``users``: username → User (operator, leader, resident and
    handler_<unit code> are used when present)."""

    rng = random.Random(seed)
    items = build_catalogue(street, units)
    clerk = users.get("operator") or next(u for u in users.values() if u.has_role("operator"))
    leader = users.get("leader") or users.get("admin")
    resident = users.get("resident")
    persons = list(Person.objects.exclude(id_number="")[:300]) if Person.objects.exists() else []
    all_items = list(items.values())
    # The hall improves over the year: more online, shorter waits, more on the spot.
    moments = _workday_moments(rng, now, days, lambda share: rng.randint(1, 3) + int(share * 2))
    people = _people(rng, persons, len(moments))
    tickets = []
    for at, applicant in zip(moments, people, strict=False):
        progress = (at - moments[0]).total_seconds() / max(1, (moments[-1] - moments[0]).total_seconds())
        item = rng.choice(all_items)
        online = item.online_depth >= 3 and resident is not None and rng.random() < 0.3 + 0.55 * progress
        choices = {}
        for m in item.materials.all():
            choices[m.pk] = "missing" if (not m.core and rng.random() < 0.25) else "provided"
        handler = users.get(f"handler_{item.unit.code.lower()}") or leader
        if online:
            choices = dict.fromkeys(choices, "provided")
            app = services.submit_online(resident, item_code=item.code, applicant=applicant, materials=choices, now=at)
            accepted_at = at + dt.timedelta(hours=rng.randint(1, 20))
            if accepted_at > now:
                continue
            services.accept(clerk, number=app.number, now=accepted_at)
        else:
            taken = at - dt.timedelta(minutes=5)
            wait = max(1, rng.gauss(40 - 28 * progress, 8))
            called = taken + dt.timedelta(minutes=wait)
            priority = rng.random() < 0.12
            tickets.append(
                Ticket(
                    day=taken.date(),
                    group=item.group,
                    seq=0,
                    number="",
                    priority=priority,
                    status=TicketStatus.DONE,
                    window=str(rng.randint(1, 6)),
                    clerk=clerk,
                    taken_at=taken,
                    called_at=called,
                    finished_at=called + dt.timedelta(minutes=rng.randint(5, 25)),
                )
            )
            assisted = priority and rng.random() < 0.5
            app = services.accept_at_window(
                clerk,
                item_code=item.code,
                applicant=applicant,
                materials=choices,
                now=called,
                assistant_name="社区帮办员" if assisted else "",
                assisted_reason="高龄行动不便" if assisted else "",
            )
            accepted_at = called
        _progress(rng, app, clerk, handler, accepted_at, now, progress)
    _number_tickets(tickets)
    return {"items": len(items), "applications": len(moments), "tickets": len(tickets)}


def _progress(rng, app, clerk, handler, at, now, progress):
    missing = list(app.materials.filter(status="missing").values_list("material_id", flat=True))
    for material_id in missing:
        at = at + dt.timedelta(days=rng.randint(1, 4))
        if at > now:
            return
        services.supply(clerk, number=app.number, material_id=material_id, at_window=rng.random() < 0.4, now=at)
    spot = (
        app.channel == "window" and not missing and app.item.promised_days <= 3 and rng.random() < 0.5 + 0.45 * progress
    )
    decided = at + (dt.timedelta(minutes=15) if spot else dt.timedelta(days=rng.randint(1, app.item.promised_days + 2)))
    if decided > now:
        return
    if rng.random() < 0.04:
        services.reject(handler, number=app.number, note="不符合受理条件", now=decided)
        return
    services.approve(handler, number=app.number, now=decided)
    issued = decided + dt.timedelta(minutes=5) if spot else decided + dt.timedelta(days=rng.randint(0, 2))
    if issued > now:
        return
    delivery = "on_the_spot" if spot else rng.choice(["post", "online", "online", "window"])
    services.issue(clerk, number=app.number, delivery=delivery, now=issued)
    if rng.random() < 0.8 and issued + dt.timedelta(hours=2) <= now:
        level = rng.choices([5, 4, 3, 2, 1], weights=[70, 18, 6, 4, 2])[0]
        rating = services.rate(
            clerk,
            number=app.number,
            level=level,
            channel=rng.choice(["device", "portal", "sms"]),
            comment="窗口人员态度不好，等候时间长" if level <= 2 else "",
            token=services.rating_token(app),
            now=issued + dt.timedelta(hours=1),
        )
        if rating.is_bad:
            fixed = issued + dt.timedelta(days=rng.randint(1, 8))
            if fixed <= now:
                services.fix(handler, rect_id=rating.rectification.pk, note="已约谈窗口人员，优化叫号分组", now=fixed)
                if fixed + dt.timedelta(days=1) <= now:
                    services.callback(
                        clerk,
                        rect_id=rating.rectification.pk,
                        satisfied=rng.random() < 0.8,
                        note="电话回访",
                        now=fixed + dt.timedelta(days=1),
                    )


def _number_tickets(tickets):
    tickets.sort(key=lambda t: t.taken_at)
    seqs = {}
    for ticket in tickets:
        ticket.day = ticket.taken_at.astimezone(SHANGHAI).date()
        key = (ticket.day, ticket.group)
        seqs[key] = seqs.get(key, 0) + 1
        ticket.seq = seqs[key]
        ticket.number = f"{ticket.group}{ticket.seq:03d}"
    Ticket.objects.bulk_create(tickets, batch_size=500)
