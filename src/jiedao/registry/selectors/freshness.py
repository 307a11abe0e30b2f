"""Data freshness (数据鲜活度): the share of the records in the reader's scope that a source
confirmed within a number of days, per kind of record and overall."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.common.errors import ValidationFailed

from ..models import Enterprise, Facility
from .scope import place_filter, require_read, scope_of, visible_buildings, visible_households, visible_persons

DEFAULT_FRESH_DAYS = 180


@dataclass
class Freshness:
    kind: str
    label: str
    total: int
    fresh: int

    @property
    def share(self):
        return self.fresh / self.total if self.total else None

    def as_dict(self):
        share = self.share
        return {
            "kind": self.kind,
            "label": self.label,
            "total": self.total,
            "fresh": self.fresh,
            "share": None if share is None else round(share, 4),
        }


def freshness(user, *, days=DEFAULT_FRESH_DAYS, now=None):
    """Share of records confirmed by a source within ``days`` days, per kind and overall."""
    require_read(user)
    if not 1 <= days <= 3650:
        raise ValidationFailed("days", _("天数应在1到3650之间。"))
    now = now or timezone.now()
    since = now - dt.timedelta(days=days)
    scope = scope_of(user)
    kinds = [
        ("buildings", _("楼栋"), visible_buildings(user)),
        ("households", _("户"), visible_households(user)),
        ("persons", _("人员"), visible_persons(user)),
        ("enterprises", _("企业/法人"), Enterprise.objects.filter(place_filter(scope, "", "grid__community_id"))),
        ("facilities", _("部件"), Facility.objects.filter(place_filter(scope, "", "grid__community_id"))),
    ]
    rows = []
    for kind, label, qs in kinds:
        counts = qs.aggregate(total=Count("pk"), fresh=Count("pk", filter=Q(confirmed_at__gte=since)))
        rows.append(Freshness(kind, str(label), counts["total"], counts["fresh"]))
    total = Freshness("all", _("合计"), sum(r.total for r in rows), sum(r.fresh for r in rows))
    return rows, total
