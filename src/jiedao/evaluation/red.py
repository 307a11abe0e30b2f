"""Red warnings (红色预警) the evaluation sweep raises beside the others:

- a case staff flagged 舆情 or 群体事件 (``jiedao.cases.flags``), while it is open and carries
  the flag: one warning per case (kind ``sensitive``), the street's leaders told once when it
  opens; it recovers when the flag is taken off or the case is closed;
- an emergency flagged the same way (``emergency.services.flag``), while it is open: one warning
  per emergency (kind ``sensitive``, key ``EMERGENCY_KEY`` + number), leaders told once; it
  recovers when the flag is taken off or the emergency is over (closed or cancelled);
- a hot issue (the intelligence app's groups of similar requests from one place in the last
  week, the same the cockpit shows) with at least ``JIEDAO["HOT_RED_THRESHOLD"]`` cases (default
  20): one warning per issue (kind ``hot_large``), leaders told once; it recovers when the issue
  falls below the threshold or is no longer hot.

Both are called by ``services.check_surges``, in its transaction."""

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from jiedao.cases.flags import flagged_cases
from jiedao.cases.models import OPEN_STATUSES, Case, CaseEvent, Sensitive
from jiedao.common.lifecycle import assign_status
from jiedao.emergency.models import OPEN_STATUSES as EMERGENCY_OPEN
from jiedao.emergency.models import Emergency
from jiedao.intelligence import selectors as intelligence
from jiedao.messaging.services import notify
from jiedao.org.models import Street, User
from jiedao.org.roles import LEADER

from .models import Warning

# How far back the sweep looks for flags; a warning already open is followed whatever its age.
FLAG_LOOKBACK = dt.timedelta(days=90)
HOT_RED_THRESHOLD = 20
EMERGENCY_KEY = "sensitive-emergency:"


def hot_red_threshold() -> int:
    value: Any = settings.JIEDAO.get("HOT_RED_THRESHOLD", HOT_RED_THRESHOLD)
    return int(value)


def _leaders(street_id: int | None) -> list[int]:
    """The active leaders answering for the street (or for every street)."""
    where = Q(street__isnull=True) if street_id is None else Q(street_id=street_id) | Q(street__isnull=True)
    found = User.objects.filter(where, groups__name=LEADER, is_active=True)
    return list(found.values_list("pk", flat=True).distinct().order_by("pk"))


def recover(warning: Warning, now: dt.datetime) -> None:
    """The warning is over (its cause is gone) at ``now``."""
    assign_status(warning, Warning.Status.RECOVERED)
    warning.recovered_at = now
    warning.save(update_fields=["status", "recovered_at"])


def _open(*, kind, key, title, detail, community, url, now, message, street_id, street=None, **fields) -> None:
    """Open a red warning on the community (else the street) and tell the street's leaders once."""
    Warning.objects.create(
        kind=kind,
        key=key,
        scope_kind="community" if community else "street",
        scope_code=community.code if community else (street.code if street else ""),
        scope_name=community.name if community else (street.name if street else ""),
        level=Warning.Level.RED,
        title=title[:200],
        detail=detail,
        community=community,
        url=url,
        opened_at=now,
        last_seen_at=now,
        **fields,
    )
    notify(kind="sensitive", users=_leaders(street_id), message=message, link=url, at=now)


def _flag_note(case: Case) -> str:
    event = CaseEvent.objects.filter(case=case, action="flag").order_by("-seq").first()
    return (event.note if event is not None else "")[:200]


def sensitive_warnings(now: dt.datetime) -> dict[str, int]:
    """One red warning per open case flagged 舆情 or 群体事件; recovered when the flag is off or
    the case closed."""
    active = {
        w.key: w
        for w in Warning.objects.select_for_update()
        .filter(kind=Warning.Kind.SENSITIVE, status=Warning.Status.ACTIVE)
        .exclude(key__startswith=EMERGENCY_KEY)
    }
    flagged = {
        case.number: case
        for case in flagged_cases(now - FLAG_LOOKBACK)
        .filter(status__in=OPEN_STATUSES)
        .select_related("community", "category")
    }
    followed = [key.removeprefix("sensitive:") for key in active if key.removeprefix("sensitive:") not in flagged]
    for case in (
        Case.objects.filter(number__in=followed, status__in=OPEN_STATUSES)
        .exclude(sensitive="")
        .select_related("community", "category")
    ):
        flagged[case.number] = case
    counts = {"sensitive": 0, "sensitive_recovered": 0}
    for number, case in flagged.items():
        key = f"sensitive:{number}"
        label = Sensitive(case.sensitive).label
        warning = active.get(key)
        if warning is not None:
            title = _("%(flag)s：工单 %(number)s") % {"flag": label, "number": number}
            if warning.title != title:  # 舆情 changed to 群体事件 or back
                warning.title = title
            warning.last_seen_at = now
            warning.save(update_fields=["title", "last_seen_at"])
            continue
        url = reverse("cases:case", args=[number])
        title = _("%(flag)s：工单 %(number)s") % {"flag": label, "number": number}
        detail = _flag_note(case)
        _open(
            kind=Warning.Kind.SENSITIVE,
            key=key,
            title=title,
            detail=detail,
            community=case.community,
            category=case.category,
            url=url,
            now=now,
            street_id=case.street_id,
            message=_("红色预警：工单 %(number)s 被标记为“%(flag)s”，请关注处置。%(note)s")
            % {"number": number, "flag": label, "note": detail},
        )
        counts["sensitive"] += 1
    for key, warning in active.items():
        if key.removeprefix("sensitive:") not in flagged:
            recover(warning, now)
            counts["sensitive_recovered"] += 1
    return {k: v for k, v in counts.items() if v}


def emergency_sensitive_warnings(now: dt.datetime) -> dict[str, int]:
    """One red warning per open emergency flagged 舆情 or 群体事件; recovered when the flag is
    off or the emergency is over."""
    active = {
        w.key: w
        for w in Warning.objects.select_for_update().filter(
            kind=Warning.Kind.SENSITIVE, status=Warning.Status.ACTIVE, key__startswith=EMERGENCY_KEY
        )
    }
    flagged = {
        f"{EMERGENCY_KEY}{e.number}": e
        for e in Emergency.objects.filter(status__in=EMERGENCY_OPEN).exclude(sensitive="").select_related("community")
    }
    counts = {"sensitive_emergency": 0, "sensitive_emergency_recovered": 0}
    for key, emergency in flagged.items():
        label = Sensitive(emergency.sensitive).label
        title = _("%(flag)s：突发事件 %(number)s %(title)s") % {
            "flag": label,
            "number": emergency.number,
            "title": emergency.title,
        }
        warning = active.get(key)
        if warning is not None:
            warning.title, warning.last_seen_at = title[:200], now
            warning.save(update_fields=["title", "last_seen_at"])
            continue
        event = emergency.events.filter(action="flag").order_by("-at", "-id").first()
        detail = (event.note if event is not None else "")[:200]
        url = reverse("emergency:detail", args=[emergency.number])
        community = emergency.community
        _open(
            kind=Warning.Kind.SENSITIVE,
            key=key,
            title=title,
            detail=detail,
            community=community,
            url=url,
            now=now,
            street_id=community.street_id if community else None,
            message=_("红色预警：突发事件 %(number)s “%(title)s”被标记为“%(flag)s”，请关注处置。%(note)s")
            % {"number": emergency.number, "title": emergency.title, "flag": label, "note": detail},
        )
        counts["sensitive_emergency"] += 1
    for key, warning in active.items():
        if key not in flagged:
            recover(warning, now)
            counts["sensitive_emergency_recovered"] += 1
    return {k: v for k, v in counts.items() if v}


def hot_issue_red_warnings(now: dt.datetime) -> dict[str, int]:
    """A red warning per hot issue with at least ``hot_red_threshold()`` cases."""
    threshold = hot_red_threshold()
    active = {
        w.key: w
        for w in Warning.objects.select_for_update().filter(kind=Warning.Kind.HOT_LARGE, status=Warning.Status.ACTIVE)
    }
    streets = {street.pk: street for street in Street.objects.all()}
    counts = {"hot_red": 0, "hot_red_recovered": 0}
    seen = set()
    for street_id, issues in intelligence.hot_issues_by_street(now=now, limit=None).items():
        for issue in issues:
            if issue.count < threshold:
                continue
            key = f"hot_large:{issue.key}"[:160]
            seen.add(key)
            detail = _("%(count)d 件，%(reporters)d 位诉求人，达到红色预警阈值 %(threshold)d 件") % {
                "count": issue.count,
                "reporters": issue.reporters,
                "threshold": threshold,
            }
            warning = active.get(key)
            if warning is not None:
                warning.value, warning.detail, warning.last_seen_at = issue.count, detail, now
                warning.save(update_fields=["value", "detail", "last_seen_at"])
                continue
            community = getattr(issue, "community", None)
            street = streets.get(street_id)
            _open(
                kind=Warning.Kind.HOT_LARGE,
                key=key,
                title=_("热点问题超过阈值：%(title)s") % {"title": issue.title},
                detail=detail,
                community=community,
                street=street,
                category=getattr(issue, "category", None),
                value=issue.count,
                baseline=threshold,
                url=issue.url or "",
                now=now,
                street_id=street_id,
                message=_("红色预警：热点问题“%(title)s”已有 %(count)d 件，请关注处置。")
                % {"title": issue.title, "count": issue.count},
            )
            counts["hot_red"] += 1
    for key, warning in active.items():
        if key not in seen:
            recover(warning, now)
            counts["hot_red_recovered"] += 1
    return {k: v for k, v in counts.items() if v}


def red_warnings(now: dt.datetime) -> dict[str, int]:
    """Every kind of red warning; called by the sweep."""
    return {**sensitive_warnings(now), **emergency_sensitive_warnings(now), **hot_issue_red_warnings(now)}
