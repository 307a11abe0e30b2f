"""The answers suggested while the operator types: found by the words callers use (the search
vocabulary), only those the desk may give today, each with its use count."""

import pytest

from jiedao.common.errors import ValidationFailed
from jiedao.common.models import SearchTerm
from jiedao.knowledge import selectors, services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_chinese")]


def _questions(found):
    return [a.question for a in found]


def test_callers_words_find_the_formal_answer(knowledge, vocabulary):
    # 老年证 is what people say for 老年人优待证; 暖气 for 冬季采暖 (the article says 采暖期).
    assert _questions(selectors.search_articles("办老年证要带什么")) == ["老年人优待证办理地点和材料"]
    assert _questions(selectors.search_articles("暖气什么时候来")) == ["采暖期起止时间"]
    assert _questions(selectors.search_articles("垃圾几点扔")) == ["垃圾分类投放时间"]
    assert selectors.search_articles("物业不管") == []
    assert selectors.search_articles("   ") == []


def test_the_vocabulary_is_what_links_the_everyday_word(knowledge, vocabulary):
    SearchTerm.objects.filter(word="暖气").update(active=False)
    assert selectors.search_articles("暖气什么时候来") == []


def test_expired_and_switched_off_answers_are_not_suggested(street, knowledge, expire, vocabulary):
    operator = street.users.operator
    second = services.save_article(operator, question="居住证续签", answer="居住证每年签注一次。")
    assert set(_questions(selectors.search_articles("居住证"))) == {"居住证办理", "居住证续签"}
    services.save_article(operator, article_id=second.pk, question=second.question, answer=second.answer, active=False)
    expire(knowledge["residence"])
    assert selectors.search_articles("居住证") == []
    # The list page still shows the expired one; the one switched off only when asked for.
    assert _questions(selectors.articles("居住证")) == ["居住证办理"]
    assert set(_questions(selectors.articles("居住证", include_inactive=True))) == {"居住证办理", "居住证续签"}


def test_at_most_the_limit_most_used_first_on_a_tie(street, vocabulary):
    operator = street.users.operator
    made = [
        services.save_article(operator, question=f"社保卡补办第{n}种情况", answer="到合作银行网点办理。")
        for n in range(1, 8)
    ]
    for _ in range(3):
        services.record_use(operator, article_id=made[4].pk, case=None)
    found = selectors.search_articles("社保卡补办")
    assert len(found) == 5
    assert found[0] == made[4] and found[0].uses == 3
    assert len(selectors.search_articles("社保卡补办", limit=2)) == 2


def test_too_long_a_query_is_refused_with_its_field(knowledge):
    with pytest.raises(ValidationFailed) as caught:
        selectors.search_articles("字" * 101)
    assert caught.value.errors[0]["field"] == "q"
