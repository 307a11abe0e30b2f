"""The case API: intake, lists, the case, its actions and timeline, the 三率, and the
resident's public lookup and rating. Thin: services write, selectors read and scope."""

from django.db import IntegrityError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Header, Router, Status
from ninja.renderers import JSONRenderer

from jiedao.common import idempotency, params
from jiedao.common.audit import log_unmasked_view
from jiedao.common.errors import NotFound, ValidationFailed
from jiedao.common.schemas import ErrorsOut
from jiedao.intelligence.schemas import DuplicateConflictOut, candidate_out
from jiedao.intelligence.selectors import find_duplicates
from jiedao.org import selectors as org_selectors
from jiedao.org.permissions import permission

from . import intake, measures, rules, selectors, services, states, tracking
from .models import Channel
from .schemas import (
    PERSONAL_FIELDS,
    URGENCIES,
    AnswerIn,
    CaseDetail,
    CaseIn,
    CasePage,
    ClassifyIn,
    DispatchIn,
    EventOut,
    ExtensionIn,
    FlagIn,
    Loaded,
    MergeIn,
    NoteIn,
    PublicCaseOut,
    PublicRateIn,
    RateIn,
    ReasonIn,
    ReportIn,
    ResolveIn,
    SelfResolveIn,
    SuperviseDecisionIn,
    SuperviseIn,
    SuperviseReplyIn,
    ThreeRatesOut,
    VerifyIn,
    VoidIn,
    WhistleIn,
    case_detail,
    decode_photos,
    event_out,
    list_item,
    public_case_out,
)

router = Router(tags=["cases"])
# The API's own renderer and content type, for the one answer rendered without a second check
# against its schema (a new case: see create_case).
RENDERER = JSONRenderer()
JSON = f"{RENDERER.media_type}; charset={RENDERER.charset}"

ERRORS = {401: ErrorsOut, 403: ErrorsOut, 404: ErrorsOut, 409: ErrorsOut, 422: ErrorsOut}


def _default_channel(user):
    if user.has_role("resident") and not user.is_street_staff:
        return Channel.PORTAL
    if user.has_role("grid") and not user.has_role("operator", "dispatcher", "admin", "leader"):
        return Channel.GRID
    return Channel.API


def _answer(request, case, *, log=True, loaded=None):
    """The case as the user may see it. Showing the reporter unmasked is written to the access
    log — unless the answer merely echoes what the caller has just submitted (``log=False``)."""
    unmasked = selectors.may_see_reporter(request.user, case)
    # The deadline level as the case page shows it now, not the one the last sweep stored.
    case.urgency = rules.urgency_at(case, now=timezone.now())
    shown = [name for name in PERSONAL_FIELDS if getattr(case, name)]
    if unmasked and shown and log:
        log_unmasked_view(request.user, case, shown, purpose="api")
    return case_detail(request.user, case, unmasked=unmasked, loaded=loaded or Loaded())


def _detail(request, number, fallback=None):
    try:
        case = selectors.case_for(request.user, number)
    except NotFound:
        if fallback is None:
            raise
        case = fallback
    return _answer(request, case)


# --- intake and lists --------------------------------------------------------------


@router.post(
    "/cases",
    response={200: CaseDetail, 201: CaseDetail, **ERRORS, 409: DuplicateConflictOut},
    summary="Register a case (受理)",
)
@permission("intake.portal", "intake.hotline", "intake.grid", "intake.api")
def create_case(request, payload: CaseIn, idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """Register a new case. With an ``Idempotency-Key`` header, sending the same key
    again (same user) returns the case created the first time (200 instead of 201).
    With ``check_duplicates`` a case similar to an open or recent one nearby is not created:
    409 lists the ``candidates``; send again with ``attach_to`` (follow that case) or without
    ``check_duplicates`` (a new case)."""
    key = idempotency.clean_key(idempotency_key)
    if payload.check_duplicates and not payload.attach_to:
        found = find_duplicates(
            payload.description, payload.lat, payload.lng, payload.grid, payload.category, address=payload.address
        )
        if found:
            show = request.user.is_authenticated and request.user.is_street_staff
            return Status(
                409,
                {
                    "errors": [
                        {
                            "field": "attach_to",
                            "message": _(
                                "附近已有相似的工单，可关注已有工单（attach_to），或不带 check_duplicates 重新提交。"
                            ),
                        }
                    ],
                    "candidates": [candidate_out(c, show) for c in found],
                },
            )
    photos = decode_photos(payload.photos)
    values = {
        "channel": payload.channel or _default_channel(request.user),
        "description": payload.description,
        "reporter_name": payload.reporter_name,
        "reporter_phone": payload.reporter_phone,
        "lat": payload.lat,
        "lng": payload.lng,
        "address": payload.address,
        "community_code": payload.community,
        "grid_code": payload.grid,
        "category_code": payload.category,
        "photos": photos,
        "dispatch": payload.dispatch,
        "idempotency_key": key,
        "attach_to": payload.attach_to,
    }
    if payload.outcome:
        values.update(outcome=payload.outcome, answer=payload.answer, void_reason=payload.void_reason)
    try:
        registered = intake.register(request.user, **values)
    except IntegrityError:
        if not key:
            raise
        # The same key arrived twice at the same moment: the other request won.
        registered = intake.register(request.user, **values)
    case = registered.case
    if registered.created:
        # A new case echoes what the caller has just sent (not a look-up, so no access-log
        # row), built from the case in hand: the intake has just written all of it.
        loaded = Loaded(
            photos=registered.photos,
            ratings=[],
            extensions=[],
            merged_cases=[],
            whistles=None if registered.cohandled else [],
        )
        # The answer is built field by field as CaseDetail names them, from rows just written:
        # rendered as it is, without django-ninja checking it against the schema again
        # (tests/api/test_intake_answer.py holds it to the schema).
        answer = _answer(request, case, log=False, loaded=loaded)
        return HttpResponse(RENDERER.render(request, answer, response_status=201), status=201, content_type=JSON)
    # A replay under the same key shows stored data and is logged.
    return Status(200, _detail(request, case.number, fallback=case))


@router.get("/cases", response={200: CasePage, **ERRORS}, summary="List cases (工单列表)")
def list_cases(
    request,
    status: str = "",
    unit: str = "",
    category: str = "",
    urgency: str = "",
    q: str = "",
    cursor: str = "",
    limit: int = 50,
    order: str = "created",
):
    """Cases the user may see, newest first (``order=created``) or deadline first
    (``order=due``), by key: pass ``next_cursor`` as ``cursor`` for the next page.
    ``status`` takes several codes separated by commas, or ``open``. ``urgency`` (green,
    yellow, red) and each case's ``urgency`` are the deadline levels of the case page at the
    time of the request (red 超期: past the response limit while waiting for the response, or
    past the completion limit). Reporters are masked."""
    if urgency and urgency not in URGENCIES:
        raise ValidationFailed(
            "urgency", _("时限状态“%(value)s”无效，应为 green、yellow 或 red。") % {"value": urgency}
        )
    if order not in ("created", "due"):
        raise ValidationFailed("order", _("排序方式应为 created 或 due。"))
    if not 1 <= limit <= 200:
        raise ValidationFailed("limit", _("每页条数须在1到200之间。"))
    rows, next_cursor = selectors.case_list(
        request.user,
        status=status or None,
        unit=unit or None,
        category=category or None,
        urgency=urgency or None,
        q=q.strip() or None,
        cursor=cursor or None,
        limit=limit,
        order=order,
    )
    return {"items": [list_item(case) for case in rows], "next_cursor": next_cursor}


@router.get("/cases/{number}", response={200: CaseDetail, **ERRORS}, summary="One case (工单详情)")
def get_case(request, number: str):
    return _detail(request, number)


@router.get("/cases/{number}/events", response={200: list[EventOut], **ERRORS}, summary="Timeline (流转记录)")
def case_events(request, number: str):
    case = selectors.case_for(request.user, number)
    return [event_out(e) for e in selectors.timeline(request.user, case)]


# --- actions ------------------------------------------------------------------------


def _resolve(user, number, p):
    return services.resolve(user, number=number, result=p.result, photos=decode_photos(p.photos))


def _verify(passed):
    def call(user, number, p):
        return services.verify(
            user,
            number=number,
            passed=passed,
            note=p.note,
            reason=p.reason,
            lat=p.lat,
            lng=p.lng,
            photos=decode_photos(p.photos),
        )

    return call


def _self_resolve(user, number, p):
    return services.self_resolve(user, number=number, result=p.result, photos=decode_photos(p.photos))


ACTIONS = {
    "classify": (ClassifyIn, lambda u, n, p: services.classify(u, number=n, category_code=p.category)),
    "dispatch": (DispatchIn, lambda u, n, p: services.dispatch(u, number=n, unit_code=p.unit or None, note=p.note)),
    "return": (ReasonIn, lambda u, n, p: services.return_case(u, number=n, reason=p.reason)),
    "respond": (NoteIn, lambda u, n, p: services.respond(u, number=n, note=p.note)),
    "note": (NoteIn, lambda u, n, p: services.add_note(u, number=n, note=p.note)),
    "request_extension": (
        ExtensionIn,
        lambda u, n, p: services.request_extension(u, number=n, extra_workdays=p.extra_workdays, reason=p.reason),
    ),
    "approve_extension": (NoteIn, lambda u, n, p: services.decide_extension(u, number=n, approve=True, note=p.note)),
    "refuse_extension": (NoteIn, lambda u, n, p: services.decide_extension(u, number=n, approve=False, note=p.note)),
    "whistle": (
        WhistleIn,
        lambda u, n, p: services.blow_whistle(
            u, number=n, unit_codes=p.units, report_hours=p.report_hours, reason=p.reason
        ),
    ),
    "report": (ReportIn, lambda u, n, p: services.report_to_whistle(u, number=n, part=p.part)),
    "resolve": (ResolveIn, _resolve),
    "verify_pass": (VerifyIn, _verify(True)),
    "verify_fail": (VerifyIn, _verify(False)),
    "rate": (
        RateIn,
        lambda u, n, p: services.rate(u, number=n, resolved=p.resolved, satisfaction=p.satisfaction, comment=p.comment),
    ),
    "close": (NoteIn, lambda u, n, p: services.close(u, number=n, note=p.note)),
    "merge": (MergeIn, lambda u, n, p: services.merge(u, number=n, master_number=p.master, note=p.note)),
    "supervise": (SuperviseIn, lambda u, n, p: services.supervise(u, number=n, note=p.note, due=p.due)),
    "supervise_reply": (
        SuperviseReplyIn,
        lambda u, n, p: services.reply_to_supervision(u, number=n, reply=p.reply),
    ),
    "supervise_accept": (
        SuperviseDecisionIn,
        lambda u, n, p: services.decide_supervision(u, number=n, accept=True, reason=p.reason),
    ),
    "supervise_return": (
        SuperviseDecisionIn,
        lambda u, n, p: services.decide_supervision(u, number=n, accept=False, reason=p.reason, due=p.due),
    ),
    "unreached": (NoteIn, lambda u, n, p: services.callback_unreached(u, number=n, note=p.note)),
    "inform": (NoteIn, lambda u, n, p: services.inform(u, number=n, note=p.note)),
    "flag": (FlagIn, lambda u, n, p: services.flag(u, number=n, kind=p.kind, note=p.note)),
    "answer": (AnswerIn, lambda u, n, p: services.settle(u, number=n, outcome="answered", answer=p.answer)),
    "advise": (AnswerIn, lambda u, n, p: services.settle(u, number=n, outcome="advised", answer=p.answer)),
    "void": (
        VoidIn,
        lambda u, n, p: services.settle(u, number=n, outcome="voided", void_reason=p.reason, answer=p.note),
    ),
    "self_resolve": (SelfResolveIn, _self_resolve),
}
assert set(ACTIONS) == set(states.TRANSITIONS), "every transition needs an API action"


def _action_view(action, schema, call):
    # Actions whose fields are all optional also accept an empty body.
    optional = not any(f.is_required() for f in schema.model_fields.values())

    def view(request, number: str, payload: schema = (schema() if optional else ...)):
        selectors.case_for(request.user, number)  # 404 when the user may not see the case
        case = call(request.user, number, payload)
        return _detail(request, number, fallback=case)

    view.__name__ = f"case_action_{action}"
    view.__doc__ = (
        f"{states.TRANSITIONS[action].label}. 403 when the user's role may not take it at all, "
        f"404 when the user may not see the case, 409 when the case's state does not allow it, "
        f"403 when the user may not take it on this case, 422 when a field breaks a rule. "
        f"Returns the updated case."
    )
    return view


for _action, (_schema, _call) in ACTIONS.items():
    router.post(
        f"/cases/{{number}}/actions/{_action}",
        response={200: CaseDetail, **ERRORS},
        operation_id=f"case_action_{_action}",
        summary=f"{_action} ({states.TRANSITIONS[_action].label})",
        tags=["case actions"],
    )(permission(f"case.{_action}")(_action_view(_action, _schema, _call)))


@router.post("/cases/{number}/actions/{action}", response={404: ErrorsOut}, include_in_schema=False)
@permission("case.{action}")
def unknown_action(request, number: str, action: str):
    raise NotFound(_("没有“%(action)s”这个操作。") % {"action": action})


# --- measures ------------------------------------------------------------------------


@router.get(
    "/metrics/three-rates", response={200: ThreeRatesOut, **ERRORS}, summary="三率 of a month", tags=["metrics"]
)
def three_rates(request, month: str = "", unit: str = ""):
    """The month's measures for a unit, or for the whole street with a list per unit.
    Leaders, dispatchers and administrators see every unit; a unit handler only their own."""
    month = f"{params.parse_month(month):%Y-%m}" if month.strip() else measures.current_month()
    unit_code, street_wide = org_selectors.metrics_scope(request.user, unit)
    street = None if request.user.covers_all_streets else request.user.street
    result = measures.three_rates(month, unit_code, street=street).as_dict()
    if street_wide:
        result["units"] = [row.as_dict() for row in measures.three_rates_by_unit(month, street=street)]
    return result


# --- residents without an account ---------------------------------------------------


@router.get(
    "/public/cases/{number}",
    response={200: PublicCaseOut, **ERRORS, 429: ErrorsOut},
    auth=None,
    tags=["public"],
    summary="Track a case by number and phone",
)
def public_case(request, number: str, phone: str = ""):
    """The case's status and steps for the resident who reported it (number + phone). Limited
    like the tracking page, with which it shares the counts: 429 with Retry-After."""
    case = tracking.find(request, number, phone)
    return public_case_out(case, selectors.events_of(case))


@router.post(
    "/public/cases/{number}/rate",
    response={200: PublicCaseOut, **ERRORS, 429: ErrorsOut},
    auth=None,
    tags=["public"],
    summary="Rate a case by number and phone",
)
@permission("public.rate_case")
def public_rate(request, number: str, payload: PublicRateIn):
    """回访评价 by the resident: resolved yes/no and satisfied / basic / unsatisfied."""
    case = tracking.find(request, number, payload.phone)
    services.rate(
        None,
        number=case.number,
        resolved=payload.resolved,
        satisfaction=payload.satisfaction,
        comment=payload.comment,
        phone=payload.phone,
    )
    case = selectors.public_case(number, payload.phone)
    return public_case_out(case, selectors.events_of(case))
