"""Who may take each write action: one table for every page, API operation and service.

``ACTIONS`` names every action a person can take through the site or the API and the
roles (``roles.py``) that may take it; ``ANONYMOUS`` stands for a visitor who is not
signed in. The table answers only "may this role do this at all". Which object a role
may act on (a handler: their unit's cases; a grid worker: their grids; a committee: its
community) is decided where the object is, by the app's services and ``states.py``.

- Services call ``require(user, "hall.book")`` before they look anything up, so a role
  that may not take the action is refused (``NotAllowed`` → 403) whatever it names.
- Pages and API operations that accept a write declare their actions with
  ``@permission("hall.book")``: the declaration is enforced before the view runs (an API
  operation checks it right after authentication, before the body is read), is listed
  in the OpenAPI document (``x-permission``), and is what
  ``tests/org/test_permission_matrix.py`` reads to try every write as every role. An
  action name may take a part of the URL, e.g. ``"case.{action}"``.

The roles' reading of the table, from the user guide: residents act for themselves;
operators take requests in and run the hall's window; dispatchers route cases; handlers
work their unit's cases; grid workers report and verify in their grids; leaders steer
(dispatch, supervise, approve) but file nothing for themselves; evaluators score and
accept rectifications; district users only read; administrators keep the settings.
"""

from dataclasses import dataclass
from functools import wraps
from string import Formatter

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext, pgettext_lazy
from ninja.decorators import decorate_view
from ninja.errors import AuthenticationError

from jiedao.common.errors import NotAllowed

from .roles import ADMIN, ALL_ROLES, DISPATCHER, EVALUATOR, GRID_WORKER, HANDLER, LEADER, OPERATOR, RESIDENT

ANONYMOUS = "anonymous"
SIGNED_IN = frozenset(ALL_ROLES)
EVERYONE = SIGNED_IN | {ANONYMOUS}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


@dataclass(frozen=True)
class Action:
    label: str  # what the action does, to finish "您没有权限……"
    roles: frozenset


def A(label, *roles):
    # Labels are translated in the context "permission": "分类" here is a verb, not a column.
    return Action(pgettext_lazy("permission", label), frozenset(roles))


# District users (DISTRICT) appear only through SIGNED_IN and EVERYONE: they read.
O, D, H, G, L, AD, E, R = OPERATOR, DISPATCHER, HANDLER, GRID_WORKER, LEADER, ADMIN, EVALUATOR, RESIDENT
STREET_INTAKE = (O, D, L, AD)  # the roles that take requests in (INTAKE_ROLES of the pages)
COMMAND = (L, D, AD)  # the street's command centre in an emergency
WINDOW = (O, AD)  # the hall's window

ACTIONS = {
    # --- one's own account and this browser: everyone ------------------------------------------
    "account.sign_in": A("登录", *EVERYONE),
    "account.sign_out": A("退出登录", *EVERYONE),
    "account.two_factor": A("设置两步验证", *SIGNED_IN),
    "account.notifications": A("处理消息", *SIGNED_IN),
    "account.message_settings": A("设置消息接收方式", *SIGNED_IN),
    # Every signed-in user lists and revokes their own API tokens.
    "account.tokens": A("管理接口令牌", *SIGNED_IN),
    # 长辈模式 and the interface language are kept in this browser.
    "site.preferences": A("更改显示设置", *EVERYONE),
    # --- 接诉即办: registering a case, by channel ------------------------------------------------
    # The portal and QR codes: residents (with or without an account), and staff who take a
    # request in for someone. Handlers, grid workers, evaluators and district users do not
    # file cases here (a grid worker reports through the grid channel).
    "intake.portal": A("在居民网页登记诉求", ANONYMOUS, R, *STREET_INTAKE),
    # 12345, phone, window, letter, leader's mailbox: the intake roles.
    "intake.hotline": A("登记热线、电话、窗口、来信诉求", *STREET_INTAKE),
    "intake.grid": A("网格上报", G),
    # Other systems (API, Open311 clients — operator accounts) and confirmed sensor alerts.
    "intake.api": A("通过接口登记诉求", *STREET_INTAKE),
    # Category proposals and duplicate look-ups while writing a case: whoever may register one.
    "intake.assist": A("使用登记辅助（分类建议、重复件）", R, G, *STREET_INTAKE),
    # The case lifecycle: the same roles as cases/states.py (which checks this at import);
    # the scope (own unit, summoned unit, own grid, own report) stays in states.py.
    "case.classify": A("分类", O, D, AD),
    "case.dispatch": A("派单", D, L, AD),
    "case.return": A("退单", H),
    "case.respond": A("响应", H),
    "case.note": A("记录办理进展", H),
    "case.request_extension": A("申请延期", H),
    "case.approve_extension": A("批准延期", L, AD),
    "case.refuse_extension": A("驳回延期", L, AD),
    "case.whistle": A("吹哨", D, L),
    "case.report": A("吹哨报到", H),
    "case.resolve": A("办结反馈", H),
    "case.verify_pass": A("核查", G, D),
    "case.verify_fail": A("核查", G, D),
    "case.rate": A("回访评价", R, O, D),
    "case.close": A("结案", D, L),
    "case.merge": A("并案", D, L),
    "case.supervise": A("督办", L, D),
    "case.supervise_reply": A("答复督办", H),
    # The decision on a unit's reply to a 督办: the leaders, or the dispatcher who issued it.
    "case.supervise_accept": A("认可督办答复", L, D),
    "case.supervise_return": A("退回督办答复", L, D),
    "case.unreached": A("回访未接通", O, D),
    "case.inform": A("告知诉求人", O, D),
    # 舆情 / 群体事件 flags: the street's command (dispatchers, leaders).
    "case.flag": A("标记舆情/群体事件", D, L),
    "case.answer": A("直接答复", O, D),
    "case.advise": A("私事告知", O, D),
    "case.void": A("无效来电", O, D),
    # A small matter of their own grid fixed on the spot (已自行处置): the grid worker alone.
    "case.self_resolve": A("记录已自行处置", G),
    # --- what anyone may do who proves something (a phone, a signed link, a key, a device
    # token) or stands at the hall's kiosk: the account, if any, does not matter ----------------
    "public.rate_case": A("凭工单编号和手机号评价", *EVERYONE),
    "public.rate_application": A("凭短信链接评价", *EVERYONE),
    "public.ticket": A("取号", *EVERYONE),
    "public.unsubscribe": A("退订短信通知", *EVERYONE),
    # An SMS provider's delivery reports, at an address with a secret of its own.
    "public.delivery_report": A("报告短信送达", *EVERYONE),
    # Open311 clients send their api_key; the key's account (an operator) registers the case
    # through the API channel, checked as ``intake.api``.
    "public.open311": A("以接口密钥提交 Open311 请求", *EVERYONE),
    "public.readings": A("上报设备读数", *EVERYONE),
    # --- 一窗受理 ---------------------------------------------------------------------------------
    # Applying online and booking a slot are a resident's own business; staff accounts are
    # work accounts (a clerk accepts for others at the window instead).
    "hall.apply": A("网上申请办事", R),
    "hall.book": A("预约办事", R),
    # Cancelling: one's own appointments only (checked by the service), whoever made them.
    "hall.cancel_booking": A("取消预约", *SIGNED_IN),
    "hall.queue": A("叫号", *WINDOW),
    "hall.accept_at_window": A("窗口受理", *WINDOW),
    # The application lifecycle: the same roles as hall/states.py.
    "hall.application.accept": A("受理办件", *WINDOW),
    "hall.application.refuse": A("不予受理", *WINDOW),
    "hall.application.supply": A("补正材料", *WINDOW, R),
    "hall.application.approve": A("审批办件", H, L, AD),
    "hall.application.reject": A("不予批准", H, L, AD),
    "hall.application.issue": A("出件", *WINDOW),
    "hall.application.rate": A("好差评", O, R),
    "hall.rectify": A("差评整改", H, L, AD),
    "hall.rectify_callback": A("整改回访", O, L, AD),
    "hall.appeal": A("差评申诉", H, AD),
    "hall.appeal_review": A("复核申诉", L, AD),
    "hall.import": A("导入办事指南", AD),
    # --- 一户一档 ---------------------------------------------------------------------------------
    # Grid workers for their grids, community committees (handlers of a committee) for their
    # community, administrators for all; the place is checked by registry.selectors.
    "registry.edit": A("修改一户一档", G, H, AD),
    "registry.visit": A("登记探访", G, H, AD),
    "registry.import": A("导入基础数据", AD),
    # Showing a person in full is a read that is logged; who sees which person unmasked is
    # decided per person (registry.selectors.may_unmask). Roles that read the registry ask.
    "registry.reveal": A("查看完整个人信息", G, H, L, D, AD),
    # --- 权责清单, 网格, 智能分拨: settings kept by administrators ------------------------------
    "duties.edit": A("修改权责清单", AD),
    "geo.import": A("导入网格边界", AD),
    "geo.patrol": A("巡查打卡", G),
    "intelligence.models": A("管理分类模型和参数", AD),
    # 消息发送: putting a failed outgoing message back in the queue.
    "messaging.resend": A("重新发送消息", AD),
    "messaging.templates": A("修改消息模板", AD),
    "messaging.opt_out": A("登记居民退订短信", AD),
    # A handler keeps a flagged reply of their unit; the street may too.
    "intelligence.reply_override": A("确认答复", H, L, D, AD),
    # --- 知识库: the desk's answers. Read (and quoted in an answer) by the street's intake and
    # command roles; kept by the desk itself and the administrators ----------------------------
    "knowledge.view": A("查看知识库", O, D, L, AD),
    "knowledge.edit": A("维护知识库", O, D, AD),
    # --- 应急管理 ---------------------------------------------------------------------------------
    "emergency.report": A("报告突发事件", O, *COMMAND),
    "emergency.from_case": A("把工单转为突发事件", *COMMAND),
    # The emergency lifecycle: the same roles as emergency/states.py.
    "emergency.step.dispatch": A("调度响应", *COMMAND),
    "emergency.step.arrive": A("登记到场", *COMMAND, H, G),
    "emergency.step.engage": A("协同处置", *COMMAND),
    "emergency.step.recover": A("处置完毕", *COMMAND),
    "emergency.step.close": A("结束突发事件", *COMMAND),
    "emergency.step.cancel": A("撤销突发事件", *COMMAND),
    "emergency.note": A("记录处置进展", *COMMAND, H, G),
    "emergency.flag": A("标记舆情/群体事件", D, L),
    # Care checks: grid workers for their own grids, the command centre for all.
    "emergency.check": A("关怀核查", *COMMAND, G),
    "emergency.stock": A("应急物资出入库", AD, L, D, H),
    "emergency.call_off": A("调用协议物资", *COMMAND),
    "emergency.delivered": A("登记物资送达", *COMMAND, H),
    "emergency.drill": A("安排演练", *COMMAND),
    "emergency.training": A("登记培训考核", AD, L),
    "emergency.device": A("登记感知设备", AD),
    "emergency.alert": A("确认或排除预警", O, D, L, AD),
    # The duty roster (值班表) is kept by the command centre; whoever is told of an emergency
    # acknowledges it (确认接警): the staff who read the emergency pages.
    "emergency.duty": A("编排值班表", *COMMAND),
    "emergency.ack": A("确认接警", O, *COMMAND, H, G),
    # --- 效能评价 ---------------------------------------------------------------------------------
    "evaluation.rectification.issue": A("下达整改指令", E, L, AD),
    # The rectification lifecycle: the same roles as evaluation/states.py. Signing for and
    # answering a task: the responsible unit's handlers; accepting or sending it back: reviewers.
    "evaluation.rectification.accept": A("办理整改指令", H, AD),
    "evaluation.rectification.submit": A("办理整改指令", H, AD),
    "evaluation.rectification.approve": A("验收整改指令", E, L, AD),
    "evaluation.rectification.reject": A("验收整改指令", E, L, AD),
    "evaluation.score": A("录入创新指数评分", E, AD),
    "evaluation.scheme": A("定义考核方案", E, AD),
    # 考核建议: the street's opinion of seconded staff (派驻人员), for their department.
    "evaluation.assess": A("录入考核建议", L, AD),
    # --- 多元共治 ---------------------------------------------------------------------------------
    # Residents take part for themselves (membership of the community is checked by the
    # service); committees (handlers of a committee unit), leaders and administrators run it.
    "participation.join": A("登记为社区居民", R),
    "participation.propose": A("提出议题", R),
    "participation.support": A("附议", R),
    "participation.withdraw": A("撤回议题", R),
    "participation.rate": A("评价议题落实", R),
    "participation.meeting": A("报名议事会", R),
    "participation.survey": A("填写需求调查", R),
    "participation.vote": A("投票", R),
    "participation.volunteer": A("登记志愿者和报名活动", R),
    "participation.points": A("转赠积分", R),
    "participation.deliberation": A("组织居民议事", H, L, AD),
    "participation.projects": A("管理民生项目", H, L, AD),
    "participation.volunteering": A("管理志愿服务和积分", H, L, AD),
}


def roles_of(action: str) -> frozenset:
    """The roles (and ``ANONYMOUS``) that may take ``action``."""
    try:
        return ACTIONS[action].roles
    except KeyError:
        raise LookupError(f"{action!r} is not in org.permissions.ACTIONS") from None


def signed_in_roles(action: str) -> frozenset:
    """The roles of signed-in people that may take ``action`` (the table's roles without anonymous):
    what a lifecycle's table must agree with."""
    return roles_of(action) - {ANONYMOUS}


def _codes(user) -> frozenset:
    if user is None or not user.is_authenticated:
        return frozenset({ANONYMOUS})
    return user.role_codes


def allows(user, action: str) -> bool:
    """Whether the user's roles (or, signed out, ``ANONYMOUS``) may take ``action``."""
    return bool(_codes(user) & roles_of(action))


def refusal(user, action=None) -> str:
    """The message for a user the table refuses, naming the action when there is one."""
    if action is None:
        if user is None or not user.is_authenticated:
            return gettext("请先登录。")
        return gettext("您的角色不能执行此操作。")
    label = ACTIONS[action].label
    if user is None or not user.is_authenticated:
        return gettext("请先登录后再%(action)s。") % {"action": label}
    return gettext("您没有权限%(action)s。") % {"action": label}


def require(user, action: str, message=None):
    """Raise ``NotAllowed`` unless the table lets the user's roles take ``action``."""
    if not allows(user, action):
        raise NotAllowed(message or refusal(user, action))


def expand(declared, kwargs) -> list:
    """The action names a view declares, with URL parts filled in; a name the table does not
    have (an unknown ``{action}``) is left out, and the view answers it (404 or 422)."""
    names = []
    for name in declared:
        fields = [field for _text, field, _spec, _conv in Formatter().parse(name) if field]
        if fields:
            try:
                name = name.format(**{field: kwargs[field] for field in fields})
            except KeyError:
                continue
        if name in ACTIONS:
            names.append(name)
    return names


def templates() -> dict:
    """For each name with a URL part that a view may declare ("case.{action}"), the table's
    actions it can stand for: the names under the same prefix ("case.classify", …)."""
    out = {}
    for name in ACTIONS:
        prefix = name.rsplit(".", 1)[0]
        out.setdefault(prefix + ".{action}", []).append(name)
    return out


def _refused(user, declared, kwargs):
    """None when the user may take one of the declared actions (or none is known), else the
    refusal's message: naming the action when the view takes only one."""
    names = expand(declared, kwargs)
    if not names or any(allows(user, name) for name in names):
        return None
    return refusal(user, names[0] if len(names) == 1 else None)


def permission(*declared):
    """Declare (and enforce) the write actions of a page or an API operation.

    A page: a request that is not GET/HEAD is refused before the view runs — signed out,
    sent to the sign-in page; signed in, 403. An API operation: refused right after
    authentication and before the body is parsed (401 signed out, 403 with the message),
    and the operation's OpenAPI entry carries ``x-permission``."""

    for name in declared:
        fields = [field for _text, field, _spec, _conv in Formatter().parse(name) if field]
        if not fields and name not in ACTIONS:
            raise LookupError(f"{name!r} is not in org.permissions.ACTIONS")

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if request.method not in SAFE_METHODS:
                message = _refused(request.user, declared, kwargs)
                if message is not None:
                    if not request.user.is_authenticated:
                        return redirect_to_login(request.get_full_path())
                    request.permission_refusal = message  # the 403 page says what was refused
                    raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        checked.permission = tuple(declared)
        return decorate_view(_guarded_operation(declared))(checked)

    return decorator


def _roles_listed(declared):
    names = [n for n in declared if n in ACTIONS] or [n for template in declared for n in templates().get(template, [])]
    roles = set()
    for name in names:
        roles |= ACTIONS[name].roles
    return sorted(roles)


def _guarded_operation(declared):
    """For an API operation (ninja): the check runs after the operation's own checks
    (authentication, throttles), before its body is read, so a refused role gets 403
    whatever it sends. Applied by ninja to the operation and to each copy it binds."""

    def decorate(run):
        operation = run
        while not hasattr(operation, "__self__") and hasattr(operation, "__wrapped__"):
            operation = operation.__wrapped__
        operation = operation.__self__
        extra = dict(operation.openapi_extra or {})
        extra["x-permission"] = {"actions": list(declared), "roles": _roles_listed(declared)}
        operation.openapi_extra = extra
        # Operation._run_checks is where django-ninja (pinned in pyproject.toml) authenticates
        # and throttles before it parses the request; the permission check goes right after.
        # tests/org/test_permission_matrix.py fails if a refused role ever reaches the body.
        own_checks = operation._run_checks

        def run_checks(request):
            error = own_checks(request)
            if error is not None:
                return error
            match = getattr(request, "resolver_match", None)
            message = _refused(request.user, declared, match.kwargs if match else {})
            if message is None:
                return None
            if not request.user.is_authenticated:
                return operation.api.on_exception(request, AuthenticationError())
            return operation.api.on_exception(request, NotAllowed(message))

        operation._run_checks = run_checks
        return run

    return decorate
