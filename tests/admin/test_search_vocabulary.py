"""The search vocabulary (搜索同义词) in the admin: added and changed with clear errors."""

from django.urls import reverse

from jiedao.common.models import SearchTerm


def test_the_administrator_edits_the_vocabulary_in_the_admin_with_clear_errors(admin_client, vocabulary):
    client = admin_client
    add = reverse("admin:common_searchterm_add")
    bad = client.post(add, {"word": "锅炉 房", "terms": "冬季采暖", "active": "on"})
    assert bad.status_code == 200 and "常用说法须是一个词" in bad.content.decode()
    same = client.post(add, {"word": "锅炉房", "terms": "锅炉房", "active": "on"})
    assert same.status_code == 200 and "请至少填写一个与常用说法不同的正式说法" in same.content.decode()
    assert not SearchTerm.objects.filter(word__startswith="锅炉").exists()
    good = client.post(add, {"word": "锅炉房", "terms": "冬季采暖、供暖", "active": "on"})
    assert good.status_code == 302
    assert SearchTerm.objects.get(word="锅炉房").term_list == ["冬季采暖", "供暖"]
