import datetime as dt

import pytest
from django.utils import timezone

from jiedao.cases.models import Category
from jiedao.knowledge import services


@pytest.fixture
def heating(street):
    """The category 冬季采暖 under 城市建设和市政管理, as in the shipped category tree."""
    return Category.objects.create(code="010103", name="冬季采暖", level=3, parent=street.categories.municipal)


@pytest.fixture
def knowledge(street, heating):
    """A few answers of the desk, in their formal wording, written by the operator."""
    op = street.users.operator
    add = services.save_article
    return {
        "elderly": add(
            op,
            question="老年人优待证办理地点和材料",
            answer="年满60周岁的老年人携带身份证原件和二寸照片，到街道便民服务中心综合窗口办理，工作日 9:00—17:00。",
            category_code=street.categories.elderly.code,
            source="《北京市老年人优待办法》",
        ),
        "heating": add(
            op,
            question="采暖期起止时间",
            answer="本市法定采暖期为每年11月15日至次年3月15日，遇低温天气以市政府通知为准。",
            category_code=heating.code,
            source="市城市管理委采暖季通知",
            valid_until=timezone.localdate() + dt.timedelta(days=90),
        ),
        "residence": add(op, question="居住证办理", answer="在本市居住满半年，可以到便民服务中心申领居住证。"),
        "sorting": add(
            op,
            question="垃圾分类投放时间",
            answer="每天早 7:00—9:00、晚 18:00—21:00 定时定点投放。",
            category_code=street.categories.sanitation.code,
        ),
    }


@pytest.fixture
def expire(street):
    """Moves an article's 有效期至 into the past, as an editor correcting it would."""

    def _expire(article, days_ago=1):
        return services.save_article(
            street.users.admin,
            article_id=article.pk,
            question=article.question,
            answer=article.answer,
            category_code=article.category.code if article.category else "",
            source=article.source,
            valid_until=timezone.localdate() - dt.timedelta(days=days_ago),
            active=article.active,
        )

    return _expire
