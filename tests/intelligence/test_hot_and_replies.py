"""Hot issues on a constructed burst; reply-quality flags at the resolve step."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from jiedao.cases import services as case_services
from jiedao.intelligence import measures, selectors

BURST = [
    "东湖小区北门夜间施工噪音扰民，凌晨还在施工",
    "北门工地夜间施工噪音太大，凌晨睡不着",
    "东湖小区北门工地凌晨施工噪音扰民",
    "北门夜间施工噪音扰民，请管一管",
    "东湖北门工地夜间施工噪音严重扰民",
]


def _report(street, text, hours_ago, phone, grid=0, now=None):
    now = now or timezone.now()
    case, _ = case_services.submit_case(
        street.users.operator,
        channel="12345",
        description=text,
        reporter_phone=phone,
        grid_code=street.grids[grid].code,
        category_code="010101",
        at=now - dt.timedelta(hours=hours_ago),
    )
    return case


def test_a_burst_of_similar_reports_from_one_place_is_a_hot_issue(street, login):
    now = timezone.now()
    burst = [_report(street, text, hours_ago=i * 2, phone=f"1380000000{i}", now=now) for i, text in enumerate(BURST)]
    _report(street, "养老服务补贴怎么申请", 1, "13900000001", now=now)
    _report(street, "西园小区路灯不亮", 1, "13900000002", grid=2, now=now)
    issues = selectors.hot_issues(street.users.leader, now=now)
    assert len(issues) == 1
    issue = issues[0]
    assert issue.count == 5 and issue.reporters == 5 and sorted(issue.case_ids) == sorted(c.pk for c in burst)
    assert issue.community == street.communities[0] and "东湖社区" in issue.title
    assert "施工" in issue.title  # a phrase from the members' text
    assert issue.growing and issue.fast
    assert [i.key for i in selectors.fast_growing_hot_issues(now=now)] == [issue.key]

    page = login(street.users.leader).get(issue.url)
    assert page.status_code == 200
    assert all(case.number in page.content.decode() for case in burst)
    listing = login(street.users.leader).get(reverse("intelligence:hot")).content.decode()
    assert issue.title in listing


def test_the_same_reports_spread_over_a_week_are_hot_but_not_fast_growing(street):
    now = timezone.now()
    for i, text in enumerate(BURST):
        _report(street, text, hours_ago=30 * i + 30, phone=f"1380000000{i}", now=now)
    issue = selectors.hot_issues(street.users.leader, now=now)[0]
    assert issue.count == 5 and not issue.fast
    assert selectors.fast_growing_hot_issues(now=now) == []


def test_repeated_identical_reports_join_the_similar_ones_in_one_issue(street):
    now = timezone.now()
    made = [_report(street, text, hours_ago=i, phone=f"138000001{i:02d}", now=now) for i, text in enumerate(BURST * 3)]
    issues = selectors.hot_issues(street.users.leader, now=now)
    assert len(issues) == 1
    assert issues[0].count == 15 and sorted(issues[0].case_ids) == sorted(c.pk for c in made)
    assert issues[0].first_at == min(c.created_at for c in made)


def test_two_reports_are_not_a_hot_issue(street):
    now = timezone.now()
    for i, text in enumerate(BURST[:2]):
        _report(street, text, hours_ago=i, phone=f"1380000000{i}", now=now)
    assert selectors.hot_issues(street.users.leader, now=now) == []


def _resolved(street, result):
    case, _ = case_services.submit_case(
        street.users.operator,
        channel="12345",
        description="幸福里5号楼路灯不亮，晚上出行不便",
        reporter_phone="13812345678",
        category_code="010102",
        dispatch=True,
    )
    case_services.respond(street.users.handler, number=case.number)
    return case_services.resolve(street.users.handler, number=case.number, result=result)


def test_a_vague_reply_is_flagged_and_the_handler_can_keep_it(street, login):
    start = timezone.now() - dt.timedelta(hours=1)
    good = _resolved(street, "11月18日已派电工到幸福里5号楼更换路灯灯泡，路灯已恢复照明。")
    vague = _resolved(street, "收到，会关注。")
    assert not good.reply_checks.get().flagged
    check = vague.reply_checks.get()
    assert check.flagged and {"off_topic", "no_action", "no_date"} <= set(check.flags)
    end = timezone.now() + dt.timedelta(hours=1)
    assert measures.reply_flag_rate(start, end) == 0.5
    assert measures.reply_flag_rate(start, end, unit=street.units.housing) is None

    client = login(street.users.handler)
    page = client.get(reverse("cases:case", args=[vague.number])).content.decode()
    assert "答复质量提示" in page and "未写明具体措施" in page
    client.post(reverse("intelligence:reply_override", args=[check.pk]), {"note": "已电话沟通，居民认可"})
    check.refresh_from_db()
    assert check.overridden_by == street.users.handler
    assert measures.reply_flag_rate(start, end) == 0.0


def test_the_same_reply_copied_across_cases_is_a_template(street):
    checks = [_resolved(street, "已安排人员处理，今日已处理完毕。").reply_checks.get() for _ in range(3)]
    assert "template" not in checks[0].flags and "template" in checks[2].flags


def test_the_handler_is_warned_right_after_submitting_a_vague_reply(street, login):
    case, _ = case_services.submit_case(
        street.users.operator,
        channel="12345",
        description="幸福里5号楼路灯不亮，晚上出行不便",
        reporter_phone="13812345678",
        category_code="010102",
        dispatch=True,
    )
    case_services.respond(street.users.handler, number=case.number)
    client = login(street.users.handler)
    response = client.post(
        reverse("cases:action", args=[case.number, "resolve"]), {"result": "收到，会关注。"}, follow=True
    )
    assert "答复质量提示" in response.content.decode() and "未写明具体措施" in response.content.decode()
