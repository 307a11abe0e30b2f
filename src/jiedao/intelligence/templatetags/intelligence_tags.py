from django import template

from jiedao.cases.models import Status
from jiedao.intelligence import selectors
from jiedao.intelligence.rules import flag_label

from .. import models

register = template.Library()


@register.inclusion_tag("intelligence/_reply_flags.html")
def reply_flags(case, user):
    """The reply-quality flags of the case's submitted results, with the override for the unit."""
    checks = [c for c in selectors.reply_checks_for(case) if c.flagged]
    for check in checks:
        check.labels = [flag_label(f) for f in check.flags]
    may_override = user.is_authenticated and (
        user.has_role("leader", "dispatcher", "admin") or (user.has_role("handler") and user.unit_id == case.unit_id)
    )
    return {"checks": checks, "may_override": may_override}


@register.inclusion_tag("intelligence/_proposal.html")
def case_proposal(case, user):
    """The classifier's proposal for a case still waiting to be classified or dispatched (staff only)."""

    if not (user.is_authenticated and user.is_street_staff) or case.status not in (Status.NEW, Status.RETURNED):
        return {"proposal": None}
    proposal = models.Proposal.objects.filter(case=case).select_related("category").first()
    rows = []
    if proposal is not None:
        for label, probability in proposal.top:
            category = selectors.category_for_label(label)
            rows.append(
                {
                    "name": category.path_name if category else label,
                    "code": category.code if category else "",
                    "probability": probability,
                }
            )
    return {"proposal": proposal, "rows": rows}
