"""The points ledger: double entry, immutable entries, balances never negative (checked
with random sequences of earning, spending and transfers), rewards with stock exchanged
at the desk, and the time bank."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from jiedao.common.errors import InvalidTransition, NotAllowed, ValidationFailed
from jiedao.participation import measures, selectors, services
from jiedao.participation.models import Account, Entry, Posting, Reward

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


def _books_balance(community):
    """Every posting sums to zero, every balance is the sum of its entries, and none but
    the issuing account is below zero."""
    for posting in Posting.objects.filter(community=community):
        assert posting.entries.aggregate(s=Sum("amount"))["s"] == 0
    assert (Entry.objects.aggregate(s=Sum("amount"))["s"] or 0) == 0
    for account in Account.objects.all():
        assert account.balance == (account.entries.aggregate(s=Sum("amount"))["s"] or 0)
        if account.kind != "issuing":
            assert account.balance >= 0


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(0, 2), st.integers(0, 2), st.integers(1, 50)),
        st.tuples(st.just("spend"), st.integers(0, 2), st.integers(0, 2), st.integers(1, 80)),
        st.tuples(st.just("transfer"), st.integers(0, 2), st.integers(0, 2), st.integers(1, 80)),
    ),
    max_size=25,
)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_the_ledger_never_goes_negative_and_always_balances(people, ops):
    residents = [people.wang, people.li, people.neighbours[0]]
    try:
        with transaction.atomic():
            expected = {u.pk: 0 for u in residents}
            for op, a, b, points in ops:
                who, other = residents[a], residents[b]
                if op == "earn":
                    services.earn(people.staff, user=who, points=points, reason="志愿服务")
                    expected[who.pk] += points
                elif op == "spend":
                    if expected[who.pk] >= points:
                        services.spend(who, user=who, points=points, reason="兑换")
                        expected[who.pk] -= points
                    else:
                        with pytest.raises(ValidationFailed, match="余额不足"):
                            services.spend(who, user=who, points=points, reason="兑换")
                elif a == b:
                    with pytest.raises(ValidationFailed):
                        services.transfer(who, to_user=other, points=points)
                elif expected[who.pk] >= points:
                    services.transfer(who, to_user=other, points=points)
                    expected[who.pk] -= points
                    expected[other.pk] += points
                else:
                    with pytest.raises(ValidationFailed, match="余额不足"):
                        services.transfer(who, to_user=other, points=points)
                assert {u.pk: Account.objects.get(user=u).balance for u in residents} == expected
            _books_balance(people.dong)
            raise _Rollback
    except _Rollback:
        pass


def test_entries_are_immutable(people):
    posting = services.earn(people.staff, user=people.wang, points=10, reason="志愿服务")
    entry = posting.entries.first()
    entry.amount = 1000
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        posting.delete()


def test_the_database_refuses_a_negative_resident_balance(people):
    account = Account.objects.get(user=people.wang)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(balance=-1)


def test_only_community_staff_award_points(people, street):
    with pytest.raises(NotAllowed):
        services.earn(people.li, user=people.wang, points=10, reason="自己给自己")
    with pytest.raises(NotAllowed):
        services.earn(street.users.handler, user=people.wang, points=10, reason="别的单位")
    with pytest.raises(ValidationFailed):
        services.earn(people.staff, user=people.wang, points=0, reason="零分")


def test_a_transfer_stays_inside_the_community(people):
    services.earn(people.staff, user=people.wang, points=10, reason="志愿服务")
    with pytest.raises(ValidationFailed, match="本社区"):
        services.transfer(people.wang, to_user=people.west, points=5)


def test_exchange_at_the_desk_spends_points_and_stock(people):
    reward = services.add_reward(people.staff, community=people.dong, name="洗衣液", cost=30, stock=1)
    services.earn(people.staff, user=people.wang, points=100, reason="志愿服务")
    with pytest.raises(NotAllowed):  # residents do not take from the shelf themselves
        services.redeem(people.wang, user=people.wang, reward_id=reward.pk)
    services.redeem(people.staff, user=people.wang, reward_id=reward.pk)
    assert Account.objects.get(user=people.wang).balance == 70
    assert Reward.objects.get(pk=reward.pk).stock == 0
    with pytest.raises(ValidationFailed, match="库存不足"):
        services.redeem(people.staff, user=people.wang, reward_id=reward.pk)
    services.add_reward(people.staff, community=people.dong, name="理发券", cost=500, stock=5)
    with pytest.raises(ValidationFailed, match="余额不足"):
        services.redeem(people.staff, user=people.wang, reward_id=Reward.objects.get(name="理发券").pk)
    assert Reward.objects.get(name="理发券").stock == 5
    _books_balance(people.dong)


def test_verified_hours_earn_points_or_go_to_the_time_bank(people):
    now = timezone.now()
    activity = services.create_activity(
        people.staff, community=people.dong, title="楼道清扫", starts_at=now, capacity=2, points_per_hour=10
    )
    mine = services.sign_up(people.wang, activity_id=activity.pk)
    theirs = services.sign_up(people.li, activity_id=activity.pk)
    with pytest.raises(ValidationFailed, match="名额已满"):
        services.sign_up(people.neighbours[0], activity_id=activity.pk)
    with pytest.raises(InvalidTransition, match="签到"):
        services.verify_hours(people.staff, signup_id=mine.pk, hours=2)
    services.check_in_volunteer(people.staff, signup_id=mine.pk)
    services.check_in_volunteer(people.staff, signup_id=theirs.pk)
    services.verify_hours(people.staff, signup_id=mine.pk, hours="2.5")
    services.verify_hours(people.staff, signup_id=theirs.pk, hours=3, bank=True)
    with pytest.raises(InvalidTransition):
        services.verify_hours(people.staff, signup_id=mine.pk, hours=2)
    assert Account.objects.get(user=people.wang).balance == 25
    assert selectors.time_bank_balance(people.li) == Decimal("3.0")
    with pytest.raises(ValidationFailed, match="余额不足"):
        services.draw_time(people.staff, user=people.li, hours=4, note="陪同就医")
    services.draw_time(people.staff, user=people.li, hours=2, note="陪同就医")
    assert selectors.time_bank_balance(people.li) == Decimal("1.0")
    start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=1)
    assert measures.volunteers_active(start, end, people.dong) == 2
    assert measures.volunteer_hours(start, end, people.dong) == 5.5
    assert measures.volunteers_active(start, end, people.xi) == 0
    assert measures.points_issued(start, end) == 25
