"""Writing drafts: ``CaseBatch`` writes them in batches, each batch in one transaction (or in
the caller's, when it holds one, as an all-or-nothing import does):

- numbers as intake takes them — JD + the Beijing date + the day's sequence from the day's
  counter row (``CaseNumberCounter``), in the order the drafts were added — or the original
  number an import keeps, and then the counter moves past a kept number in our own format;
- personal data encrypted and the phone's blind index beside it, as the model fields do;
- events numbered 1, 2, 3 … in the order of the steps; ratings, extensions, whistles and
  summonses with their case; a reference to another draft or row in an event's data
  (``{"master": draft}``) becomes its number or id when written.

Cases, events and ratings are prepared as the ORM prepares them and inserted with
``executemany``; the few extensions, whistles and summonses with ``bulk_create``. Nothing sends
signals, notifications or webhooks.
"""

import datetime as dt
import json
import re

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from jiedao.common import crypto
from jiedao.common.crypto import EncryptedTextField, blind_index
from jiedao.workcal.calendar import SHANGHAI

from ..models import Case, CaseEvent, CaseNumberCounter, Extension, Rating, Supervision, Whistle, WhistleSummons
from .drafts import CaseDraft

UTC = dt.UTC
BATCH = 1000


def _pk(obj):
    return obj.pk if obj is not None else None


def _sqlite_time(value):
    """An aware time as Django stores it in SQLite: UTC text without the offset."""
    return str(value.astimezone(UTC).replace(tzinfo=None))


class _Table:
    """Plain INSERTs of ``columns`` into a model's table, each value prepared as the ORM would.

    Three preparations are done here the cheap way, with the same result: personal data is
    encrypted with the field keys read once per batch (``crypto.fernet()``, what
    ``crypto.encrypt`` does per value), and on SQLite times become UTC text and JSON is dumped
    directly (what Django's SQLite backend does, without its per-value checks)."""

    def __init__(self, model, columns):
        fields = [model._meta.get_field(name) for name in columns]
        sqlite = connection.vendor == "sqlite" and str(getattr(connection, "timezone", "UTC")) == "UTC"
        self.prepare, self.encrypted = [], []
        for i, f in enumerate(fields):
            if isinstance(f, EncryptedTextField):
                self.encrypted.append(i)
            elif f.get_internal_type() == "DateTimeField":
                self.prepare.append((i, _sqlite_time if sqlite else connection.ops.adapt_datetimefield_value))
            elif f.get_internal_type() == "JSONField":
                if sqlite and f.encoder is None:
                    self.prepare.append((i, json.dumps))
                else:
                    self.prepare.append((i, lambda value, f=f: f.get_db_prep_save(value, connection)))
        quote = connection.ops.quote_name
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(model._meta.db_table),
            ", ".join(quote(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
        )

    def insert(self, rows):
        """Prepares and inserts the rows (lists of values in column order, changed in place)."""
        if not rows:
            return
        fernet = crypto.fernet() if self.encrypted else None
        prepare, encrypted = self.prepare, self.encrypted
        for row in rows:
            for i, function in prepare:
                if row[i] is not None:
                    row[i] = function(row[i])
            for i in encrypted:
                if row[i]:
                    row[i] = fernet.encrypt(row[i].encode("utf-8")).decode("ascii")
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, rows)


CASE_COLUMNS = (
    "number",
    "channel",
    "status",
    "category",
    "description",
    "reporter_name",
    "reporter_phone",
    "reporter_phone_index",
    "reporter",
    "address",
    "lat",
    "lng",
    "street",
    "community",
    "grid",
    "unit",
    "routed_by",
    "duty_version",
    "dispatched_at",
    "response_due",
    "completion_due",
    "responded_at",
    "resolved_at",
    "closed_at",
    "urgency",
    "supervised",
    "return_count",
    "rework_count",
    "extension_count",
    "master",
    "created_by",
    "created_at",
    "updated_at",
)
EVENT_COLUMNS = (
    "case",
    "seq",
    "at",
    "actor",
    "actor_unit",
    "unit",
    "action",
    "from_status",
    "to_status",
    "note",
    "data",
)
RATING_COLUMNS = ("case", "unit", "round", "resolved", "satisfaction", "source", "comment", "rated_at")


def _resolved(value):
    """A reference in an event's data as it is stored: a draft's number, a row's id."""
    if isinstance(value, CaseDraft):
        return value.number
    if isinstance(value, (Extension, Whistle, Supervision)):
        return value.pk
    return value


def _number_pattern():
    return re.compile(rf"^{re.escape(settings.JIEDAO['CASE_NUMBER_PREFIX'])}(\d{{8}})(\d{{5}})$")


class CaseBatch:
    """Writes drafts in batches of ``batch_size``, each batch in one transaction (or in the
    caller's, when it holds one, as an all-or-nothing import does). ``add`` writes a full batch
    on its own (unless ``batch_size`` is None: the caller flushes); ``flush`` writes what is
    pending. ``counts`` says what was written."""

    def __init__(self, batch_size=BATCH):
        self.batch_size = batch_size
        self.pending = []
        self.counts = {"cases": 0, "events": 0, "ratings": 0, "extensions": 0, "whistles": 0, "summonses": 0}
        self._cases = _Table(Case, CASE_COLUMNS)
        self._events = _Table(CaseEvent, EVENT_COLUMNS)
        self._ratings = _Table(Rating, RATING_COLUMNS)

    def add(self, draft: CaseDraft):
        self.pending.append(draft)
        if self.batch_size and len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self):
        drafts, self.pending = self.pending, []
        if drafts:
            # Inside the caller's transaction the batch is part of it: no savepoint (SQLite would
            # copy every page the batch changes into a sub-journal to be able to roll it back).
            with transaction.atomic(savepoint=False):
                self._write(drafts)

    # --- one batch ------------------------------------------------------------------------------

    def _write(self, drafts):
        kept = [draft for draft in drafts if draft.number is not None]
        self._number(drafts)
        ids = self._insert_cases(drafts)
        for draft in drafts:
            draft.id = ids[draft.number]
        merged = [(draft.master.id, draft.id) for draft in drafts if draft.master is not None]
        if merged:
            quote = connection.ops.quote_name
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {quote(Case._meta.db_table)} SET {quote('master_id')} = %s WHERE {quote('id')} = %s",
                    merged,
                )
        extensions, whistles, supervisions = [], [], []
        for draft in drafts:
            for extension in draft.extensions:
                extension.case_id = draft.id
                extensions.append(extension)
            for supervision in draft.supervisions:
                supervision.case_id = draft.id
                supervisions.append(supervision)
            for whistle, _summonses in draft.whistles:
                whistle.case_id = draft.id
                whistles.append(whistle)
        Extension.objects.bulk_create(extensions, batch_size=500)
        Whistle.objects.bulk_create(whistles, batch_size=500)
        Supervision.objects.bulk_create(supervisions, batch_size=500)
        summonses = []
        for draft in drafts:
            for whistle, members in draft.whistles:
                for summons in members:
                    summons.whistle_id = whistle.pk
                    summonses.append(summons)
        WhistleSummons.objects.bulk_create(summonses, batch_size=500)
        events, ratings = [], []
        for draft in drafts:
            case_id = draft.id
            for seq, e in enumerate(draft.events, start=1):
                data = {key: _resolved(value) for key, value in e.data.items()} if e.refs else e.data
                events.append(
                    [
                        case_id,
                        seq,
                        e.at,
                        e.actor_id,
                        e.actor_unit_id,
                        e.unit_id,
                        e.action,
                        e.from_status,
                        e.to_status,
                        e.note,
                        data,
                    ]
                )
            for rating in draft.ratings:
                ratings.append([case_id, *rating])
        self._ratings.insert(ratings)
        self._events.insert(events)
        self._advance_counters(kept)
        counts = self.counts
        counts["cases"] += len(drafts)
        counts["events"] += len(events)
        counts["ratings"] += len(ratings)
        counts["extensions"] += len(extensions)
        counts["whistles"] += len(whistles)
        counts["summonses"] += len(summonses)

    def _number(self, drafts):
        """The day's next numbers for the drafts without one, in the order they were added."""
        wanted = {}
        for draft in drafts:
            if draft.number is None:
                wanted.setdefault(draft.created_at.astimezone(SHANGHAI).date(), []).append(draft)
        prefix = settings.JIEDAO["CASE_NUMBER_PREFIX"]
        for day, waiting in wanted.items():
            last = _take_numbers(day, len(waiting))
            for sequence, draft in enumerate(waiting, start=last - len(waiting) + 1):
                draft.number = f"{prefix}{day:%Y%m%d}{sequence:05d}"

    def _insert_cases(self, drafts):
        rows = []
        for d in drafts:
            phone = d.reporter_phone
            category, master = d.category, d.master
            rows.append(
                [
                    d.number,
                    str(d.channel),
                    str(d.status),
                    category.pk if category is not None else None,
                    d.description,
                    d.reporter_name,
                    phone,
                    blind_index(phone) if phone else "",
                    _pk(d.reporter),
                    d.address,
                    d.lat,
                    d.lng,
                    d.street_id,
                    _pk(d.community),
                    _pk(d.grid),
                    _pk(d.unit),
                    d.routed_by,
                    _pk(d.duty_version),
                    d.dispatched_at,
                    d.response_due,
                    d.completion_due,
                    d.responded_at,
                    d.resolved_at,
                    d.closed_at,
                    str(d.urgency),
                    d.supervised,
                    d.return_count,
                    d.rework_count,
                    d.extension_count,
                    master.id if master is not None else None,  # a master of this batch: set below
                    _pk(d.created_by),
                    d.created_at,
                    max(e.at for e in d.events),
                ]
            )
        self._cases.insert(rows)
        numbers = [d.number for d in drafts]
        ids = {}
        for start in range(0, len(numbers), 500):
            ids.update(Case.objects.filter(number__in=numbers[start : start + 500]).values_list("number", "id"))
        return ids

    def _advance_counters(self, kept):
        """Kept numbers in our own format (JD + date + sequence) move the day's counter past
        them, so that intake never gives a number that is taken."""
        pattern = _number_pattern()
        highest = {}
        for draft in kept:
            match = pattern.match(draft.number)
            if match is None:
                continue
            try:
                day = dt.datetime.strptime(match[1], "%Y%m%d").date()
            except ValueError:
                continue
            highest[day] = max(highest.get(day, 0), int(match[2]))
        if not highest:
            return
        current = dict(CaseNumberCounter.objects.filter(day__in=list(highest)).values_list("day", "last"))
        behind = [CaseNumberCounter(day=day, last=last) for day, last in highest.items() if last > current.get(day, 0)]
        CaseNumberCounter.objects.bulk_create(
            behind, update_conflicts=True, unique_fields=["day"], update_fields=["last"], batch_size=500
        )


def _take_numbers(day, n) -> int:
    """Add ``n`` to the day's counter (creating its row) and return the new last number. The
    counter row is written in the caller's transaction, as intake's is."""
    if not CaseNumberCounter.objects.filter(day=day).update(last=F("last") + n):
        try:
            with transaction.atomic():
                CaseNumberCounter.objects.create(day=day, last=n)
            return n
        except IntegrityError:  # another writer created the day's row first
            CaseNumberCounter.objects.filter(day=day).update(last=F("last") + n)
    return CaseNumberCounter.objects.filter(day=day).values_list("last", flat=True).get()


def write_cases(drafts, batch_size=BATCH) -> dict:
    """Write the drafts in batches; returns the counts of rows written."""
    batch = CaseBatch(batch_size)
    for draft in drafts:
        batch.add(draft)
    batch.flush()
    return batch.counts
