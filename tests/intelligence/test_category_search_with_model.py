"""The category search ranks the model's suggestions with the other matches: words no category
name or vocabulary word holds are still found once the street's model has learnt them."""

from jiedao.cases import selectors


def test_the_model_finds_what_names_and_vocabulary_do_not(street, vocabulary, trained):
    matches = selectors.find_categories("老年餐桌")
    assert matches and matches[0].code == "020101" and matches[0].why == "智能分拨建议"


def test_without_a_model_those_words_find_nothing(street, vocabulary):
    assert selectors.find_categories("老年餐桌") == []
