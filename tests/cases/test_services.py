"""Each action of the case loop: what it changes, and when it is refused."""

import datetime as dt

import pytest

from jiedao.cases import dispatching, selectors, services
from jiedao.cases.models import Case, Extension, Rating, Status, Whistle, WhistleSummons
from jiedao.cases.states import CASE, TRANSITIONS
from jiedao.common import events
from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.messaging.models import Notification
from jiedao.workcal.calendar import SHANGHAI
from tests.cases.lifecycle import HOUR, LAMPS, SANITATION, attempt, drive, handler_for, new_case, snapshot
from tests.factories import WEDNESDAY
from tests.uploads import png_bytes, upload

pytestmark = pytest.mark.django_db


def beijing(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def field_of(error):
    return [e["field"] for e in error.errors]


# --- 退单 return -----------------------------------------------------------------------


def test_unit_returns_a_wrongly_routed_case_with_a_reason(street):
    case = drive(street, "dispatched")
    assert case.unit == street.units.committee1
    returned = services.return_case(
        street.users.handler_committee, number=case.number, reason="该路段不属本社区", at=WEDNESDAY + 2 * HOUR
    )
    assert returned.status == Status.RETURNED
    assert returned.unit is None and returned.return_count == 1
    event = returned.events.order_by("-seq").first()
    assert (event.action, event.note, event.actor_unit) == ("return", "该路段不属本社区", street.units.committee1)
    # It is back in the dispatcher's queue, and can be dispatched again.
    assert returned in selectors.dispatcher_queue(street.users.dispatcher)["returned"]
    again = services.dispatch(street.users.dispatcher, number=case.number, unit_code="ZHZF", at=WEDNESDAY + 3 * HOUR)
    assert again.status == Status.DISPATCHED and again.unit == street.units.enforcement
    assert again.return_count == 1


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_return_needs_a_reason(street, reason):
    case = drive(street, "dispatched")
    before = snapshot(case.number)
    with pytest.raises(ValidationFailed) as error:
        services.return_case(street.users.handler_committee, number=case.number, reason=reason, at=WEDNESDAY + HOUR)
    assert field_of(error.value) == ["reason"]
    assert "理由" in error.value.errors[0]["message"]
    assert snapshot(case.number) == before


def test_a_return_without_a_reason_hears_first_about_the_state_then_about_the_unit(street):
    """The lifecycle's order: the state (409), then who may (403), then the note (422)."""
    case = drive(street, "in_progress")
    with pytest.raises(InvalidTransition):
        services.return_case(street.users.handler_committee, number=case.number, reason="", at=WEDNESDAY + 3 * HOUR)
    case = drive(street, "dispatched")
    with pytest.raises(NotAllowed) as stranger:
        services.return_case(
            street.users.handler, number=case.number, reason="", at=WEDNESDAY + HOUR
        )  # another unit's case
    assert case.number in stranger.value.message and "退单" in stranger.value.message
    with pytest.raises(ValidationFailed):
        services.return_case(street.users.handler_committee, number=case.number, reason="", at=WEDNESDAY + HOUR)


def test_return_is_refused_after_the_window(street, settings):
    case = drive(street, "dispatched")
    before = snapshot(case.number)
    window = settings.JIEDAO["RETURN_WINDOW_HOURS"]
    with pytest.raises(InvalidTransition) as error:
        services.return_case(
            street.users.handler_committee, number=case.number, reason="不归我们管", at=WEDNESDAY + (window + 1) * HOUR
        )
    assert "退单时限" in str(error.value)
    assert snapshot(case.number) == before
    # Just inside the window it is still possible.
    ok = services.return_case(
        street.users.handler_committee, number=case.number, reason="不归我们管", at=WEDNESDAY + window * HOUR
    )
    assert ok.status == Status.RETURNED


def test_return_is_impossible_once_the_unit_responded(street):
    case = drive(street, "in_progress")
    with pytest.raises(InvalidTransition):
        services.return_case(
            street.users.handler_committee, number=case.number, reason="不归我们管", at=WEDNESDAY + 2 * HOUR
        )


# --- 延期 extensions ------------------------------------------------------------------------


def extension_case(street):
    """Dispatched Monday 28 September 2026 10:00: 3 working days → due Thursday 8 October
    (29, 30 September, then the National Day holiday until the 7th)."""
    case = drive(street, "in_progress", at=beijing("2026-09-28 10:00"))
    assert case.completion_due.astimezone(SHANGHAI) == beijing("2026-10-08 23:59:59")
    return case


def test_approved_extension_moves_the_deadline_by_working_days_over_the_holiday(street):
    u = street.users
    case = extension_case(street)
    services.request_extension(
        u.handler_committee,
        number=case.number,
        extra_workdays=2,
        reason="需要等待配件到货",
        at=beijing("2026-09-29 10:00"),
    )
    assert Extension.objects.get(case=case).decision == Extension.Decision.PENDING
    case = services.decide_extension(u.leader, number=case.number, approve=True, at=beijing("2026-09-29 11:00"))
    # Two more working days after 8 October: Friday 9, Saturday 10 (make-up day).
    assert case.completion_due.astimezone(SHANGHAI) == beijing("2026-10-10 23:59:59")
    assert case.extension_count == 1
    ext = Extension.objects.get(case=case)
    assert (ext.decision, ext.decided_by) == (Extension.Decision.APPROVED, u.leader)
    event = case.events.order_by("-seq").first()
    assert event.action == "approve_extension"
    assert event.data["completion_due"].startswith("2026-10-10T15:59:59")
    assert Notification.objects.filter(unit=case.unit, link=f"/cases/{case.number}/", kind="extension").exists()


def test_refused_extension_keeps_the_deadline_and_needs_a_reason(street):
    u = street.users
    case = extension_case(street)
    services.request_extension(
        u.handler_committee, number=case.number, extra_workdays=3, reason="人手不够", at=beijing("2026-09-29 10:00")
    )
    before = snapshot(case.number)
    with pytest.raises(ValidationFailed) as error:
        services.decide_extension(u.leader, number=case.number, approve=False, note="")
    assert field_of(error.value) == ["note"]
    assert snapshot(case.number) == before
    case = services.decide_extension(u.leader, number=case.number, approve=False, note="理由不充分，请按期办结")
    assert case.completion_due.astimezone(SHANGHAI) == beijing("2026-10-08 23:59:59")
    assert case.extension_count == 0
    assert Extension.objects.get(case=case).decision == Extension.Decision.REFUSED
    assert Notification.objects.filter(unit=case.unit, kind="extension", message__contains="驳回").exists()


@pytest.mark.parametrize("extra", [0, 31, "两天", None])
def test_extension_length_must_be_1_to_30_working_days(street, extra):
    case = extension_case(street)
    with pytest.raises(ValidationFailed) as error:
        services.request_extension(
            street.users.handler_committee, number=case.number, extra_workdays=extra, reason="需要更多时间"
        )
    assert field_of(error.value) == ["extra_workdays"]
    assert not Extension.objects.exists()


def test_one_pending_extension_at_a_time_and_no_decision_without_one(street):
    u = street.users
    case = extension_case(street)
    with pytest.raises(InvalidTransition):
        services.decide_extension(u.leader, number=case.number, approve=True)
    with pytest.raises(ValidationFailed) as error:
        services.request_extension(u.handler_committee, number=case.number, extra_workdays=2, reason="")
    assert field_of(error.value) == ["reason"]
    services.request_extension(u.handler_committee, number=case.number, extra_workdays=2, reason="等配件")
    with pytest.raises(InvalidTransition):
        services.request_extension(u.handler_committee, number=case.number, extra_workdays=2, reason="再等等")
    assert Extension.objects.count() == 1


# --- 吹哨报到 whistle ----------------------------------------------------------------------------


def test_whistle_summons_two_units_and_shows_who_has_reported(street):
    u = street.users
    case = drive(street, "in_progress")
    services.blow_whistle(
        u.dispatcher,
        number=case.number,
        unit_codes=["ZHZF", "ZJ"],
        report_hours=4,
        reason="占道堆放建筑垃圾，需执法和住建联合处置",
        at=WEDNESDAY + 2 * HOUR,
    )
    whistle = Whistle.objects.get(case=case, kind=Whistle.Kind.WHISTLE)
    assert whistle.report_due == WEDNESDAY + 6 * HOUR
    whistled = Notification.objects.filter(link=f"/cases/{case.number}/", kind="whistle")
    assert {n.unit.code for n in whistled} == {"ZHZF", "ZJ"}

    def reported():
        return {s.unit.code: s.reported_at is not None for s in whistle.summonses.select_related("unit")}

    assert reported() == {"ZHZF": False, "ZJ": False}
    services.report_to_whistle(u.handler, number=case.number, part="执法队负责清运和处罚", at=WEDNESDAY + 3 * HOUR)
    assert reported() == {"ZHZF": True, "ZJ": False}
    summons = WhistleSummons.objects.get(whistle=whistle, unit__code="ZHZF")
    assert (summons.part, summons.reported_by) == ("执法队负责清运和处罚", u.handler)
    report = case.events.filter(action="report").get()
    assert report.data["on_time"] is True
    # Late report is recorded as late.
    services.report_to_whistle(u.handler_housing, number=case.number, part="住建组核查工地", at=WEDNESDAY + 8 * HOUR)
    assert reported() == {"ZHZF": True, "ZJ": True}
    assert case.events.filter(action="report").order_by("-seq").first().data["on_time"] is False
    # A summoned unit may add progress notes on the case it helps with.
    services.add_note(u.handler, number=case.number, note="已组织清运车辆")
    # Reporting twice, or without being summoned, is refused.
    with pytest.raises(InvalidTransition):
        services.report_to_whistle(u.handler, number=case.number, part="再次报到")
    with pytest.raises(NotAllowed):
        services.report_to_whistle(u.handler_committee, number=case.number, part="我们也来")


@pytest.mark.parametrize(
    "codes, hours, field",
    [
        ([], 4, "units"),
        (["NOPE"], 4, "units"),
        (["ZHZF"], 0, "report_hours"),
        (["ZHZF"], "soon", "report_hours"),
        (["ZHZF"], 100, "report_hours"),
    ],
)
def test_whistle_input_is_checked(street, codes, hours, field):
    case = drive(street, "in_progress")
    before = snapshot(case.number)
    with pytest.raises(ValidationFailed) as error:
        services.blow_whistle(
            street.users.dispatcher, number=case.number, unit_codes=codes, report_hours=hours, reason="联合处置"
        )
    assert field_of(error.value) == [field]
    assert snapshot(case.number) == before and not Whistle.objects.filter(case=case).exists()


# --- 核查 verification ------------------------------------------------------------------------------


def test_categories_without_verification_go_straight_to_rating(street):
    case = drive(street, "rating", category=SANITATION)
    assert case.status == Status.RATING


def test_verification_pass_by_the_grid_worker_of_the_grid(street):
    u = street.users
    case = drive(street, "verifying", category=LAMPS)
    with pytest.raises(NotAllowed):
        services.verify(u.grid_other, number=case.number, passed=True, reason="电话核实")
    case = services.verify(u.grid, number=case.number, passed=True, note="现场路灯已亮", reason="已电话联系居民核实")
    assert case.status == Status.RATING


def test_verification_fail_sends_the_case_back_to_the_unit(street):
    u = street.users
    case = drive(street, "verifying", category=LAMPS)
    before = snapshot(case.number)
    with pytest.raises(ValidationFailed) as error:
        services.verify(u.grid, number=case.number, passed=False, note="", reason="夜间电话核实")
    assert field_of(error.value) == ["note"]
    assert snapshot(case.number) == before
    case = services.verify(u.grid, number=case.number, passed=False, note="路灯仍然不亮", reason="夜间电话核实")
    assert case.status == Status.IN_PROGRESS and case.resolved_at is None
    assert Notification.objects.filter(
        unit=street.units.enforcement, link=f"/cases/{case.number}/", kind="verify"
    ).exists()
    # The unit resolves again and the check passes this time.
    handler = handler_for(street, case)
    services.resolve(handler, number=case.number, result="更换了灯泡和线路")
    passed = services.verify(u.dispatcher, number=case.number, passed=True, reason="电话回访居民，确认已修好")
    assert passed.status == Status.RATING


# --- 回访评价 rating and 重办 rework -------------------------------------------------------------------


def test_unsatisfied_rating_reopens_the_case_to_the_same_unit(street):
    u = street.users
    case = drive(street, "rating")
    unit = case.unit
    rated_at = beijing("2026-11-19 10:00")
    case = services.rate(
        u.resident, number=case.number, resolved=True, satisfaction="unsatisfied", comment="只清了一半", at=rated_at
    )
    assert case.status == Status.IN_PROGRESS and case.unit == unit
    assert case.rework_count == 1 and case.resolved_at is None
    # New deadlines from the rating: 3 working days after Thursday 19 November → Tuesday 24.
    assert case.completion_due.astimezone(SHANGHAI) == beijing("2026-11-24 23:59:59")
    rating = Rating.objects.get(case=case)
    assert (rating.round, rating.unit, rating.resolved, rating.source) == (1, unit, True, Rating.Source.RESIDENT)
    assert Notification.objects.filter(unit=unit, link=f"/cases/{case.number}/", kind="rework").exists()
    # Second round: resolved and satisfied closes it.
    services.resolve(u.handler_committee, number=case.number, result="全部清运完毕", at=rated_at + HOUR)
    case = services.rate(u.operator, number=case.number, resolved=True, satisfaction="basic", at=rated_at + 2 * HOUR)
    assert case.status == Status.CLOSED and case.rework_count == 1
    assert list(Rating.objects.filter(case=case).order_by("round").values_list("round", "source")) == [
        (1, "resident"),
        (2, "callback"),
    ]


def test_unresolved_rating_reopens_even_if_satisfied(street):
    case = drive(street, "rating")
    case = services.rate(street.users.operator, number=case.number, resolved=False, satisfaction="satisfied")
    assert case.status == Status.IN_PROGRESS and case.rework_count == 1


def test_resident_without_account_rates_with_case_number_and_phone(street):
    case = drive(street, "rating")
    before = snapshot(case.number)
    with pytest.raises(NotAllowed):
        services.rate(None, number=case.number, resolved=True, satisfaction="satisfied", phone="13900000000")
    with pytest.raises(NotAllowed):
        services.rate(None, number=case.number, resolved=True, satisfaction="satisfied")
    assert snapshot(case.number) == before
    case = services.rate(None, number=case.number, resolved=True, satisfaction="satisfied", phone="138 0013 8000")
    assert case.status == Status.CLOSED
    assert Rating.objects.get(case=case).source == Rating.Source.RESIDENT


@pytest.mark.parametrize(
    "resolved, satisfaction, field", [(True, "great", "satisfaction"), ("yes", "basic", "resolved")]
)
def test_rating_values_are_checked(street, resolved, satisfaction, field):
    case = drive(street, "rating")
    before = snapshot(case.number)
    with pytest.raises(ValidationFailed) as error:
        services.rate(street.users.operator, number=case.number, resolved=resolved, satisfaction=satisfaction)
    assert field_of(error.value) == [field]
    assert snapshot(case.number) == before and not Rating.objects.exists()


def test_close_without_rating_needs_a_reason(street):
    case = drive(street, "rating")
    with pytest.raises(ValidationFailed):
        services.close(street.users.dispatcher, number=case.number, note="")
    case = services.close(street.users.dispatcher, number=case.number, note="三次回访均未接通")
    assert case.status == Status.CLOSED and case.closed_at is not None


# --- 并案 merge ---------------------------------------------------------------------------------------


def test_merge_keeps_the_duplicates_reporter_and_tells_them(street):
    u = street.users
    master, _ = services.submit_case(
        u.operator,
        channel="12345",
        description="东湖社区3号楼下垃圾堆积",
        reporter_phone="13700137000",
        category_code=SANITATION,
        at=WEDNESDAY,
    )
    duplicate = new_case(street, at=WEDNESDAY + HOUR)
    case = services.merge(
        u.dispatcher,
        number=duplicate.number,
        master_number=master.number,
        note="同一地点同一问题",
        at=WEDNESDAY + 2 * HOUR,
    )
    assert case.status == Status.MERGED and case.master == master
    assert case.reporter == u.resident and case.reporter_phone == "13800138000"
    message = Notification.objects.get(user=u.resident, link=f"/cases/{case.number}/", kind="merge").message
    assert duplicate.number in message and master.number in message
    # The master records what it absorbed; the resident still sees the duplicate.
    assert master.events.filter(action="absorb", data__duplicate=duplicate.number).exists()
    assert selectors.case_for(u.resident, duplicate.number).master == master


def test_merge_refuses_itself_and_finished_masters(street):
    u = street.users
    duplicate = new_case(street)
    before = snapshot(duplicate.number)
    with pytest.raises(ValidationFailed) as error:
        services.merge(u.dispatcher, number=duplicate.number, master_number=duplicate.number)
    assert field_of(error.value) == ["master"]
    closed = drive(street, "closed")
    with pytest.raises(ValidationFailed) as error:
        services.merge(u.dispatcher, number=duplicate.number, master_number=closed.number)
    assert field_of(error.value) == ["master"]
    with pytest.raises(ValidationFailed):
        services.merge(u.dispatcher, number=duplicate.number, master_number="JD000000000")
    assert snapshot(duplicate.number) == before


# --- 督办 supervision -----------------------------------------------------------------------------------


def test_supervise_marks_the_case_and_tells_the_unit(street):
    u = street.users
    case = drive(street, "in_progress")
    with pytest.raises(ValidationFailed):
        services.supervise(u.leader, number=case.number, note="", due=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    case = services.supervise(
        u.leader, number=case.number, note="请今日内办结并回复", due=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    )
    assert case.supervised is True
    assert case in selectors.attention_cases(u.leader)
    assert Notification.objects.filter(
        unit=case.unit, link=f"/cases/{case.number}/", kind="supervise", message__contains="请今日内办结并回复"
    ).exists()


def test_a_new_case_cannot_be_supervised(street):
    case = drive(street, "new")
    with pytest.raises(InvalidTransition):
        services.supervise(
            street.users.leader, number=case.number, note="请尽快", due=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        )


# --- who may do what: every role × every action -------------------------------------------------------

ACTORS = [
    "admin",
    "operator",
    "dispatcher",
    "leader",
    "own_handler",
    "summoned_handler",
    "other_handler",
    "grid",
    "grid_other",
    "resident",
    "resident_other",
    "anonymous",
]

ALLOWED = {
    "classify": {"operator", "dispatcher", "admin"},
    "dispatch": {"dispatcher", "leader", "admin"},
    "return": {"own_handler"},
    "respond": {"own_handler"},
    "note": {"own_handler"},
    "request_extension": {"own_handler"},
    "approve_extension": {"leader", "admin"},
    "refuse_extension": {"leader", "admin"},
    "whistle": {"dispatcher", "leader"},
    "report": {"summoned_handler"},
    "resolve": {"own_handler"},
    "verify_pass": {"grid", "dispatcher"},
    "verify_fail": {"grid", "dispatcher"},
    "rate": {"resident", "operator", "dispatcher"},
    "close": {"dispatcher", "leader"},
    "merge": {"dispatcher", "leader"},
    "supervise": {"dispatcher", "leader"},
    "supervise_reply": {"own_handler"},
    # Issued by the dispatcher in ``setup_for``: a leader or that dispatcher decides.
    "supervise_accept": {"dispatcher", "leader"},
    "supervise_return": {"dispatcher", "leader"},
    "unreached": {"operator", "dispatcher"},
    "inform": {"operator", "dispatcher"},
    "flag": {"dispatcher", "leader"},
    "answer": {"operator", "dispatcher"},
    "advise": {"operator", "dispatcher"},
    "void": {"operator", "dispatcher"},
    "self_resolve": {"grid"},
}


def actor(street, case, name):
    """The user behind each name, relative to the case: its unit's handler, a handler of the
    unit summoned by a whistle (if any), and a handler of a third unit."""
    u = street.users
    if name == "anonymous":
        return None
    own = case.unit.code if case.unit_id else "JWH01"  # where a new case would be routed
    handlers = {"JWH01": u.handler_committee, "ZHZF": u.handler, "ZJ": u.handler_housing}
    if name == "own_handler":
        return handlers[own]
    if name == "summoned_handler":
        return handlers["ZHZF" if own != "ZHZF" else "ZJ"]
    if name == "other_handler":
        return handlers["ZJ" if own != "ZJ" else "JWH01"]
    return getattr(u, name)


def setup_for(street, action):
    """A case in which ``action`` is possible, and the call that takes it."""
    u = street.users
    if action in ("classify", "dispatch", "answer", "advise", "void", "self_resolve"):
        case = drive(street, "new")
    elif action in ("return", "respond"):
        case = drive(street, "dispatched")
    elif action in ("verify_pass", "verify_fail"):
        case = drive(street, "verifying", category=LAMPS)
    elif action in ("rate", "close", "unreached", "inform"):
        case = drive(street, "rating")
    else:
        case = drive(street, "in_progress")
    if action in ("approve_extension", "refuse_extension"):
        services.request_extension(handler_for(street, case), number=case.number, extra_workdays=2, reason="等配件")
    if action == "report":
        services.blow_whistle(u.dispatcher, number=case.number, unit_codes=["ZHZF"], report_hours=4, reason="联合处置")
    if action == "supervise_reply":
        services.supervise(u.leader, number=case.number, note="请说明进度", due=dt.datetime.now(dt.UTC) + HOUR)
    if action in ("supervise_accept", "supervise_return"):
        services.supervise(u.dispatcher, number=case.number, note="请说明进度", due=dt.datetime.now(dt.UTC) + HOUR)
        services.reply_to_supervision(handler_for(street, case), number=case.number, reply="明日完成")
    master = None
    if action == "merge":
        master, _ = services.submit_case(
            u.operator,
            channel="12345",
            description="同一问题的另一张工单",
            reporter_phone="13700137000",
            category_code=SANITATION,
        )
    n = case.number
    calls = {
        "classify": lambda user: services.classify(user, number=n, category_code=LAMPS),
        "dispatch": lambda user: services.dispatch(user, number=n),
        "return": lambda user: services.return_case(user, number=n, reason="不属于本单位", at=WEDNESDAY + 2 * HOUR),
        "respond": lambda user: services.respond(user, number=n),
        "note": lambda user: services.add_note(user, number=n, note="已到现场查看"),
        "request_extension": lambda user: services.request_extension(user, number=n, extra_workdays=2, reason="等配件"),
        "approve_extension": lambda user: services.decide_extension(user, number=n, approve=True),
        "refuse_extension": lambda user: services.decide_extension(user, number=n, approve=False, note="理由不足"),
        "whistle": lambda user: services.blow_whistle(
            user, number=n, unit_codes=["ZJ"], report_hours=4, reason="需要住建配合"
        ),
        "report": lambda user: services.report_to_whistle(user, number=n, part="负责执法"),
        "resolve": lambda user: services.resolve(user, number=n, result="已处理"),
        "verify_pass": lambda user: services.verify(user, number=n, passed=True, reason="电话核实"),
        "verify_fail": lambda user: services.verify(user, number=n, passed=False, note="仍未修好", reason="电话核实"),
        "rate": lambda user: services.rate(user, number=n, resolved=True, satisfaction="satisfied"),
        "close": lambda user: services.close(user, number=n, note="回访未接通"),
        "merge": lambda user: services.merge(user, number=n, master_number=master.number),
        "supervise": lambda user: services.supervise(user, number=n, note="请加快", due=dt.datetime.now(dt.UTC) + HOUR),
        "supervise_reply": lambda user: services.reply_to_supervision(user, number=n, reply="已安排人员处理"),
        "supervise_accept": lambda user: services.decide_supervision(user, number=n, accept=True),
        "supervise_return": lambda user: services.decide_supervision(
            user, number=n, accept=False, reason="请写明时间", due=dt.datetime.now(dt.UTC) + 2 * HOUR
        ),
        "unreached": lambda user: services.callback_unreached(user, number=n),
        "inform": lambda user: services.inform(user, number=n, note="已电话告知办理结果"),
        "flag": lambda user: services.flag(user, number=n, kind="opinion", note="网上有帖子"),
        "answer": lambda user: services.settle(user, number=n, outcome="answered", answer="每周三上午办理。"),
        "advise": lambda user: services.settle(user, number=n, outcome="advised", answer="建议协商解决。"),
        "void": lambda user: services.settle(user, number=n, outcome="voided", void_reason="prank"),
        "self_resolve": lambda user: services.self_resolve(
            user, number=n, result="已清运", photos=[upload(png_bytes(), "done.png")]
        ),
    }
    return Case.objects.get(pk=case.pk), calls[action]


def test_the_permission_table_covers_every_action():
    assert set(ALLOWED) == set(TRANSITIONS)


@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_who_may_take_each_action(street, action):
    case, call = setup_for(street, action)
    before = snapshot(case.number)
    for name in ACTORS:
        user = actor(street, case, name)
        allowed = name in ALLOWED[action]
        assert CASE.can_take(user, case, action) is allowed, (action, name)
        if user is not None:
            shown = [t.action for t in selectors.allowed_actions(user, case)]
            assert (action in shown) is allowed, (action, name)
        outcome = attempt(lambda: call(user))
        if allowed:
            assert isinstance(outcome, Case), (action, name, outcome)
        else:
            assert isinstance(outcome, NotAllowed), (action, name, outcome)
        assert snapshot(case.number) == before  # attempt() rolled the try back


# --- nothing is ever half-written ---------------------------------------------------------------------


def test_a_failure_after_the_status_change_leaves_nothing_behind(street, monkeypatch):
    case = drive(street, "new")
    before = snapshot(case.number)
    notifications = Notification.objects.count()

    def broken_notify(**kwargs):
        raise RuntimeError("消息服务故障")

    monkeypatch.setattr(dispatching, "notify", broken_notify)
    with pytest.raises(RuntimeError):
        services.dispatch(street.users.dispatcher, number=case.number)
    assert snapshot(case.number) == before
    assert Case.objects.get(pk=case.pk).status == Status.NEW
    assert Notification.objects.count() == notifications


def test_a_failure_while_writing_the_event_leaves_no_rating(street, monkeypatch):
    case = drive(street, "rating")
    before = snapshot(case.number)
    real = events.append

    def failing_append(model, record, *, action, **kwargs):
        if action == "rate":
            raise RuntimeError("磁盘已满")
        return real(model, record, action=action, **kwargs)

    monkeypatch.setattr(events, "append", failing_append)
    with pytest.raises(RuntimeError):
        services.rate(street.users.resident, number=case.number, resolved=False, satisfaction="unsatisfied")
    assert snapshot(case.number) == before
    assert not Rating.objects.filter(case=case).exists()
    assert not Notification.objects.filter(link=f"/cases/{case.number}/", kind="rework").exists()


def test_a_failure_on_the_master_leaves_the_duplicate_unmerged(street, monkeypatch):
    u = street.users
    master = new_case(street, description="主工单")
    duplicate = new_case(street, description="重复工单")
    before = snapshot(duplicate.number), snapshot(master.number)
    real = events.append

    def failing_append(model, record, *, action, **kwargs):
        if action == "absorb":
            raise RuntimeError("写入失败")
        return real(model, record, action=action, **kwargs)

    monkeypatch.setattr(events, "append", failing_append)
    with pytest.raises(RuntimeError):
        services.merge(u.dispatcher, number=duplicate.number, master_number=master.number)
    assert (snapshot(duplicate.number), snapshot(master.number)) == before
    assert not Notification.objects.filter(kind="merge").exists()


def test_the_event_log_cannot_be_edited_or_deleted(street):
    case = new_case(street)
    event = case.events.order_by("seq").first()
    event.note = "改写历史"
    with pytest.raises(RuntimeError, match="append-only"):
        event.save()
    with pytest.raises(RuntimeError, match="append-only"):
        event.delete()
    event.refresh_from_db()
    assert event.note != "改写历史" and case.events.count() >= 1
