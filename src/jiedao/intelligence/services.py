"""Every write of 智能分拨: training and switching classifier versions, the proposal made
at intake, reply-quality checks and their override, and the thresholds."""

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jiedao.cases.models import Case, Category, Status
from jiedao.cases.states import CASE
from jiedao.common.errors import FieldErrors, NotAllowed, NotFound, ValidationFailed
from jiedao.common.lifecycle import assign_status
from jiedao.org import permissions
from jiedao.org.models import User

from . import classifier, selectors
from .models import ModelVersion, Proposal, ReplyCheck, Tuning
from .text import normalise, similarity

MODEL_ROLES = tuple(sorted(permissions.roles_of("intelligence.models")))  # for the page's buttons
# Categories with fewer closed cases than this are left out of training.
MIN_PER_CLASS = 5
MAX_TRAINING_CASES = 20000


def _require(user, roles):
    """The table's row for managing models; no user is the command line or the worker."""
    if user is not None:
        permissions.require(user, "intelligence.models", _("您无权管理分类模型。"))


def model_dir() -> Path:
    path = Path(settings.DATA_DIR) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- training and versions ---------------------------------------------------------


def request_training(user: User | None) -> ModelVersion:
    """Record a version in training and queue the work for the worker."""
    _require(user, MODEL_ROLES)
    version = new_version(user, source=_("已结案工单"))
    from .tasks import train_model_task  # noqa: PLC0415 (the task module imports this one: it runs the training)

    transaction.on_commit(lambda: train_model_task.enqueue(version.pk))
    return version


def closed_case_data(limit: int = MAX_TRAINING_CASES) -> tuple[list[str], list[str]]:
    """(texts, labels) from the most recent closed cases with their final category; categories
    with fewer than ``MIN_PER_CLASS`` cases are left out."""
    rows = list(
        Case.objects.filter(status=Status.CLOSED, category__isnull=False)
        .order_by("-closed_at")
        .values_list("description", "category__code")[:limit]
    )
    counts: dict[str, int] = {}
    for _text, code in rows:
        counts[code] = counts.get(code, 0) + 1
    rows = [(text, code) for text, code in rows if counts[code] >= MIN_PER_CLASS]
    return [r[0] for r in rows], [r[1] for r in rows]


def new_version(user: User | None, *, source: str) -> ModelVersion:
    """Record a version about to be trained (state 训练中)."""
    return ModelVersion.objects.create(source=source[:200], requested_by=user, requested_at=timezone.now())


def train_version(
    version_id: int,
    *,
    texts: list[str] | None = None,
    labels: list[str] | None = None,
    activate: bool = True,
    level: int = 0,
) -> ModelVersion:
    """Train the version's model (from closed cases unless texts and labels are given): the
    model's out-of-fold scores (5-fold cross-validation inside the data) calibrate its
    probabilities and give its figures and precision curve; then the file is saved and the
    version activated. ``level`` 1 marks a model of top-level categories (the starter model)."""
    version = ModelVersion.objects.get(pk=version_id)
    try:
        if texts is None:
            texts, labels = closed_case_data()
        labels = cast(list[str], labels)  # given with ``texts``
        if len(set(labels)) < 2:
            raise ValueError(_("至少需要两个分类、每类至少%(n)d件已结案工单才能训练。") % {"n": MIN_PER_CLASS})
        trained = classifier.train(texts, labels)
        import joblib  # noqa: PLC0415 (imports NumPy; only training and loading a model need it)

        path = model_dir() / f"classifier-v{version.pk}.joblib"
        joblib.dump({"pipeline": trained.pipeline, "labels": trained.labels}, path, compress=3)
    except Exception as exc:  # the version records why it failed; nothing else changes
        return _failed(version, exc)
    assign_status(version, ModelVersion.State.READY, "state")
    version.trained_at = timezone.now()
    version.samples = len(texts)
    version.labels = trained.labels
    version.file = str(path)
    version.size_bytes = path.stat().st_size
    version.train_seconds = round(trained.seconds, 2)
    version.scores = {k: v for k, v in trained.cv.items() if k != "confusion"}
    version.curve = trained.curve
    version.level = level
    version.save()
    if activate:
        _activate(version)
    return version


def _failed(version: ModelVersion, error: Exception) -> ModelVersion:
    assign_status(version, ModelVersion.State.FAILED, "state")
    version.error = str(error)[:2000]
    version.save(update_fields=["state", "error"])
    return version


def train_from_file(
    user: User | None, *, path: str | Path, text_column: str, label_column: str, activate: bool = True
) -> ModelVersion:
    """Train a version from a CSV or Excel file; a file that cannot be used (no such column, one
    label, unknown encoding …) raises ``classifier.DataError`` before any version is recorded."""
    texts, labels = classifier.read_table(path, text_column, label_column)
    version = new_version(user, source=Path(path).name)
    return train_version(version.pk, texts=texts, labels=labels, activate=activate)


STARTER_SOURCE = "起步模型：2020 泰迪杯 C题 群众留言（一级分类）"


def train_starter(user: User | None = None, *, activate: bool = True) -> ModelVersion:
    """Train the starter model from the messages shipped with the package (top-level
    categories): what a street uses until its own closed cases train a better one."""
    _require(user, MODEL_ROLES)
    version = new_version(user, source=STARTER_SOURCE)
    return train_starter_version(version.pk, activate=activate)


def request_starter(user: User | None) -> ModelVersion:
    """Record the starter model's version in training and queue its training for the worker."""
    _require(user, MODEL_ROLES)
    version = new_version(user, source=STARTER_SOURCE)
    from .tasks import train_starter_task  # noqa: PLC0415 (the task module imports this one: it runs the training)

    transaction.on_commit(lambda: train_starter_task.enqueue(version.pk))
    return version


def train_starter_version(version_id: int, *, activate: bool = True) -> ModelVersion:
    """Train a recorded version as the starter model (also the worker's task); without the
    shipped messages (an installation may remove them) the version records why it failed."""
    try:
        texts, labels = classifier.starter_data()
    except classifier.DataError as exc:
        return _failed(ModelVersion.objects.get(pk=version_id), exc)
    return train_version(version_id, texts=texts, labels=labels, activate=activate, level=1)


@transaction.atomic
def _activate(version):
    ModelVersion.objects.filter(active=True).exclude(pk=version.pk).update(active=False)
    ModelVersion.objects.filter(pk=version.pk).update(active=True)
    version.active = True
    selectors.forget()


def activate(user: User | None, *, version_id: int) -> ModelVersion:
    """Make the version the one used at intake (switching back to an older one is the same act)."""
    _require(user, MODEL_ROLES)
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise NotFound(_("模型版本不存在。"))
    if version.state != ModelVersion.State.READY:
        raise ValidationFailed("version", _("只有训练完成的版本可以启用。"))
    _activate(version)
    return version


def deactivate(user: User | None) -> None:
    _require(user, MODEL_ROLES)
    ModelVersion.objects.filter(active=True).update(active=False)
    selectors.forget()


MAX_DUPLICATE_RADIUS_M = 10_000
MAX_DUPLICATE_DAYS = 365


MIN_TARGET_PRECISION = 0.5


def save_tuning(
    user: User | None,
    *,
    auto_dispatch: bool,
    auto_dispatch_precision: float,
    duplicate_radius_m: int,
    duplicate_days: int,
) -> Tuning:
    _require(user, MODEL_ROLES)
    errors = FieldErrors()
    if not MIN_TARGET_PRECISION <= auto_dispatch_precision <= 1.0:
        errors.add("auto_dispatch_precision", _("目标准确率应在 0.5 到 1 之间。"))
    if not 1 <= duplicate_radius_m <= MAX_DUPLICATE_RADIUS_M:
        errors.add("duplicate_radius_m", _("重复件距离应在 1 到 %(max)d 米之间。") % {"max": MAX_DUPLICATE_RADIUS_M})
    if not 1 <= duplicate_days <= MAX_DUPLICATE_DAYS:
        errors.add("duplicate_days", _("重复件时间窗应在 1 到 %(max)d 天之间。") % {"max": MAX_DUPLICATE_DAYS})
    errors.raise_if_any()
    row = Tuning.objects.order_by("pk").first() or Tuning()
    row.auto_dispatch = auto_dispatch
    row.auto_dispatch_precision = auto_dispatch_precision
    row.duplicate_radius_m = duplicate_radius_m
    row.duplicate_days = duplicate_days
    row.save()
    selectors.forget()
    return row


# --- intake ---------------------------------------------------------------------------


@dataclass
class IntakeProposal:
    """What the classifier proposes for a case being registered."""

    version: ModelVersion
    category: Category
    confidence: float
    top: list
    auto: bool = False

    def note(self) -> str:
        return _("智能分拨自动派单（模型 v%(v)d，置信度 %(p).0f%%）") % {
            "v": self.version.pk,
            "p": self.confidence * 100,
        }

    def event_data(self) -> dict[str, Any]:
        """What the dispatch event of a case it dispatched records of it."""
        return {"auto": True, "confidence": self.confidence, "model": self.version.pk}

    def save_for(self, case: Case) -> None:
        Proposal.objects.create(
            case=case,
            version=self.version,
            category=self.category,
            unit=case.unit if self.auto else None,
            confidence=self.confidence,
            top=self.top,
            auto=self.auto,
            created_at=case.created_at,
        )


def intake_proposal(description: str, *, category: Category | None = None) -> IntakeProposal | None:
    """The active model's proposal for a new case's text (None without a model). ``auto`` when
    no category was given and the first category's probability reaches the threshold chosen
    from the target precision (``selectors.auto_threshold``; never for the starter model, whose
    categories are top-level ones). Plugged into the intake as ``cases.hooks.intake_classifier``
    (``apps.py``)."""
    version, pipeline = selectors.active_model()
    if pipeline is None:
        return None
    top = classifier.top_k(pipeline, description, 3)
    best = selectors.category_for_label(top[0][0], version.level)
    if best is None:
        return None
    confidence = top[0][1]
    threshold = selectors.auto_threshold(version)
    auto = category is None and threshold is not None and confidence >= threshold
    return IntakeProposal(version, best, round(confidence, 4), [[label, round(p, 4)] for label, p in top], auto)


# --- reply quality (答复质量) -------------------------------------------------------------

ACTION_WORDS = re.compile(
    "已(经)?(派|安排|组织|联系|协调|清理|清运|修复|维修|更换|拆除|整改|处罚|查处|劝离|疏导|补种|恢复|落实|"
    "上门|到场|现场|核实|调解|约谈|告知|答复|回复|开具|发放|办理|补办|封堵|疏通|加装|安装|张贴|设置|移除|收回|督促)|"
    "(清理|清运|修复|维修|更换|拆除|整改|疏通|安装|加装|调解|处罚|封堵)(完毕|完成|干净|到位)"
)
DATE_WORDS = re.compile(
    r"\d{1,2}月\d{1,2}日|\d{4}[-/.年]\d{1,2}|\d{1,2}[:：]\d{2}|今天|今日|昨天|昨日|当天|当日|"
    r"明天|本周|下周|月底|月初|\d+(个)?(工作日|小时|天)内|日前|近日"
)
TEMPLATE_REPEATS = 3
TEMPLATE_DAYS = 90


def reply_flags(
    request: str, *, result: str, repeats: int = 0, min_similarity: float | None = None
) -> tuple[float, list[str]]:
    """Flags for a reply to a request: low similarity, no concrete action, no date, template."""
    min_similarity = selectors.tuning().reply_min_similarity if min_similarity is None else min_similarity
    sim = similarity(request, result)
    flags = []
    if sim < min_similarity:
        flags.append("off_topic")
    if not ACTION_WORDS.search(result or ""):
        flags.append("no_action")
    if not DATE_WORDS.search(result or ""):
        flags.append("no_date")
    if repeats >= TEMPLATE_REPEATS - 1:
        flags.append("template")
    return sim, flags


def fingerprint(result: str) -> str:
    return hashlib.sha1(normalise(result).encode()).hexdigest()


def check_reply(case: Case, *, result: str, at: dt.datetime | None = None, keep: bool = True) -> ReplyCheck:
    """Check a unit's result as it is submitted (the caller holds the transaction). Plugged
    into the case loop as ``cases.hooks.reply_checker`` (``apps.py``). With ``keep=False``
    the check is only answered, not kept: the resolve form asks it while the handler types."""
    at = at or timezone.now()
    fp = fingerprint(result)
    repeats = ReplyCheck.objects.filter(
        unit_id=cast(int, case.unit_id),  # a case being resolved is held by a unit
        fingerprint=fp,
        checked_at__gte=at - dt.timedelta(days=TEMPLATE_DAYS),
    ).count()
    sim, flags = reply_flags(case.description, result=result, repeats=repeats)
    check = ReplyCheck(
        case=case,
        unit_id=case.unit_id,
        checked_at=at,
        similarity=round(sim, 3),
        flags=flags,
        flagged=bool(flags),
        fingerprint=fp,
    )
    if keep:
        check.save(force_insert=True)
    return check


@transaction.atomic
def override_reply(user: User, *, check_id: int, note: str) -> ReplyCheck:
    """The handler (or a leader) keeps a flagged reply: it no longer counts as flagged."""
    permissions.require(user, "intelligence.reply_override", _("只有承办单位或街道可以确认此答复。"))
    check = ReplyCheck.objects.select_for_update(of=("self",)).select_related("case").filter(pk=check_id).first()
    if check is None:
        raise NotFound(_("答复检查记录不存在。"))
    own_unit = user.has_role("handler") and user.unit_id is not None and user.unit_id == check.unit_id
    if not (own_unit or user.has_role("leader", "dispatcher", "admin")):
        raise NotAllowed(_("只有承办单位或街道可以确认此答复。"))
    note = (note or "").strip()
    if not note:
        raise ValidationFailed("note", _("请说明为什么保留此答复。"))
    check.overridden_by = user
    check.overridden_at = timezone.now()
    check.override_note = note
    check.save(update_fields=["overridden_by", "overridden_at", "override_note"])
    CASE.record(check.case, "reply_override", user, note=note, data={"flags": check.flags})
    return check
