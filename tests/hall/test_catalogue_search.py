"""The service hall's catalogue is found by the words people say, through the same search and
vocabulary as the category search and the responsibility list."""

from django.test import Client

from jiedao.common.models import SearchTerm
from jiedao.hall import selectors
from jiedao.hall.models import ServiceItem


def names(items):
    return [i.name for i in items]


def test_everyday_words_find_the_formal_item(hall, vocabulary):
    ServiceItem.objects.create(
        code="11010500100009", basic_code="000118001000", name="最低生活保障申请", item_type="benefit",
        group="B", unit=hall["street"].units.service, statutory_days=30, promised_days=20,
    )  # fmt: skip
    assert names(selectors.search_items("低保")) == ["最低生活保障申请"]
    assert names(selectors.search_items("老年证")) == ["老年人优待证办理"]
    page = Client().get("/hall/", {"q": "低保"}).content.decode()
    assert "最低生活保障申请" in page and "就业登记" not in page


def test_the_vocabulary_an_administrator_edits_is_used_at_once(hall, vocabulary):
    assert selectors.search_items("找工作登记") == [hall["work"]]
    assert selectors.search_items("上班备案") == []
    SearchTerm.objects.create(word="上班", terms="就业登记")
    assert selectors.search_items("上班备案") == [hall["work"]]


def test_an_empty_search_lists_the_whole_catalogue_in_order(hall):
    assert names(selectors.search_items("")) == ["就业登记", "老年人优待证办理", "居住证明开具"]
