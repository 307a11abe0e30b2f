"""The points ledger (积分), double entry, and the reward desk.

Each community has an issuing account (社区积分发行账户) and a redeemed account (已兑换积分账户);
each resident has one account. A posting's entries always sum to zero: earning moves points from
the issuing account to the resident's, spending from the resident's to the redeemed account, a
transfer from one resident to another of the same community. ``_post`` locks the accounts in id
order, refuses a posting that would take a resident's or the redeemed account below zero, and
writes the entries and the balances in one transaction.

Staff of the community award points (``earn``); the system awards the configured acts
(``award``, ``PointRule``: attending a meeting, an adopted proposal, answering a survey) and
verified volunteer hours (``issue``); residents give points to each other (``transfer``, an
``Idempotency-Key`` makes a repeat harmless); the desk exchanges rewards (``redeem``)."""

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from jiedao.common import idempotency
from jiedao.common.errors import FieldErrors, NotFound, ValidationFailed
from jiedao.org import permissions
from jiedao.org.models import Community, User

from .. import rules
from ..models import Account, Entry, PointRule, Posting, Reward
from .base import now, require_staff, text

DEFAULT_RULES = {
    "attend": ("参加协商议事会", 5),
    "adopted": ("提案被采纳", 20),
    "survey": ("参与需求调查", 2),
}


def _community_id(community) -> int:
    return getattr(community, "pk", community)


def system_account(community: Community | int | None, *, kind: str) -> Account:
    account, _created = Account.objects.get_or_create(community_id=_community_id(community), kind=kind, user=None)
    return account


def account_for(user: User, *, community: Community | int | None = None) -> Account:
    """The resident's account, opened in their community (or ``community``) on first use."""
    account = Account.objects.filter(user=user).first()
    if account is None:
        if community is None:
            member = rules.membership(user)
            if member is None:
                raise ValidationFailed("user", _("该居民尚未登记社区，没有积分账户。"))
            community = member.community_id
        account = Account.objects.create(user=user, community_id=_community_id(community), kind=Account.Kind.RESIDENT)
    return account


def _post(community, kind, reason, moves, actor=None, reward=None, at=None) -> Posting:
    """Write one posting: ``moves`` is [(account, amount)], summing to zero. Locks the
    accounts (in id order, so concurrent postings cannot deadlock), refuses a posting that
    would take any account but the issuing one below zero, then writes the entries."""
    if not moves or sum(amount for _account, amount in moves) != 0:
        raise ValueError("a posting's entries must sum to zero")
    if any(amount == 0 for _account, amount in moves):
        raise ValidationFailed("points", _("积分应大于 0。"))
    ids = sorted({account.pk for account, _amount in moves})
    locked = {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    change: dict[int, int] = {}
    for account, amount in moves:
        change[account.pk] = change.get(account.pk, 0) + amount
    for pk, delta in change.items():
        account = locked[pk]
        if account.kind != Account.Kind.ISSUING and account.balance + delta < 0:
            raise ValidationFailed("points", _("积分余额不足（现有 %(n)s 分）。") % {"n": account.balance})
    posting = Posting.objects.create(
        community_id=_community_id(community),
        kind=kind,
        reason=(reason or "")[:200],
        actor=actor if actor is not None and actor.is_authenticated else None,
        reward=reward,
        at=now(at),
    )
    Entry.objects.bulk_create(
        [Entry(posting=posting, account_id=account.pk, amount=amount) for account, amount in moves]
    )
    for pk, delta in change.items():
        Account.objects.filter(pk=pk).update(balance=F("balance") + delta)
    return posting


def _points(points) -> int:
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ValidationFailed("points", _("积分应为正整数。"))
    return points


def _require_reason(reason) -> None:
    if not (reason or "").strip():
        raise ValidationFailed("reason", _("请填写积分事由。"))


@transaction.atomic
def issue(
    user: User, *, points: int, reason: str, community: Community | int | None = None, at: dt.datetime | None = None
) -> Posting:
    """Points the system gives (verified hours, a configured act): from the community's issuing
    account to the resident's."""
    points = _points(points)
    account = account_for(user, community=community)
    _require_reason(reason)
    issuing = system_account(account.community_id, kind=Account.Kind.ISSUING)
    return _post(
        account.community_id, Posting.Kind.EARN, reason, [(issuing, -points), (account, points)], actor=None, at=at
    )


@transaction.atomic
def earn(actor: User, *, user: User, points: int, reason: str, at: dt.datetime | None = None) -> Posting:
    """Committee staff award points to a resident of their community."""
    permissions.require(actor, "participation.volunteering")
    points = _points(points)
    account = account_for(user)
    require_staff(actor, community=account.community_id)
    _require_reason(reason)
    issuing = system_account(account.community_id, kind=Account.Kind.ISSUING)
    return _post(
        account.community_id, Posting.Kind.EARN, reason, [(issuing, -points), (account, points)], actor=actor, at=at
    )


def award(
    user: User, *, code: str, reason: str, community: Community | int | None = None, at: dt.datetime | None = None
) -> Posting | None:
    """Points for a configured act (积分规则); nothing if the act is not configured."""
    rule = PointRule.objects.filter(code=code).first()
    if rule is None or rule.points <= 0:
        return None
    if community is None and rules.membership(user) is None:
        return None
    return issue(user, points=rule.points, reason=f"{rule.label}：{reason}"[:200], community=community, at=at)


@transaction.atomic
def spend(
    actor: User,
    *,
    user: User,
    points: int,
    reason: str,
    reward: Reward | None = None,
    at: dt.datetime | None = None,
) -> Posting:
    """Points spent: from the resident's account to the community's redeemed account."""
    points = _points(points)
    account = account_for(user)
    if actor != user:
        require_staff(actor, community=account.community_id)
    redeemed = system_account(account.community_id, kind=Account.Kind.REDEEMED)
    return _post(
        account.community_id,
        Posting.Kind.SPEND,
        reason,
        [(account, -points), (redeemed, points)],
        actor=actor,
        reward=reward,
        at=at,
    )


@transaction.atomic
def transfer(
    actor: User,
    *,
    to_user: User,
    points: int,
    reason: str = "",
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
) -> Posting:
    """A resident gives points to another resident of the same community. Sent again with
    the same ``idempotency_key``, the first transfer is returned and nothing is posted."""
    permissions.require(actor, "participation.points")
    done = idempotency.previous(actor, "points-transfer", idempotency_key)
    if done is not None:
        return Posting.objects.get(pk=done)
    posting = _transfer(actor, to_user, points, reason, at)
    idempotency.remember(actor, "points-transfer", idempotency_key, posting.pk)
    return posting


def _transfer(actor, to_user, points, reason, at) -> Posting:
    points = _points(points)
    source = account_for(actor)
    target = account_for(to_user)
    if source.pk == target.pk:
        raise ValidationFailed("to_user", _("不能转给自己。"))
    if source.community_id != target.community_id:
        raise ValidationFailed("to_user", _("只能转给本社区居民。"))
    return _post(
        source.community_id,
        Posting.Kind.TRANSFER,
        reason or _("积分转赠"),
        [(source, -points), (target, points)],
        actor=actor,
        at=at,
    )


@transaction.atomic
def redeem(actor: User, *, user: User, reward_id: int, quantity: int = 1, at: dt.datetime | None = None) -> Posting:
    """Exchange at the community desk: staff hand over the reward, stock goes down, points are spent."""
    permissions.require(actor, "participation.volunteering")
    reward = Reward.objects.select_for_update().filter(pk=reward_id).first()
    if reward is None:
        raise NotFound(_("兑换物品不存在。"))
    require_staff(actor, community=reward.community_id)
    account = account_for(user)
    if account.community_id != reward.community_id:
        raise ValidationFailed("reward", _("只能兑换本社区的物品。"))
    if not isinstance(quantity, int) or quantity < 1:
        raise ValidationFailed("quantity", _("数量应为正整数。"))
    if reward.stock < quantity:
        raise ValidationFailed(
            "reward", _("“%(name)s”库存不足（剩 %(n)s）。") % {"name": reward.name, "n": reward.stock}
        )
    posting = spend(
        actor,
        user=user,
        points=reward.cost * quantity,
        reason=_("兑换 %(name)s × %(q)s") % {"name": reward.name, "q": quantity},
        reward=reward,
        at=at,
    )
    reward.stock = F("stock") - quantity
    reward.save(update_fields=["stock"])
    return posting


@transaction.atomic
def add_reward(user: User, *, community: Community, name: str, cost: int, stock: int) -> Reward:
    permissions.require(user, "participation.volunteering")
    require_staff(user, community=community)
    errors = FieldErrors()
    name = text(errors, field="name", value=name, label=_("名称"), max_length=100)
    if not isinstance(cost, int) or cost < 1:
        errors.add("cost", _("所需积分应为正整数。"))
    if not isinstance(stock, int) or stock < 0:
        errors.add("stock", _("库存不能为负数。"))
    errors.raise_if_any()
    return Reward.objects.create(community=community, name=name, cost=cost, stock=stock)


def ensure_point_rules() -> None:
    """The default configurable acts, created once (staff change them in the admin)."""
    for code, (label, points) in DEFAULT_RULES.items():
        PointRule.objects.get_or_create(code=code, defaults={"label": label, "points": points})
