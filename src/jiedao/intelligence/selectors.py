"""Reads of 智能分拨: the active classifier and its proposals, duplicate candidates
(并案 suggestions), hot issues (热点问题), model versions and reply checks."""

import datetime as dt
import math
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.cases.models import OPEN_STATUSES, Case, CaseEvent, Category, Status
from jiedao.cases.routing import route_decision
from jiedao.cases.selectors import grid_at, routing_data, visible_cases
from jiedao.common.masking import mask_personal_text
from jiedao.org.models import Grid

from .classifier import threshold_for, top_k
from .models import ModelVersion, Proposal, ReplyCheck, Tuning
from .places import place_keys, without_places
from .rules import flag_label
from .text import bigrams, cosine, distance_m, key_phrase, normalise

# How long one process trusts what it read about the active model and the thresholds.
CACHE_SECONDS = 10.0
_lock = threading.Lock()
_cache: dict[str, tuple[Any, Any]] = {"tuning": (0.0, None), "active": (0.0, None), "model": (None, None)}


def forget():
    """Drop this process's cached thresholds and active model (after a change)."""
    with _lock:
        _cache["tuning"] = (0.0, None)
        _cache["active"] = (0.0, None)


def tuning() -> Tuning:
    stamp, value = _cache["tuning"]
    if value is None or time.monotonic() - stamp > CACHE_SECONDS:
        value = Tuning.objects.order_by("pk").first() or Tuning()
        _cache["tuning"] = (time.monotonic(), value)
    return value


def active_version():
    """The active, ready model version (or None), read at most every few seconds."""
    stamp, value = _cache["active"]
    if stamp == 0.0 or time.monotonic() - stamp > CACHE_SECONDS:
        value = ModelVersion.objects.filter(active=True, state=ModelVersion.State.READY).first()
        _cache["active"] = (time.monotonic(), value)
    return value


def active_model():
    """``(version, pipeline)`` of the active model, the file loaded once per process and version."""
    version = active_version()
    if version is None:
        return None, None
    loaded_id, pipeline = _cache["model"]
    if loaded_id != version.pk:
        import joblib  # noqa: PLC0415 (imports NumPy; only loading a model needs it)

        try:
            pipeline = joblib.load(version.file)["pipeline"]
        except (OSError, KeyError, ValueError, EOFError):
            return None, None
        with _lock:
            _cache["model"] = (version.pk, pipeline)
    return version, pipeline


def auto_threshold(version=None):
    """The confidence from which a proposal of the model dispatches a case by itself: the lowest
    at which its held-out predictions were right at least the target share of the time
    (``Tuning.auto_dispatch_precision``). None — never — when automatic dispatch is off, the
    model proposes top-level categories only (the starter model), or no confidence reaches the
    target."""
    version = version if version is not None else active_version()
    row = tuning()
    if version is None or not row.auto_dispatch or version.level != 0:
        return None
    return threshold_for(version.curve, row.auto_dispatch_precision)


def _category_index():
    """Active leaf categories by code, and by name where the name is unique (files may use names)."""
    data = routing_data()
    leaves = [c for c in data.categories.values() if c.active and c.pk not in data.parents]
    by_code = {c.code: c for c in leaves}
    names = defaultdict(list)
    for c in leaves:
        names[c.name].append(c)
    by_name = {name: items[0] for name, items in names.items() if len(items) == 1}
    return by_code, by_name


def category_for_label(label, level=0):
    """The category a model's label names: a leaf by code or unique name, or for a model of
    top-level categories (``level`` 1, the starter model) the active top-level category of that
    name or code."""
    if level == 1:
        tops = [c for c in routing_data().categories.values() if c.active and c.parent_id is None]
        return next((c for c in tops if label in (c.name, c.code)), None)
    by_code, by_name = _category_index()
    return by_code.get(label) or by_name.get(label)


@dataclass
class Suggestion:
    label: str
    probability: float
    category: Category | None = None
    unit: object = None
    reason: str = ""


def suggest(text, community=None, grid=None, k=3, with_units=True):
    """Top-``k`` categories for the text with probabilities and, when ``with_units``, the
    unit each would be routed to at this place. Empty when no model is active."""
    text = (text or "").strip()
    version, pipeline = active_model()
    if pipeline is None or not text:
        return []
    out = []
    for label, probability in top_k(pipeline, text, k):
        item = Suggestion(label, probability, category_for_label(label, version.level))
        if with_units and item.category is not None:
            probe = Case(category=item.category, community=community, grid=grid)
            decision = route_decision(probe)
            item.unit, item.reason = decision.unit, str(decision.reason)
        out.append(item)
    return out


# --- duplicates (并案 suggestions) -------------------------------------------------


@dataclass
class Candidate:
    case: Case
    score: float
    similarity: float
    distance_m: float | None
    same_grid: bool
    # How the place matched: "building" (the same registry building or address), "near" (a point
    # within ``NEAR_M``), "radius" (within the configured radius) or "grid" (the same grid).
    place: str = ""


# Metres per degree of latitude; longitude shrinks with cos(latitude).
_M_PER_DEG = 111_320.0
MAX_ROWS = 400
# A report that gives only an address no registry building matches is compared with this many
# of the street's most recent reports in the window, by their addresses.
MAX_ADDRESS_ROWS = 1000
NEAR_M = 50.0
# Weights of the duplicate score: text similarity (character bigrams of the texts without their
# places) + place + category family + recency (measured in bench/duplicates.py --pairs).
PLACE_WEIGHT = {"building": 0.5, "near": 0.35, "radius": 0.05, "grid": 0.0}
SAME_FAMILY, OTHER_FAMILY = 0.0, -0.1
RECENCY_BONUS = 0.05
MIN_SCORE = 0.58
# However near, a report whose text shares less than this with the request is not suggested.
MIN_SIMILARITY = 0.15


# Characters that say nothing about the matter, left out of the duplicate comparison.
_FILLER = frozenset("的了在是我有和就不人都一上也很到说要去你会着没看好这那们请吗呢吧啊把被让给对从个还又已经")


# Words that say where within a place a matter is (方位词) or at which facility, not what it is:
# "楼道墙皮脱落" and "楼道灯不亮" are two matters at one spot. Left out of the comparison unless
# nothing else is said.
# (An alternation: where two words begin alike, the longer comes first.)
_SPOTS = re.compile(
    "楼道|楼下|楼上|楼前|楼后|楼顶|顶楼|屋顶|门口|大门|地下车库|地下室|车库|院内|院里|小区里|小区内|小区|单元|"
    "附近|旁边|边上|路口|路边|一楼|一层|底商|周边|对面|社区|里面|外面|公共区域|公共厕所|公厕|幼儿园|学校|小学|"
    "中学|菜市场|市场|公园|卫生服务站|服务站|活动室|活动中心|图书室|公交站|天桥|超市|商铺|饭店|餐馆|工地|河道|绿地|"
    # … and numbered spots ("3号楼", "2单元", "501室"; digits are 0 after ``normalise``).
    "0+(?:号楼|号院|号|栋|幢|单元|层|楼|室)"
)


def _without_filler(chars) -> str:
    return "".join(ch for ch in chars if ch not in _FILLER)


def _matter(text) -> str:
    """The text without its places, the spots within them and filler: what the report is about."""
    chars = "".join(ch for ch in normalise(without_places(text)) if ch.isalnum())
    return _without_filler(_SPOTS.sub("", chars)) or _without_filler(chars)


def _grams(chars):
    """Characters and character pairs (a paraphrase shares more single characters than pairs)."""
    grams = Counter(chars)
    grams.update(chars[i : i + 2] for i in range(len(chars) - 1))
    return grams


# A run of this many characters or more that both texts share names a spot ("楼下超市",
# "地下车库"); two reports that share it are compared on the rest of what they say, so that
# another matter at the same spot is not taken for the same one.
SPOT_RUN = 4


def _longest_common_run(a, b):
    best, end = 0, 0
    previous = [0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        current = [0] * (len(b) + 1)
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                current[j] = previous[j - 1] + 1
                if current[j] > best:
                    best, end = current[j], i
        previous = current
    return a[end - best : end]


def _similarity(a, b, grams_a=None):
    """Similarity of two reports' matters (texts from ``_matter``), 0..1."""
    sim = cosine(grams_a if grams_a is not None else _grams(a), _grams(b))
    run = _longest_common_run(a, b) if sim > 0.2 else ""
    if len(run) >= SPOT_RUN and run not in (a, b):
        sim = (sim + cosine(_grams(a.replace(run, "")), _grams(b.replace(run, "")))) / 2
    return sim


def _family(category):
    """The top-level category (the family) of a category, through the cached tree."""
    if category is None:
        return None
    categories = routing_data().categories_by_id
    node = categories.get(category.pk, category)
    while node.parent_id is not None and node.parent_id in categories:
        node = categories[node.parent_id]
    return node.pk


def duplicate_candidates(
    *,
    text,
    lat=None,
    lng=None,
    grid=None,
    category=None,
    now=None,
    exclude_id=None,
    limit=5,
    min_score=None,
    address="",
):
    """Open or recently closed cases (within the configured window) at the same place, ranked
    by the likelihood that they are the same matter, best first.

    The place: the registry buildings the address or the text names (by name or address, however
    written), the normalised address, the point (given, or the named building's), the grid.
    Rows are read by indexed filters — the grid or a bounding box around the point, and
    ``created_at`` — at most ``MAX_ROWS``; a report with only an address that names no registry
    building is compared by address with the street's most recent ``MAX_ADDRESS_ROWS``. A
    candidate must share the place (the same building or address, within the radius, or the same
    grid); its score is the similarity of the two texts without their places (character
    bigrams), plus a bonus for the place (the same building most), plus or minus for the same or
    another category family (top-level category), plus a little for recency."""
    text = (text or "").strip()
    if not text:
        return []
    min_score = MIN_SCORE if min_score is None else min_score
    keys, spots = place_keys(address, text)
    if lat is None and spots and spots[0].lat is not None:
        lat, lng = spots[0].lat, spots[0].lng
    if grid is None and spots and spots[0].grid_id is not None:
        grid = Grid.objects.filter(pk=spots[0].grid_id).first()
    if grid is None and lat is None and not keys:
        return []
    settings_row = tuning()
    now = now or timezone.now()
    since = now - dt.timedelta(days=settings_row.duplicate_days)
    radius = settings_row.duplicate_radius_m
    place = Q(pk__in=[])
    if grid is not None:
        place |= Q(grid=grid)
    if lat is not None and lng is not None:
        dlat = radius / _M_PER_DEG
        dlng = radius / (_M_PER_DEG * max(0.1, math.cos(math.radians(lat))))
        place |= Q(lat__range=(lat - dlat, lat + dlat), lng__range=(lng - dlng, lng + dlng))
    recent = (
        Case.objects.filter(created_at__gte=since, created_at__lte=now)
        .filter(Q(status__in=OPEN_STATUSES) | Q(status=Status.CLOSED, closed_at__gte=since))
        .select_related("category")
        .order_by("-created_at")
        .only(
            "id",
            "number",
            "status",
            "description",
            "address",
            "lat",
            "lng",
            "grid_id",
            "category",
            "created_at",
            "community_id",
            "unit_id",
            "closed_at",
        )
    )
    if exclude_id:
        recent = recent.exclude(pk=exclude_id)
    if grid is None and lat is None:
        rows = list(recent[:MAX_ADDRESS_ROWS])
    else:
        rows = list(recent.filter(place)[:MAX_ROWS])
    matter = _matter(text)
    grams = _grams(matter)
    family = _family(category)
    found = []
    for case in rows:
        distance = None
        if lat is not None and lng is not None and case.lat is not None and case.lng is not None:
            distance = distance_m(lat, lng, case.lat, case.lng)
        same_grid = grid is not None and case.grid_id == grid.pk
        if keys and keys & place_keys(case.address, case.description)[0]:
            where = "building"
        elif distance is not None and distance <= NEAR_M:
            where = "near"
        elif distance is not None and distance <= radius:
            where = "radius"
        elif same_grid:
            where = "grid"
        else:
            continue
        sim = _similarity(matter, _matter(case.description), grams)
        if sim < MIN_SIMILARITY:
            continue
        score = sim + PLACE_WEIGHT[where]
        other = _family(case.category) if case.category_id else None
        if family is not None and other is not None:
            score += SAME_FAMILY if other == family else OTHER_FAMILY
        # Recent reports are likelier to be the same matter: up to +0.05, halving every two days.
        score += RECENCY_BONUS * 0.5 ** ((now - case.created_at).total_seconds() / (2 * 86400))
        if score >= min_score:
            found.append(
                Candidate(
                    case,
                    round(score, 3),
                    round(sim, 3),
                    round(distance) if distance is not None else None,
                    same_grid,
                    where,
                )
            )
    found.sort(key=lambda c: (-c.score, -c.case.created_at.timestamp()))
    return found[:limit]


# --- hot issues (热点问题) ---------------------------------------------------------

HOT_WINDOW = dt.timedelta(days=7)
HOT_MIN_COUNT = 3
HOT_SIMILARITY = 0.3
# Bounds that keep the grouping linear in a street with an unusual volume: within one
# community and category, a text is compared with at most this many earlier distinct texts,
# and the title's key phrase is chosen from at most this many texts (the latest).
HOT_COMPARE_LIMIT = 200
HOT_PHRASE_SAMPLE = 400


@dataclass
class HotIssue:
    key: str
    title: str
    heat: float
    count: int
    reporters: int
    community: object
    category: object
    first_at: dt.datetime
    last_at: dt.datetime
    case_ids: list = field(default_factory=list)
    growing: bool = False
    fast: bool = False
    recent_count: int = 0
    previous_count: int = 0
    supports: int = 0

    @property
    def url(self):
        return reverse("intelligence:hot_issue", args=[self.key])


def _top(category):
    node = category
    while node is not None and node.parent_id is not None:
        node = node.parent
    return node


def _groups(cases, now):
    """Cluster the cases: same community and top-level category, then single-link on text
    similarity (character bigram cosine ≥ ``HOT_SIMILARITY``)."""
    buckets = defaultdict(list)
    for case in cases:
        top = _top(case.category) if case.category_id else None
        buckets[(case.community_id, top.pk if top else None)].append((case, top))
    groups = []
    for members in buckets.values():
        if len(members) < HOT_MIN_COUNT:
            continue
        # Identical texts are one node (their similarity is 1); distinct texts are linked
        # when similar to one of the ``HOT_COMPARE_LIMIT`` distinct texts before them.
        nodes = defaultdict(list)
        for member in members:
            nodes[member[0].description.strip()].append(member)
        texts = list(nodes)
        grams = [bigrams(text) for text in texts]
        parent = list(range(len(texts)))

        def find(i, parent=parent):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i in range(len(texts)):
            for j in range(max(0, i - HOT_COMPARE_LIMIT), i):
                if find(i) != find(j) and cosine(grams[i], grams[j]) >= HOT_SIMILARITY:
                    parent[find(i)] = find(j)
        clusters = defaultdict(list)
        for i, text in enumerate(texts):
            clusters[find(i)].extend(nodes[text])
        for cluster in clusters.values():
            if len(cluster) >= HOT_MIN_COUNT:
                cluster.sort(key=lambda member: (member[0].created_at, member[0].pk))
                groups.append(cluster)
    return groups


def _issue(cluster, now, by_community=None):
    cases = sorted((case for case, _t in cluster), key=lambda c: c.created_at)
    ids = {c.pk for c in cases}
    top = cluster[0][1]
    reporters = {c.reporter_phone_index or (f"u{c.reporter_id}" if c.reporter_id else f"c{c.pk}") for c in cases}
    day = dt.timedelta(days=1)
    recent = sum(1 for c in cases if now - c.created_at <= day)
    previous = sum(1 for c in cases if day < now - c.created_at <= 2 * day)
    supports = sum(1 for c in cases if c.status == Status.MERGED)
    # Heat: each report counts, a distinct reporter counts more, recent reports weigh more
    # (half-life one day), merged repeat reports count as support.
    recency = sum(0.5 ** ((now - c.created_at).total_seconds() / 86400) for c in cases)
    heat = round(len(cases) + 2 * len(reporters) + 3 * recency + supports, 1)
    community = cases[0].community
    leaf_counts = defaultdict(int)
    for c in cases:
        if c.category_id:
            leaf_counts[c.category] += 1
    category = max(leaf_counts, key=leaf_counts.get) if leaf_counts else top
    place = community.name if community is not None else ""
    background = [c.description for c in (by_community or {}).get(cases[0].community_id, ()) if c.pk not in ids]
    phrase = key_phrase(
        [c.description for c in cases[-HOT_PHRASE_SAMPLE:]], background[-HOT_PHRASE_SAMPLE:], avoid=place
    )
    title = " · ".join(part for part in (place, category.name if category else "", _headline(cases, phrase)) if part)
    return HotIssue(
        key=f"{cases[0].community_id or 0}-{top.pk if top else 0}-{cases[0].pk}",
        title=title,
        heat=heat,
        count=len(cases),
        reporters=len(reporters),
        community=community,
        category=category,
        first_at=cases[0].created_at,
        last_at=cases[-1].created_at,
        case_ids=[c.pk for c in cases],
        growing=recent > previous,
        fast=recent >= HOT_MIN_COUNT and recent >= 2 * max(previous, 1),
        recent_count=recent,
        previous_count=previous,
        supports=supports,
    )


def _recent_cases(qs, now):
    return (
        qs.filter(created_at__gte=now - HOT_WINDOW, created_at__lte=now)
        .select_related("community", "category__parent__parent")
        .order_by("created_at")
        .only(
            "id",
            "description",
            "created_at",
            "street_id",
            "community",
            "category",
            "status",
            "reporter_id",
            "reporter_phone_index",
        )
    )


def _headline(cases, phrase):
    """The first clause of the member most like the others (containing the group's key phrase
    when it can), at most 20 characters: a readable short title."""
    # Each distinct text once, weighted by how many members wrote it (the latest
    # ``HOT_PHRASE_SAMPLE`` members): linear in a large group.
    counts = defaultdict(int)
    for case in cases[-HOT_PHRASE_SAMPLE:]:
        counts[case.description] += 1
    texts = list(counts)
    grams = [bigrams(text) for text in texts]
    ranked = sorted(
        range(len(texts)), key=lambda i: (-sum(counts[texts[j]] * cosine(grams[i], g) for j, g in enumerate(grams)), i)
    )
    key = phrase[0] if phrase else ""
    for i in ranked:
        for clause in re.split(r"[，。！？；,.!?;]", texts[i]):
            clause = clause.strip()
            if clause and (not key or key in normalise(clause)):
                # A title is shown to every leader: a phone or identity number in it is masked,
                # before the cut so that no part of one stays readable.
                return mask_personal_text(clause)[:20]
    return key


def _all_issues(qs, now):
    return _issues_of(list(_recent_cases(qs, now)), now)


def _issues_of(cases, now):
    by_community = defaultdict(list)
    for case in cases:
        by_community[case.community_id].append(case)
    issues = [_issue(cluster, now, by_community) for cluster in _groups(cases, now)]
    issues.sort(key=lambda i: (-i.heat, i.key))
    return issues


def hot_issues(user, now=None, limit=10):
    """The hottest groups of similar requests from one place in the last week, for ``user``'s scope."""
    now = now or timezone.now()
    return _all_issues(visible_cases(user), now)[:limit]


def hot_issues_by_street(now=None, limit=10, streets=None):
    """{street id: its hottest issues} for every street (of ``streets``, ids, when given) with
    any — one read of the week's cases."""
    now = now or timezone.now()
    by_street = defaultdict(list)
    cases = Case.objects.all() if streets is None else Case.objects.filter(street_id__in=streets)
    for case in _recent_cases(cases, now):
        by_street[case.street_id].append(case)
    return {street_id: _issues_of(cases, now)[:limit] for street_id, cases in by_street.items()}


def fast_growing_hot_issues(now=None):
    """Street-wide hot issues whose last day has at least twice the reports of the day before."""
    now = now or timezone.now()
    return [issue for issue in _all_issues(Case.objects.all(), now) if issue.fast]


def hot_issue(user, key, now=None):
    """``(issue, member cases)`` for the key, or ``(None, [])`` when it is no longer hot."""
    now = now or timezone.now()
    for issue in _all_issues(visible_cases(user), now):
        if issue.key == key:
            members = list(
                Case.objects.filter(pk__in=issue.case_ids)
                .select_related("category", "unit", "grid")
                .order_by("-created_at")
            )
            return issue, members
    return None, []


# --- versions and reply checks ----------------------------------------------------------


def versions(limit=50):
    return list(ModelVersion.objects.select_related("requested_by")[:limit])


@dataclass
class DispatchRecord:
    """What followed a model's proposals: how many cases it proposed for, how many it dispatched
    by itself, and of those how many kept the category without being returned (kept), were
    returned by the unit (returned) or got another category (reclassified)."""

    version: ModelVersion | None
    proposed: int = 0
    auto: int = 0
    kept: int = 0
    returned: int = 0
    reclassified: int = 0

    @property
    def auto_share(self):
        """Share of the proposed cases that were dispatched automatically (None without any)."""
        return self.auto / self.proposed if self.proposed else None

    @property
    def precision(self):
        """Share of the automatic dispatches that were kept (None without any)."""
        return self.kept / self.auto if self.auto else None


def dispatch_record(version=None, start=None, end=None):
    """``DispatchRecord`` of a model version (the active one by default), over the proposals made
    from ``start`` to ``end`` (all when not given). An automatic dispatch counts as re-classified
    when the case's category is no longer the proposed one, else as returned when the unit sent
    the case back (a ``return`` event) after it, else as kept."""
    version = version if version is not None else active_version()
    if version is None:
        return DispatchRecord(None)
    rows = Proposal.objects.filter(version=version)
    if start is not None:
        rows = rows.filter(created_at__gte=start)
    if end is not None:
        rows = rows.filter(created_at__lt=end)
    auto = rows.filter(auto=True).annotate(
        returned=Exists(CaseEvent.objects.filter(case_id=OuterRef("case_id"), action="return"))
    )
    record = DispatchRecord(version, proposed=rows.count())
    for same_category, returned in auto.annotate(
        same=ExpressionWrapper(Q(case__category_id=F("category_id")), output_field=BooleanField())
    ).values_list("same", "returned"):
        record.auto += 1
        if not same_category:
            record.reclassified += 1
        elif returned:
            record.returned += 1
        else:
            record.kept += 1
    return record


def reply_checks_for(case):
    return list(ReplyCheck.objects.filter(case=case).order_by("-checked_at"))


def reply_warning(case):
    """One line about the flags of the case's latest reply check ("" when it has none)."""
    check = ReplyCheck.objects.filter(case=case).order_by("-checked_at", "-pk").first()
    if check is None or not check.flagged or check.overridden_at:
        return ""
    return _("答复质量提示：%(flags)s。如答复无误，可在工单页说明理由并确认保留。") % {
        "flags": "；".join(flag_label(f) for f in check.flags)
    }


def find_duplicates(description, lat=None, lng=None, grid_code="", category_code="", limit=5, address="", now=None):
    """Possible duplicates of a request being typed, from its text, place (a grid code, a
    position, an address) and category code (a leaf, or any category of the family), best first."""
    grid = Grid.objects.filter(code=grid_code).first() if grid_code else None
    if grid is None and lat is not None and lng is not None:
        grid = grid_at(lat, lng)
    category = None
    if category_code:
        category = category_for_label(category_code) or next(
            (c for c in routing_data().categories.values() if c.code == category_code), None
        )
    return duplicate_candidates(
        text=description, lat=lat, lng=lng, grid=grid, category=category, limit=limit, address=address, now=now
    )
