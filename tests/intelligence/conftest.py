import random

import pytest
from django.core.cache import cache
from django.test import Client

from jiedao.intelligence import selectors, services
from tests.factories import PASSWORD

# Words that make each leaf category of the test street recognisable, and shared filler.
VOCAB = {
    "010101": ["垃圾堆积", "垃圾桶满了", "楼道堆放杂物", "生活垃圾没人清运", "路面脏乱", "污水横流"],
    "010102": ["路灯不亮", "井盖丢失", "路灯坏了", "健身器材损坏", "井盖松动", "公共座椅坏了"],
    "010201": ["房屋漏水", "墙皮脱落", "屋顶渗水", "楼道窗户破损", "外墙开裂", "下水管道漏水"],
    "020101": ["老人无人照料", "养老服务申请", "独居老人需要帮助", "高龄补贴", "老年餐桌", "居家养老"],
}
PLACES = ["东湖小区", "西园小区", "幸福里", "建设路", "光明街", "和平巷"]
FILLER = ["已经好几天了", "希望尽快处理", "请有关部门看看", "影响居民生活", "多次反映未果", ""]


def labelled(n_per_class=30, seed=1):
    rng = random.Random(seed)
    texts, labels = [], []
    for code, words in VOCAB.items():
        for _ in range(n_per_class):
            texts.append(f"{rng.choice(PLACES)}{rng.randint(1, 30)}号楼{rng.choice(words)}，{rng.choice(FILLER)}")
            labels.append(code)
    return texts, labels


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    selectors.forget()
    selectors._cache["model"] = (None, None)
    yield
    selectors.forget()
    selectors._cache["model"] = (None, None)


@pytest.fixture(autouse=True)
def _fresh_throttles(request):
    """A fresh throttle history (the cache) for tests that use the database."""
    if "db" in request.fixturenames or "street" in request.fixturenames:
        request.getfixturevalue("db")
        cache.clear()


@pytest.fixture
def trained(street):
    """An active model trained on a generated labelled set of the test street's categories."""
    texts, labels = labelled()
    version = services.ModelVersion.objects.create(source="generated", requested_at=services.timezone.now())
    return services.train_version(version.pk, texts=texts, labels=labels)


@pytest.fixture
def login():
    def _login(user):
        client = Client()
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return _login


def set_auto(enabled, precision=0.98):
    """Automatic dispatch on or off, and its target precision."""
    from jiedao.intelligence.models import Tuning

    row = Tuning.objects.first() or Tuning()
    row.auto_dispatch = enabled
    row.auto_dispatch_precision = precision
    row.save()
    selectors.forget()
