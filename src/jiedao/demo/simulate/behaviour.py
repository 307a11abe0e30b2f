"""How the demo's units work: how fast they respond, how often they return a case, ask for
more time, run late or leave the resident unhappy; and where the dispatcher sends a case a
unit returned."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Behaviour:
    """How a unit works: response delay, returns, extensions, speed, quality."""

    response_median_hours: float
    return_share: float
    extension_share: float
    work_share: float  # mean share of the allowed time used
    overdue_share: float
    resolved_share: float  # first-round ratings with "resolved"
    satisfied_share: float  # 满意 among resolved
    verify_fail_share: float = 0.05


BEHAVIOUR = {
    "ZHZF": Behaviour(0.8, 0.03, 0.05, 0.45, 0.06, 0.93, 0.80),
    "GGFW": Behaviour(1.0, 0.02, 0.03, 0.35, 0.03, 0.96, 0.86),
    "SQZL": Behaviour(1.2, 0.05, 0.04, 0.50, 0.05, 0.92, 0.78),
    "YJGL": Behaviour(0.4, 0.02, 0.02, 0.30, 0.02, 0.97, 0.88, 0.03),
    "PAJS": Behaviour(1.5, 0.04, 0.06, 0.50, 0.07, 0.90, 0.75),
    "CG": Behaviour(2.5, 0.08, 0.08, 0.60, 0.12, 0.86, 0.68, 0.08),
    "MZ": Behaviour(1.8, 0.06, 0.05, 0.50, 0.06, 0.91, 0.80),
    "ZJ": Behaviour(3.5, 0.10, 0.12, 0.70, 0.16, 0.82, 0.62, 0.10),
    "SCJG": Behaviour(1.5, 0.05, 0.05, 0.45, 0.06, 0.92, 0.78),
    "STHJ": Behaviour(2.8, 0.09, 0.09, 0.60, 0.11, 0.85, 0.66, 0.08),
    "WJ": Behaviour(1.6, 0.05, 0.04, 0.45, 0.05, 0.93, 0.80),
}
COMMITTEE_BEHAVIOUR = [
    Behaviour(0.5, 0.03, 0.02, 0.35, 0.02, 0.97, 0.90, 0.03),
    Behaviour(0.9, 0.03, 0.02, 0.40, 0.04, 0.95, 0.85),
    Behaviour(1.6, 0.04, 0.03, 0.55, 0.08, 0.90, 0.74),
    Behaviour(0.7, 0.02, 0.02, 0.38, 0.03, 0.96, 0.87),
    Behaviour(2.0, 0.05, 0.04, 0.60, 0.10, 0.88, 0.70, 0.08),
    Behaviour(1.1, 0.03, 0.03, 0.45, 0.05, 0.94, 0.82),
    Behaviour(0.8, 0.03, 0.02, 0.40, 0.03, 0.95, 0.86),
    Behaviour(1.4, 0.04, 0.03, 0.50, 0.06, 0.92, 0.78),
]
# Where a dispatcher sends a case that a unit returned.
ALTERNATIVES = {
    "CG": ["ZHZF", "ZJ"],
    "ZJ": ["CG", "SQZL"],
    "ZHZF": ["CG", "SQZL"],
    "STHJ": ["ZHZF", "CG"],
    "SCJG": ["WJ", "ZHZF"],
    "WJ": ["SCJG", "GGFW"],
    "MZ": ["SQZL", "GGFW"],
    "PAJS": ["SQZL", "YJGL"],
    "YJGL": ["ZHZF", "PAJS"],
    "GGFW": ["SQZL", "MZ"],
    "SQZL": ["GGFW", "PAJS"],
}


def behaviour_of(units) -> dict:
    """Unit id → its behaviour: the table's, the housing office's for other departments, and
    one of the committee profiles for each community committee."""
    found = {}
    for code, unit in units.items():
        if code in BEHAVIOUR:
            found[unit.pk] = BEHAVIOUR[code]
        elif unit.kind != "community":
            found[unit.pk] = BEHAVIOUR["ZJ"]
        else:
            found[unit.pk] = COMMITTEE_BEHAVIOUR[(int(code[-2:]) - 1) % len(COMMITTEE_BEHAVIOUR)]
    return found
