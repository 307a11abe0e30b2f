"""The category search at intake and classification finds what people type: everyday words and
phrases, on the shipped category tree with the shipped search vocabulary (no duty list, no model
yet — the state of a street on its first day)."""

import pytest
from django.urls import reverse

from jiedao.cases import selectors
from jiedao.cases.models import Category
from jiedao.cases.taxonomy import load_taxonomy
from jiedao.common.models import SearchTerm

# What a caller or an operator types → names any of which on the path of one of the first three
# results makes it a sensible category.
EVERYDAY = {
    "垃圾": {"环境卫生", "固体污染", "园林绿化环卫"},
    "路灯": {"城市公共设施", "基础设施"},
    "路灯不亮": {"城市公共设施", "基础设施"},
    "扰民": {"噪音污染", "治安案件"},
    "噪音": {"噪音污染"},
    "停车": {"交通安全管理", "小区管理"},
    "乱停车": {"交通安全管理", "城管执法", "小区管理"},
    "漏水": {"自来水供应", "修缮装修", "物业服务"},
    "供暖": {"冬季采暖"},
    "暖气": {"冬季采暖"},
    "暖气不热": {"冬季采暖"},
    "占道": {"城管执法", "交通安全管理"},
    "占道经营": {"城管执法"},
    "违建": {"违章建筑", "城管执法"},
    "私搭乱建": {"违章建筑", "城管执法"},
    "井盖": {"城市公共设施", "基础设施"},
    "井盖丢了": {"城市公共设施", "基础设施"},
    "油烟": {"大气污染"},
    "饭店油烟扰民": {"大气污染", "噪音污染"},
    "电动车": {"消防安全", "交通安全管理"},
    "楼道里电动车充电": {"消防安全"},
    "楼道": {"物业服务", "小区管理", "消防安全"},
    "楼道堆物": {"消防安全", "物业服务", "小区管理"},
    "宠物": {"小区管理", "动物防疫"},
    "遛狗不拴绳": {"小区管理", "动物防疫"},
    "流浪猫": {"动物防疫", "小区管理"},
    "物业不作为": {"物业服务"},
    "停水": {"自来水供应"},
    "停电": {"电力供应"},
    "燃气": {"燃气供应"},
    "煤气味": {"燃气供应"},
    "下水道堵塞": {"基础设施", "城市公共设施"},
    "污水横流": {"水污染", "基础设施", "环境卫生"},
    "路面坑洼": {"基础设施", "设施维护"},
    "积水": {"基础设施"},
    "绿化": {"园林绿化", "园林绿化环卫"},
    "砍树": {"园林绿化"},
    "公交车": {"公共汽车"},
    "地铁": {"地铁城铁"},
    "出租车拒载": {"出租车管理", "行业监管"},
    "网约车": {"网约车问题"},
    "快递": {"快递市场管理", "邮政管理"},
    "拖欠工资": {"工资发放", "劳动关系", "工资福利"},
    "欠薪": {"工资发放", "拖欠工程款", "劳动关系", "工资福利"},
    "社保": {"城镇职工社会保险", "城镇居民社会保险"},
    "医保": {"城镇居民医疗保险", "职工医疗保险"},
    "养老金": {"退休金发放", "城乡居民养老保险", "职工养老保险"},
    "低保": {"城镇低保", "农村低保", "社会救助"},
    "残疾": {"福利事业", "评残及伤残抚恤"},
    "结婚登记": {"婚姻登记"},
    "孩子上学": {"招生录取", "教学管理", "异地升学"},
    "幼儿园": {"民办学校", "教育资源配置", "教学管理"},
    "食品安全": {"食品安全"},
    "卖过期食品": {"食品安全", "商品质量"},
    "医院": {"医疗机构管理", "医疗技术和服务"},
    "疫苗": {"疾病预防控制"},
    "老鼠": {"疾病预防控制", "环境卫生"},
    "装修扰民": {"修缮装修", "噪音污染"},
    "租房": {"房屋租赁"},
    "房产证": {"房产证登记、办理"},
    "公积金": {"住房公积金"},
    "拆迁": {"房屋拆迁", "安置补偿"},
    "电梯坏了": {"特种设备管理", "物业服务"},
    "消防通道": {"消防安全"},
    "高空抛物": {"治安案件", "小区管理"},
    "小偷": {"治安案件"},
    "打架": {"治安案件"},
    "电信诈骗": {"案件侦破", "治安案件"},
    "户口": {"户籍管理"},
    "身份证": {"身份证管理"},
    "宽带": {"通信保障", "运营商监管"},
    "手机没信号": {"通信保障"},
    "广场舞": {"噪音污染", "公共文化"},
    "工地夜间施工": {"噪音污染", "施工安全"},
    "小广告": {"城管执法", "环境卫生"},
    "乱收费": {"物价监督", "乱收费"},
    "卖假货": {"商品质量", "市场监管"},
    "邻里纠纷": {"司法调解", "仲裁与调解"},
    "健身器材坏了": {"公共文化", "体育事业", "居民服务设施"},
    "小区停车位": {"小区管理"},
}


@pytest.fixture
def shipped_tree(vocabulary):
    load_taxonomy()
    return selectors.category_tree()


def names_on_path(code):
    category = Category.objects.get(code=code)
    names = set()
    while category is not None:
        names.add(category.name)
        category = category.parent
    return names


def test_at_least_sixty_everyday_words_are_checked():
    assert len(EVERYDAY) >= 60


def test_everyday_words_find_a_sensible_category_in_the_first_three(shipped_tree):
    missed = {}
    for words, sensible in EVERYDAY.items():
        top3 = selectors.find_categories(words, tree=shipped_tree, limit=3)
        if not any(names_on_path(m.code) & sensible for m in top3):
            missed[words] = [m.label for m in top3]
    assert missed == {}


def test_formal_names_and_codes_still_find_their_category(shipped_tree):
    first = selectors.find_categories("冬季采暖", tree=shipped_tree)[0]
    assert first.label == "城乡建设 / 城市建设和市政管理 / 冬季采暖"
    code = first.code
    assert selectors.find_categories(code, tree=shipped_tree)[0].code == code


def test_words_nobody_files_under_find_nothing(shipped_tree):
    assert selectors.find_categories("航天发射", tree=shipped_tree) == []
    assert selectors.find_categories("   ", tree=shipped_tree) == []


def test_a_word_the_administrator_adds_is_found_at_once(shipped_tree):
    assert not any("冬季采暖" in m.label for m in selectors.find_categories("锅炉房", tree=shipped_tree))
    SearchTerm.objects.create(word="锅炉房", terms="冬季采暖 供暖")
    assert selectors.find_categories("锅炉房", tree=shipped_tree)[0].label.endswith("冬季采暖")
    SearchTerm.objects.filter(word="锅炉房").update(active=False)
    assert not any("冬季采暖" in m.label for m in selectors.find_categories("锅炉房", tree=shipped_tree))


def test_the_picker_on_the_intake_screen_offers_the_matches(street, login):
    SearchTerm.objects.update_or_create(word="老人", defaults={"terms": "养老服务"})
    client = login(street.users.operator)
    page = client.get(reverse("cases:category_picker"), {"catq": "独居老人没人照顾"}).content.decode()
    assert 'value="020101"' in page and "民政 / 社会救助 / 养老服务" in page
