"""Saving articles (every field checked at once, nothing written on error, a version for every
change) and recording their use."""

import datetime as dt

import pytest
from django.utils import timezone

from jiedao.common.errors import NotAllowed, NotFound, ValidationFailed
from jiedao.knowledge import selectors, services
from jiedao.knowledge.models import Article, ArticleUse, ArticleVersion

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_chinese")]


def _fields(exc):
    return {e["field"]: e["message"] for e in exc.errors}


def test_every_bad_field_is_named_at_once_and_nothing_is_written(street):
    with pytest.raises(ValidationFailed) as caught:
        services.save_article(
            street.users.operator,
            question="  ",
            answer="答" * 2001,
            category_code="999999",
            source="源" * 201,
            valid_until="2026-02-30",
        )
    errors = _fields(caught.value)
    assert set(errors) == {"question", "answer", "category", "source", "valid_until"}
    assert "请填写问题" in errors["question"]
    assert "答复口径不能超过 2000 个字" in errors["answer"]
    assert "999999" in errors["category"] and "不存在" in errors["category"]
    assert "来源/依据不能超过 200 个字" in errors["source"]
    assert "真实的日期" in errors["valid_until"]
    assert Article.objects.count() == 0 and ArticleVersion.objects.count() == 0


def test_limits_and_dates_are_checked_one_by_one(street):
    operator = street.users.operator
    ok = {"question": "居住证办理", "answer": "居住满半年可以申领。"}
    cases = [
        ({"question": "问" * 201}, "question", "问题不能超过 200 个字"),
        ({"answer": ""}, "answer", "请填写答复口径"),
        ({"valid_until": timezone.localdate() - dt.timedelta(days=1)}, "valid_until", "不能早于今天"),
        ({"valid_until": "9999-01-01"}, "valid_until", "2000 年至 2100 年"),
        ({"valid_until": "下个月"}, "valid_until", "真实的日期"),
    ]
    for change, field, message in cases:
        with pytest.raises(ValidationFailed) as caught:
            services.save_article(operator, **{**ok, **change})
        assert list(_fields(caught.value)) == [field]
        assert message in _fields(caught.value)[field]
    assert Article.objects.count() == 0
    # The limits themselves are allowed, and so is today.
    article = services.save_article(
        operator, question="问" * 200, answer="答" * 2000, source="源" * 200, valid_until=timezone.localdate()
    )
    assert article.valid_until == timezone.localdate() and len(article.answer) == 2000


def test_a_new_article_and_every_change_keep_a_version(street):
    operator, admin = street.users.operator, street.users.admin
    article = services.save_article(
        operator, question="  低保申请条件 ", answer="人均收入低于低保标准可以申请。", category_code="020101"
    )
    assert article.question == "低保申请条件" and article.category.code == "020101"
    first = ArticleVersion.objects.get(article=article)
    assert (first.number, first.question, first.changed_by) == (1, "低保申请条件", operator)

    services.save_article(
        admin,
        article_id=article.pk,
        question="低保申请条件",
        answer="共同生活的家庭成员人均月收入低于本市低保标准的，可以申请。",
        category_code="020101",
        source="区民政局答复口径",
    )
    article.refresh_from_db()
    assert article.updated_by == admin and article.created_by == operator
    versions = list(ArticleVersion.objects.filter(article=article).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].answer == "人均收入低于低保标准可以申请。" and versions[0].source == ""
    assert versions[1].answer == article.answer and versions[1].source == "区民政局答复口径"
    rows = selectors.history(article)
    assert rows[0].version.number == 2 and rows[0].changed == ["答复口径", "来源/依据"]

    # Saving what is already there changes nothing and writes no version.
    services.save_article(
        admin,
        article_id=article.pk,
        question=article.question,
        answer=article.answer,
        category_code="020101",
        source=article.source,
    )
    assert ArticleVersion.objects.filter(article=article).count() == 2

    # History is never edited.
    with pytest.raises(RuntimeError):
        versions[0].save()
    with pytest.raises(RuntimeError):
        versions[0].delete()


def test_an_edit_may_set_a_past_date_and_a_bad_edit_leaves_the_article(street, knowledge, expire):
    article = expire(knowledge["heating"])
    assert article.expired and ArticleVersion.objects.filter(article=article).count() == 2
    with pytest.raises(ValidationFailed):
        services.save_article(street.users.operator, article_id=article.pk, question="", answer="新的答复")
    article.refresh_from_db()
    assert article.answer.startswith("本市法定采暖期") and ArticleVersion.objects.filter(article=article).count() == 2
    with pytest.raises(NotFound):
        services.save_article(street.users.operator, article_id=10**6, question="问", answer="答")


@pytest.mark.parametrize("role", ["leader", "handler", "grid", "resident"])
def test_only_the_desk_and_administrators_keep_the_knowledge_base(street, role):
    with pytest.raises(NotAllowed) as caught:
        services.save_article(getattr(street.users, role), question="问题", answer="答复")
    assert "维护知识库" in caught.value.message
    assert Article.objects.count() == 0


def test_a_use_is_counted_on_its_case(street, knowledge, make_case):
    case = make_case(description="我妈今年六十了，老年证去哪办", category=None)
    article = knowledge["elderly"]
    use = services.record_use(street.users.operator, article_id=article.pk, case=case)
    services.record_use(street.users.leader, article_id=article.pk, case=None)
    assert (use.case, use.user) == (case, street.users.operator)
    assert selectors.article(article.pk).uses == 2
    assert [a.uses for a in selectors.search_articles("老年人优待证")] == [2]
    with pytest.raises(RuntimeError):
        use.save()


def test_an_expired_or_switched_off_article_cannot_be_given(street, knowledge, expire):
    operator = street.users.operator
    expired = expire(knowledge["heating"])
    with pytest.raises(ValidationFailed) as caught:
        services.record_use(operator, article_id=expired.pk, case=None)
    assert list(_fields(caught.value)) == ["article"] and "已过有效期" in caught.value.message

    residence = knowledge["residence"]
    services.save_article(
        operator, article_id=residence.pk, question=residence.question, answer=residence.answer, active=False
    )
    with pytest.raises(ValidationFailed) as caught:
        services.record_use(operator, article_id=residence.pk, case=None)
    assert "已停用" in caught.value.message

    with pytest.raises(ValidationFailed) as caught:
        services.record_use(operator, article_id=10**6, case=None)
    assert list(_fields(caught.value)) == ["article"]
    assert ArticleUse.objects.count() == 0

    with pytest.raises(NotAllowed):
        services.record_use(street.users.resident, article_id=knowledge["elderly"].pk, case=None)
    assert ArticleUse.objects.count() == 0
