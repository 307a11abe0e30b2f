"""The knowledge base's pages as each role meets them: the list, 新增 and 修改, an article with
its history, and the suggestions the intake page fetches while the operator types."""

import html
import re

import pytest
from django.urls import reverse

from jiedao.knowledge import services
from jiedao.knowledge.models import Article, ArticleVersion

pytestmark = pytest.mark.django_db


def _row(page, article):
    match = re.search(rf'<tr data-article="{article.pk}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {article.question}"
    return match.group(1)


@pytest.mark.parametrize("role", ["operator", "dispatcher", "leader", "admin"])
def test_the_street_desk_reads_the_list_with_counts_and_expiry(client, login, street, knowledge, expire, role):
    services.record_use(street.users.operator, article_id=knowledge["elderly"].pk, case=None)
    expire(knowledge["heating"])
    login(getattr(street.users, role))
    page = client.get(reverse("knowledge:list")).content.decode()
    elderly = _row(page, knowledge["elderly"])
    assert "老年人优待证办理地点和材料" in elderly and "养老服务" in elderly and "《北京市老年人优待办法》" in elderly
    assert re.search(r"data-uses>1<", elderly)
    heating = _row(page, knowledge["heating"])
    assert '<strong class="kb-expired">已过期</strong>' in heating
    assert "已过期" not in elderly and "长期" in elderly
    assert re.search(r"data-uses>0<", heating)
    # 新增 for those who keep the knowledge base.
    assert (reverse("knowledge:new") in page) == (role != "leader")
    assert f'href="{reverse("knowledge:list")}"' in page  # in the navigation


def test_the_list_searches_with_the_everyday_words(client, login, street, knowledge, vocabulary):
    login(street.users.operator)
    page = client.get(reverse("knowledge:list"), {"q": "暖气什么时候来"}).content.decode()
    assert "采暖期起止时间" in page and "居住证办理" not in page
    too_long = client.get(reverse("knowledge:list"), {"q": "字" * 101}, follow=True).content.decode()
    assert "搜索不能超过 100 个字" in too_long and "居住证办理" in too_long


@pytest.mark.parametrize("role", ["handler", "grid", "resident"])
def test_others_may_not_open_the_knowledge_base(client, login, street, knowledge, role):
    login(getattr(street.users, role))
    article = knowledge["elderly"]
    for url in (
        reverse("knowledge:list"),
        reverse("knowledge:article", args=[article.pk]),
        reverse("knowledge:new"),
        reverse("knowledge:edit", args=[article.pk]),
        reverse("knowledge:suggest") + "?q=老年证",
    ):
        assert client.get(url).status_code == 403, url
    page = client.get(reverse("web:home"), follow=True).content.decode()
    assert reverse("knowledge:list") not in page


def test_signed_out_visitors_are_sent_to_sign_in(client, knowledge):
    response = client.get(reverse("knowledge:list"))
    assert response.status_code == 302 and reverse("web:login") in response["Location"]


def test_new_with_errors_shows_each_field_and_writes_nothing(client, login, street):
    login(street.users.operator)
    form = client.get(reverse("knowledge:new")).content.decode()
    assert 'name="question"' in form and "养老服务" in form  # the categories to choose from
    response = client.post(
        reverse("knowledge:new"),
        {"question": "", "answer": "", "category": "nope", "source": "", "valid_until": "2026-13-40", "active": "on"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    for message in ("请填写问题", "请填写答复口径", "分类“nope”不存在", "有效期至应为一个真实的日期"):
        assert re.search(rf'<p class="field-error" role="alert">{message}', page), message
    assert Article.objects.count() == 0


def test_new_then_edit_keeps_the_history(client, login, street):
    login(street.users.operator)
    response = client.post(
        reverse("knowledge:new"),
        {
            "question": "犬只登记",
            "answer": "携带身份证和免疫证明到派出所办理养犬登记。",
            "category": "",
            "source": "《北京市养犬管理规定》",
            "valid_until": "",
            "active": "on",
        },
    )
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("knowledge:article", args=[article.pk])
    assert article.created_by == street.users.operator and article.active

    login(street.users.dispatcher)
    edit = client.get(reverse("knowledge:edit", args=[article.pk])).content.decode()
    assert "携带身份证和免疫证明到派出所办理养犬登记。" in edit
    client.post(
        reverse("knowledge:edit", args=[article.pk]),
        {
            "question": "犬只登记",
            "answer": "携带身份证、房产证明和免疫证明到辖区派出所办理养犬登记，每年年检。",
            "category": "",
            "source": "《北京市养犬管理规定》",
            "valid_until": "",
            "active": "on",
        },
    )
    assert ArticleVersion.objects.filter(article=article).count() == 2
    page = client.get(reverse("knowledge:article", args=[article.pk])).content.decode()
    assert "每年年检" in page
    assert re.search(r'data-version="2">\s*<strong>第 2 版</strong>', page)
    assert "修改了：答复口径" in page
    assert "携带身份证和免疫证明到派出所办理养犬登记。" in page  # the first version, kept


def test_an_edit_that_breaks_a_rule_changes_nothing(client, login, street, knowledge):
    article = knowledge["sorting"]
    login(street.users.admin)
    response = client.post(
        reverse("knowledge:edit", args=[article.pk]),
        {"question": "垃圾分类投放时间", "answer": "", "category": "010101", "source": "s" * 201, "active": "on"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "请填写答复口径" in page and "来源/依据不能超过 200 个字" in page
    article.refresh_from_db()
    assert article.answer.startswith("每天早") and ArticleVersion.objects.filter(article=article).count() == 1
    assert client.get(reverse("knowledge:edit", args=[10**6])).status_code == 404


def test_a_leader_reads_but_does_not_edit(client, login, street, knowledge):
    login(street.users.leader)
    article = knowledge["elderly"]
    page = client.get(reverse("knowledge:article", args=[article.pk])).content.decode()
    assert "年满60周岁的老年人携带身份证原件" in page
    assert reverse("knowledge:edit", args=[article.pk]) not in page
    assert client.post(reverse("knowledge:new"), {"question": "问", "answer": "答"}).status_code == 403
    assert Article.objects.count() == len(knowledge)


def test_suggest_gives_the_answer_and_the_button(client, login, street, knowledge, vocabulary):
    article = knowledge["elderly"]
    services.save_article(
        street.users.operator,
        article_id=article.pk,
        question=article.question,
        answer='带身份证到"便民服务中心"<综合窗口>办理。',
        category_code=article.category.code,
        source=article.source,
    )
    services.record_use(street.users.operator, article_id=article.pk, case=None)
    login(street.users.operator)
    response = client.get(reverse("knowledge:suggest"), {"q": "我想办个老年证"})
    assert response.status_code == 200
    page = response.content.decode()
    item = re.search(rf'<li class="kb-item" data-article="{article.pk}">(.*?)</li>', page, re.S)
    assert item and page.count('class="kb-item"') == 1
    item = item.group(1)
    assert "<strong" in item and "老年人优待证办理地点和材料" in item
    assert (
        f'<button type="button" class="kb-use" data-use-answer data-article="{article.pk}"'
        f' data-answer="带身份证到&quot;便民服务中心&quot;&lt;综合窗口&gt;办理。">用此答复</button>'
    ) in item
    template = re.search(r'<template class="kb-answer">(.*?)</template>', item, re.S).group(1)
    assert html.unescape(template) == '带身份证到"便民服务中心"<综合窗口>办理。'
    assert "《北京市老年人优待办法》" in item and "长期" in item and "已引用 1 次" in item


def test_suggest_is_empty_without_words_and_hints_without_a_match(client, login, street, knowledge, vocabulary):
    login(street.users.dispatcher)
    assert client.get(reverse("knowledge:suggest"), {"q": "  "}).content == b""
    page = client.get(reverse("knowledge:suggest"), {"q": "楼上漏水"}).content.decode()
    assert "知识库中没有找到相关答复，可以派单办理" in page and "kb-item" not in page
    # The caller's words can run long: the first part is searched, never an error.
    long_words = client.get(reverse("knowledge:suggest"), {"q": "暖气" + "我家" * 200})
    assert long_words.status_code == 200


def test_suggest_is_for_the_intake_desk(client, login, street, knowledge):
    login(street.users.leader)
    assert client.get(reverse("knowledge:suggest"), {"q": "老年证"}).status_code == 403
    login(street.users.admin)
    assert client.get(reverse("knowledge:suggest"), {"q": "老年证"}).status_code == 200


def test_the_pages_speak_english_when_asked(client, login, street, knowledge, expire, vocabulary):
    expire(knowledge["heating"])
    login(street.users.operator)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    listing = client.get(reverse("knowledge:list")).content.decode()
    assert "Knowledge base" in listing and "Times given" in listing and "Expired" in listing
    assert "引用次数" not in listing and "已过期" not in listing
    article = client.get(reverse("knowledge:article", args=[knowledge["heating"].pk])).content.decode()
    assert "History of changes" in article and "Changed: Valid until" in article
    suggest = client.get(reverse("knowledge:suggest"), {"q": "老年证"}).content.decode()
    assert ">Use this answer</button>" in suggest and "Given 0 times" in suggest
    none = client.get(reverse("knowledge:suggest"), {"q": "楼上漏水"}).content.decode()
    assert "No answer found in the knowledge base" in none
    bad = client.post(reverse("knowledge:new"), {"question": "", "answer": ""}).content.decode()
    assert "Enter the question" in bad and "Enter the approved answer" in bad
