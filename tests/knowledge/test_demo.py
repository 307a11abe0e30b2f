"""The demo street's knowledge base: the desk's everyday questions answered, with their history
and uses, and last season's vaccine answer expired."""

import pytest
from django.utils import timezone

from jiedao.demo import builder
from jiedao.knowledge import selectors
from jiedao.knowledge.demo import ARTICLES
from jiedao.knowledge.models import Article, ArticleUse, ArticleVersion

pytestmark = pytest.mark.django_db


def test_the_demo_desk_answers_the_everyday_questions(vocabulary):
    demo = builder.build()
    assert Article.objects.count() == len(ARTICLES) == 15
    everyday = {
        "办老年证要带什么": "老年人优待证",
        "暖气什么时候来": "供暖",
        "低保怎么申请": "低保",
        "社保卡丢了": "社保卡",
        "楼道里电动车充电": "电动自行车",
        "物业不管事找谁": "物业",
        "想打官司没钱请律师": "法律援助",
    }
    for words, topic in everyday.items():
        found = selectors.search_articles(words)
        assert found and topic in found[0].question, words
    # Filed under the categories of the shipped tree where one fits.
    heating = Article.objects.get(question__contains="暖气")
    assert heating.category.name == "冬季采暖" and heating.valid_until > timezone.localdate()

    vaccine = Article.objects.get(question__contains="疫苗")
    assert vaccine.expired and ArticleVersion.objects.filter(article=vaccine).count() == 2
    assert selectors.search_articles("流感疫苗在哪打") == []
    # Given only while it held.
    assert all(
        timezone.localtime(u.at).date() <= vaccine.valid_until for u in ArticleUse.objects.filter(article=vaccine)
    )

    listed = selectors.articles()
    assert sum(a.uses for a in listed) == sum(row[-1] for row in ARTICLES)
    assert listed[0].uses == max(row[-1] for row in ARTICLES) and listed[0].last_used is not None
    assert {a.created_by for a in listed} == {demo.users["operator"]}
