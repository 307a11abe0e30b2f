"""The demo street's knowledge base: the answers its 12345 desk gives most often, written through
the service (so each has its first version), one of them past its 有效期至, and a few weeks of
uses so that the list shows which answers the desk relies on."""

import datetime as dt
import random

from django.utils import timezone

from jiedao.cases.models import Category

from . import services
from .models import ArticleUse

# question, answer, (level-2, level-3 category) or None, source, days valid from today (None:
# until changed), how many times the desk gave it over the last weeks
ARTICLES = [
    (
        "老年人优待证在哪里办理？需要带什么材料？",
        "年满60周岁、本市户籍或持本市居住证的老年人可以办理老年人优待证。"
        "请本人携带居民身份证原件和近期二寸免冠彩色照片一张，到街道便民服务中心（街道办事处一层）综合窗口办理，"
        "工作日 9:00—17:00；行动不便的可由家属持双方身份证代办。也可以在“北京通”上网上申请，证件寄送到家。"
        "办理不收费，一般5个工作日内发证。",
        ("福利慈善", "福利事业"),
        "《北京市老年人优待办法》；区民政局2026年老年人优待证办理答复口径",
        None,
        23,
    ),
    (
        "居住证怎么办理？",
        "在本市居住满半年、有合法稳定就业、合法稳定住所或连续就读条件之一的，可以申领居住证。"
        "先到居住地社区居委会或派出所办理居住登记，满半年后携带居民身份证、近期照片和居住地址证明"
        "（房产证或租赁合同）到街道便民服务中心或辖区派出所申领，15个工作日内可领取。",
        ("户籍证件", "流动人口管理"),
        "《居住证暂行条例》；《北京市实施〈居住证暂行条例〉办法》",
        None,
        14,
    ),
    (
        "低保申请需要什么条件？",
        "共同生活的家庭成员人均月收入低于本市城乡低保标准，并且家庭财产符合规定的，可以申请最低生活保障。"
        "由申请人向户籍所在地街道提出，携带户口簿、身份证、家庭收入及财产状况声明，签署家庭经济状况核对授权书；"
        "街道受理后入户调查、民主评议并公示，区民政局审批，一般不超过30个工作日。困难情况紧急的可以先申请临时救助。",
        ("社会救助", "城镇低保"),
        "《北京市最低生活保障审核审批办法》；区民政局答复口径",
        None,
        17,
    ),
    (
        "暖气什么时候开始供？供暖时间是哪天到哪天？",
        "本市法定供暖期为每年11月15日至次年3月15日，遇到气温偏低，市政府会决定提前或延长供暖，以当年通知为准。"
        "供暖开始后室内温度应不低于18℃。暖气不热的，请先联系小区供热单位或物业报修；"
        "报修后仍不解决的，可以登记诉求，由街道派单处理。",
        ("城市建设和市政管理", "冬季采暖"),
        "《北京市供热采暖管理办法》；市城市管理委2026—2027年采暖季通知",
        120,
        31,
    ),
    (
        "垃圾分类几点投放？大件垃圾怎么处理？",
        "本街道各小区定时定点投放时间为每天早 7:00—9:00、晚 18:00—21:00，其他时间请投放到小区的误时投放点。"
        "厨余垃圾请去掉塑料袋后投放。旧家具等大件垃圾和装修垃圾请预约物业或社区居委会，运到指定暂存点，不要堆放在楼道。",
        ("城市建设和市政管理", "环境卫生"),
        "《北京市生活垃圾管理条例》；街道垃圾分类工作方案",
        None,
        19,
    ),
    (
        "流感疫苗在哪里打？什么时间接种？",
        "今年秋冬季流感疫苗在辖区社区卫生服务中心接种，周一至周五 8:00—11:30、13:30—16:00。"
        "60岁以上本市户籍老人和中小学生免费接种，请携带身份证或社保卡；其他人员自费。"
        "可以通过“北京预防接种服务”公众号预约，也可以直接到接种门诊排队。",
        ("公共卫生", "疾病预防控制"),
        "区卫生健康委2025—2026年秋冬季流感疫苗接种工作通知",
        60,
        9,
    ),
    (
        "小区停水停电了，在哪里查通知？",
        "计划停水、停电一般会提前在小区公告栏和物业群发布通知。停水可以拨打自来水集团客服热线 96116 查询，"
        "停电可以拨打供电服务热线 95598 或在“网上国网”App 查询本地区停电信息。"
        "没有接到通知突然停水停电的，请先联系物业确认是否为小区内部故障。",
        ("城市建设和市政管理", "自来水供应"),
        "市自来水集团、国网北京电力公司服务承诺",
        None,
        12,
    ),
    (
        "社保卡丢了怎么补办？",
        "社保卡丢失请先拨打 12333 或在“北京社保”小程序办理挂失。补办可以携带身份证到任一合作银行网点或街道便民服务中心"
        "社保窗口申请，当场制卡的网点可以即时领取；其他网点约10个工作日制卡，短信通知领取。补卡工本费按规定收取。",
        None,
        "市人力资源和社会保障局社会保障卡服务指南",
        None,
        8,
    ),
    (
        "住房公积金怎么提取？",
        "购房、租房、偿还房贷、退休等情形可以提取住房公积金。租房提取可以在“北京公积金”App 或网上服务大厅办理，"
        "按月或按季度自动转入本人银行卡；购房和还贷提取需提供购房合同或借款合同。具体以北京住房公积金管理中心规定为准，"
        "咨询电话 12329。",
        ("住房保障与房地产", "住房公积金"),
        "《北京住房公积金提取管理办法》；12329 热线答复口径",
        None,
        6,
    ),
    (
        "养狗要去哪里登记？",
        "在本市重点管理区养犬须办理养犬登记，每户限养一只，不得饲养大型犬、烈性犬。"
        "请先到动物诊疗机构为犬只注射狂犬疫苗、植入电子标识，再携带身份证、房产证明或租赁合同、免疫证明，"
        "到辖区派出所办理登记，每年按时年检。遛狗要拴绳，及时清理粪便。",
        None,
        "《北京市养犬管理规定》",
        None,
        5,
    ),
    (
        "独生子女父母奖励怎么领？",
        "持有《独生子女父母光荣证》的职工，由所在单位按规定发放奖励；无工作单位或单位已不存在的，"
        "可以携带光荣证、身份证和户口簿到户籍所在地街道便民服务中心申领。父母双方年满60周岁的，另按规定申领独生子女父母奖励扶助金。",
        ("人口计生", "独生子女父母奖励政策"),
        "《北京市人口与计划生育条例》；区卫生健康委答复口径",
        None,
        4,
    ),
    (
        "高龄津贴每月发多少？怎么申请？",
        "本市户籍80周岁及以上老年人可以享受高龄津贴：80—89周岁每人每月100元，90—99周岁每人每月500元，"
        "100周岁及以上每人每月800元（以当年标准为准）。符合条件的老人持身份证和本人银行卡到街道便民服务中心申请，"
        "审核通过后按月打到养老助残卡。",
        ("福利慈善", "福利事业"),
        "《北京市老年人养老服务补贴津贴管理实施办法》",
        None,
        11,
    ),
    (
        "电动自行车能在楼道里充电吗？",
        "不能。电动自行车禁止在楼道、楼梯间、安全出口等公共区域停放和充电，也不得私拉电线“飞线”充电。"
        "请到小区集中充电棚或充电桩充电。发现楼道停放充电的，可以告知物业或社区居委会劝阻；存在火灾隐患且劝阻无效的，可以登记诉求。",
        ("社会治安", "消防安全"),
        "《北京市消防条例》；《北京市电动自行车管理条例》",
        None,
        15,
    ),
    (
        "和物业有纠纷该找谁？",
        "物业服务不到位（保洁、维修、安保等）请先向物业服务企业投诉，保留书面记录。"
        "物业不处理的，可以找社区居委会或小区业委会、物业管理委员会协调；涉及物业费、合同违约等民事争议的，可以申请人民调解或向法院起诉。"
        "需要街道督促物业整改的，可以登记诉求。",
        ("住房保障与房地产", "物业服务"),
        "《北京市物业管理条例》",
        None,
        13,
    ),
    (
        "法律援助怎么申请？",
        "经济困难的公民在追索劳动报酬、赡养费、工伤赔偿等事项上，可以申请免费法律援助。"
        "请携带身份证、经济困难证明或个人诚信承诺书、与案件有关的材料，到区法律援助中心或街道公共法律服务工作站申请；"
        "也可以拨打 12348 公共法律服务热线咨询。",
        ("法律服务", "法律援助"),
        "《中华人民共和国法律援助法》；区司法局答复口径",
        None,
        7,
    ),
]


def _categories() -> dict:
    """(level-2 name, level-3 name) → category, read once."""
    nodes = {c.pk: c for c in Category.objects.all()}
    return {
        (nodes[c.parent_id].name, c.name): c
        for c in nodes.values()
        if c.parent_id and c.parent_id in nodes and c.level == 3
    }


def build_knowledge(street, users, now, seed=11):
    """The knowledge base of the demo street's desk, written by its operator; the flu-vaccine
    answer of last season is past its 有效期至 (shown 已过期 and no longer suggested)."""
    editor = users["operator"]
    categories = _categories()
    today = timezone.localtime(now).date()
    articles = []
    for question, answer, path, source, days, _uses in ARTICLES:
        category = categories.get(path) if path else None
        article = services.save_article(
            editor,
            question=question,
            answer=answer,
            category_code=category.code if category else "",
            source=source,
            valid_until=today + dt.timedelta(days=days) if days is not None else None,
        )
        articles.append(article)
    # Last season's vaccine notice: its date corrected to the end of the campaign, now past.
    vaccine = next(a for a in articles if "疫苗" in a.question)
    services.save_article(
        users["admin"],
        article_id=vaccine.pk,
        question=vaccine.question,
        answer=vaccine.answer,
        category_code=vaccine.category.code if vaccine.category else "",
        source=vaccine.source,
        valid_until=today - dt.timedelta(days=6),
    )
    # The desk's uses over the last eight weeks, by the operator and the dispatcher (an expired
    # answer only while it held).
    rng = random.Random(seed)
    givers = [users["operator"], users["dispatcher"]]
    uses = []
    for article, (*_rest, count) in zip(articles, ARTICLES, strict=True):
        article.refresh_from_db()
        latest = now
        if article.valid_until is not None and article.valid_until < today:
            latest = now - dt.timedelta(days=(today - article.valid_until).days + 1)
        uses += [
            ArticleUse(
                article=article,
                user=rng.choice(givers),
                at=latest - dt.timedelta(days=rng.uniform(0, 50), hours=rng.uniform(0, 8)),
            )
            for _ in range(count)
        ]
    ArticleUse.objects.bulk_create(uses)
    return articles
