"""The input that used to break the server: dates of years 1–9999 (and 0 and 10000) with months
0–13 and days 0–32 in ISO and odd writings, list cursors of random bytes and JSON shapes, strings
with lone surrogates, NUL, full-width digits, right-to-left marks and great length, and numbers
that are huge, negative or not numbers (tests/fuzz/inputs.py).

They are sent to the query parameters of every API operation, into every field of the JSON body
of every API operation that takes one, to the GET parameters of every page (found by walking
the URL resolver, as tests/fuzz/test_permissions.py does) as a street leader and signed out,
and into the fields of the main forms (the resident's report, the operator's intake, a
proposal, a service-hall application at the window and online, an appointment). First the
known edges, one by one on every parameter of their kind, then random examples from
hypothesis. No answer may be a server error; a refusal is a 4xx. The parsers themselves
(jiedao.common.params) are tried on their own as well."""

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiedao.common import params
from jiedao.common.errors import ValidationFailed
from tests import urlwalk

from . import inputs
from .conftest import bearer_token, path_values
from .forms import post_forms

pytestmark = pytest.mark.django_db

FUZZ = settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
SRC = Path(__file__).resolve().parents[2] / "src" / "jiedao"


# --- the parsers on their own ------------------------------------------------------------------


@settings(FUZZ, max_examples=400)
@given(text=st.one_of(inputs.date_text, inputs.month_text, inputs.year_text, inputs.nasty_text))
def test_the_parsers_accept_only_the_supported_years_and_refuse_all_else_with_a_field_error(text):
    for parse in (params.parse_date, params.parse_datetime, params.parse_month, params.parse_year):
        try:
            value = parse(text, "when")
        except ValidationFailed as refusal:
            assert [e["field"] for e in refusal.errors] == ["when"]
            continue
        day = value if isinstance(value, int) else (value.date() if isinstance(value, dt.datetime) else value)
        year = day if isinstance(day, int) else day.year
        assert params.FIRST_YEAR <= year <= params.LAST_YEAR
        if parse is params.parse_month:
            assert params.shift_month(params.next_month(value), -2) < value  # arithmetic stays in range


@settings(FUZZ, max_examples=300)
@given(cursor=inputs.cursor_text)
def test_a_cursor_is_read_back_only_in_the_shape_it_was_made(cursor):
    shape = params.Cursor(params.AwareDatetime, params.RowId)
    try:
        moment, row = shape.decode(cursor)
    except ValidationFailed as refusal:
        assert [e["field"] for e in refusal.errors] == ["cursor"]
        return
    assert isinstance(moment, dt.datetime) and moment.tzinfo is not None and 1 <= row <= params.MAX_ID
    assert shape.decode(shape.encode(moment, row)) == (moment, row)


# --- how each surface is tried ------------------------------------------------------------------


def _fuzz_each(items, examples, check):
    """``check(item, data)`` on ``examples`` hypothesis examples for each item; the failures, one
    line per failing item (every item is tried, so that one run reports them all)."""
    failures = []
    for item in items:

        @settings(FUZZ, max_examples=examples)
        @given(data=st.data())
        def run(data):
            with transaction.atomic():  # as in _sweep: each example in its own savepoint
                check(item, data.draw)

        try:
            run()
        except (Exception, BaseExceptionGroup) as failure:
            failures.append(f"{item}: {str(failure)[:1500]}")
    return failures


def _short(value):
    text = repr(value)
    return text if len(text) < 200 else text[:150] + f"…({len(text)} chars)"


def _sweep(cases, send):
    """``send(case)`` for each known edge case (a tuple: where, which parameter, which value); the
    failures, one line each (a server error, or the exception the test client passes on)."""
    failures = []
    for case in cases:
        where = " ".join(str(part) if i < len(case) - 1 else _short(part) for i, part in enumerate(case))
        try:
            with transaction.atomic():  # a failed request must not leave the next one in a broken transaction
                status = send(case)
        except Exception as failure:  # the test client re-raises the view's exception
            failures.append(f"{where}: {type(failure).__name__}: {str(failure)[:200]}")
            continue
        if status >= 500:
            failures.append(f"{where}: {status}")
    return failures


def _fixed(value):
    """A draw that always gives ``value`` (the edges go through the same code as random examples)."""
    return lambda strategy, label=None: value


# --- the API -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    query: tuple
    body: dict | None  # the JSON schema of the body
    roles: tuple  # the roles that may take it (x-permission, "anonymous" when it needs no user)

    def __str__(self):
        return f"{self.method.upper()} {self.path}"


def _resolved(schemas, schema):
    """The schema with its references (and those of its properties and their items) resolved."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    schema = dict(schema)
    if "properties" in schema:
        schema["properties"] = {name: _resolved(schemas, prop) for name, prop in schema["properties"].items()}
    if isinstance(schema.get("items"), dict):
        schema["items"] = _resolved(schemas, schema["items"])
    return schema


@functools.cache
def _operations():
    from jiedao.api import api

    document = api.get_openapi_schema(path_prefix="/api/v1/")
    schemas = document["components"]["schemas"]
    found = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            query = tuple(p["name"] for p in op.get("parameters", []) if p["in"] == "query")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body and "$ref" in body:
                body = _resolved(schemas, body)
            roles = tuple((op.get("x-permission") or {}).get("roles", ()))
            if not op.get("security"):
                roles = ("anonymous", *roles)
            found.append(Operation(method, path, query, body, roles))
    return found


# Names tried on every operation besides its own: what other operations and pages read.
QUERY_NAMES = ("month", "year", "start", "end", "at", "cursor", "before", "period", "since", "until", "date")


def _url(world, path, draw):
    real = path_values(world, path)

    def fill(match):
        name = match.group(1)
        if name in real and draw(st.integers(0, 3), label="real id"):
            return str(real[name])
        return quote(
            inputs.as_bytes(
                draw(st.one_of(st.sampled_from(["1", "respond", "accept", "x"]), inputs.nasty_text), label=name)
            ),
            safe="",
        )

    return re.sub(r"\{(\w+)\}", fill, path)


def _headers(world, role):
    if role == "anonymous":
        return {}
    return {"HTTP_AUTHORIZATION": f"Bearer {bearer_token(getattr(world.users, role))}"}


@pytest.mark.parametrize("role", ["leader", "anonymous"])
def test_api_query_parameters_never_answer_a_server_error(client, world, role):
    operations = [op for op in _operations() if role != "anonymous" or "anonymous" in op.roles]
    assert len(operations) > (50 if role != "anonymous" else 8)
    headers = _headers(world, role)

    def send(op, values, draw):
        url = _url(world, op.path, draw) + "?" + inputs.query_string(values)
        response = (
            client.get(url, **headers)
            if op.method == "get"
            else client.generic(op.method.upper(), url, b"{}", content_type="application/json", **headers)
        )
        return response.status_code

    edges = [(op, name, edge) for op in operations for name in op.query for edge in inputs.edges_for(name)]
    failures = _sweep(edges, lambda case: send(case[0], {case[1]: case[2]}, _fixed("1")))

    def random(op, draw):
        names = draw(st.lists(st.sampled_from(op.query or QUERY_NAMES), min_size=1, max_size=3, unique=True))
        if draw(st.integers(0, 3), label="a name of another operation") == 0:
            names.append(draw(st.sampled_from(QUERY_NAMES)))
        status = send(op, {name: draw(inputs.value_for(name), label=name) for name in names}, draw)
        assert status < 500

    failures += _fuzz_each([op for op in operations if op.query], 6, random)
    assert not failures, "\n".join(failures)


# Hostile values for a body property, by its JSON type: raw JSON text, put in the body as it is.
BODY_EDGES = {
    "integer": [
        "9007199254740992",
        "-9007199254740992",
        "-1",
        "0",
        "2147483648",
        "1e400",
        "NaN",
        "Infinity",
        "1.5",
        '"１２"',
        '"²"',
        "null",
    ],
    "number": ["1e400", "-1e400", "NaN", "-Infinity", "1e308", "9007199254740993", "-0.0", '"１２"', "null"],
    "boolean": ['"yes"', "2", "null", "[]"],
    "array": ['["\\ud800"]', "[[[]]]", "[9007199254740993]", "{}", '"x"', "[null]"],
    "object": ["[]", '{"\\ud800": 1}', '"x"'],
}


def _json_kinds(schema):
    options = schema.get("anyOf", [schema])
    return {o.get("type") for o in options}, {o.get("format") for o in options}


def _body_edges(name, schema):
    kinds, formats = _json_kinds(schema)
    if formats & {"date", "date-time"}:
        return [json.dumps(edge) for edge in inputs.EDGES["date"] + inputs.EDGES["text"][:3]]
    for kind in ("integer", "number", "boolean", "array", "object"):
        if kind in kinds:
            return BODY_EDGES[kind]
    return [json.dumps(edge) for edge in inputs.edges_for(name)]


def _typed(schema, name):
    """Random hostile values for a body property, by its schema."""
    kinds, formats = _json_kinds(schema)
    huge = st.sampled_from([2**53, -(2**53), 2**63, 10**30, -1, 0])
    if formats & {"date", "date-time"}:
        return st.one_of(inputs.date_text, inputs.any_value)
    if "integer" in kinds:
        return st.one_of(st.integers(), huge, inputs.number_text, st.floats())
    if "number" in kinds:
        return st.one_of(st.floats(), huge, inputs.number_text)
    if "boolean" in kinds:
        return st.one_of(st.booleans(), inputs.any_value, st.integers())
    if "array" in kinds:
        return st.lists(st.one_of(inputs.any_value, huge, st.lists(inputs.any_value, max_size=2)), max_size=4)
    if "object" in kinds:
        return st.dictionaries(inputs.nasty_text, inputs.any_value, max_size=3)
    return inputs.value_for(name)


# Where a name means something else than elsewhere.
KNOWN_BY_PATH = {
    "/api/v1/emergencies": {"kind": "flood", "title": "东湖路积水"},
    "/api/v1/emergency/stocks/{stock_id}/movements": {"kind": "in"},
}


def _plausible(world, name, schema, path=""):
    """A value that passes the schema, so that the hostile ones beside it reach the code behind."""
    known = {
        "description": "楼下垃圾桶满了没人清运",
        "lat": 39.905,
        "lng": 116.405,
        "category": "010101",
        "unit": "ZHZF",
        "units": ["ZJ"],
        "report_hours": 24,
        "extra_workdays": 2,
        "item_code": "11010500100001",
        "starts_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat(),
        "name": "赵强",
        "id_number": "110105196503034321",
        "phone": "13900002222",
        "decision": "adopt",
        "answer": "同意",
        "due": (dt.date.today() + dt.timedelta(days=20)).isoformat(),
        "points": 1,
        "to": "resident2",
        "projects": [p.pk for p in world.projects],
        "person": world.person.pk,
        "kind": "home",
        "quantity": 1,
        "group": "B",
        "window": "1",
        "title": "楼道加装扶手",
        "body": "老人上下楼不方便",
        "score": 3,
        "progress": 50,
        "confirm": True,
        "result": "safe",
        "text": "路灯不亮",
        "username": "resident",
        "password": "pass12345",
        "satisfaction": "satisfied",
        "resolved": True,
        "note": "已处理",
        "reason": "需要协调",
        "master": world.cases.new.number,
        "materials": world.materials,
        "readings": [
            {
                "device": "WL-01",
                "token": world.devices["WL-01"].token,
                "metric": "level",
                "value": 1.0,
                "at": dt.datetime.now(dt.UTC).isoformat(),
                "event": "",
            }
        ],
    }
    if name in KNOWN_BY_PATH.get(path, {}):
        return KNOWN_BY_PATH[path][name]
    if name in known:
        return known[name]
    if "default" in schema:
        return schema["default"]
    kinds, _formats = _json_kinds(schema)
    if "null" in kinds:
        return None
    items = schema.get("items") or {}
    if "properties" in items:
        return [{inner: _plausible(world, inner, prop) for inner, prop in items["properties"].items()}]
    for kind, value in (
        ("string", "x"),
        ("integer", 1),
        ("number", 1.5),
        ("boolean", False),
        ("array", []),
        ("object", {}),
    ):
        if kind in kinds:
            return value
    return None


# Who sends a body: the first of these people whose role may take the operation (its
# x-permission), so that it is not refused before the body is read; the people of the street
# who look after that part of it first (a community's committee runs its deliberation, a grid
# worker visits the grid's residents, the window serves the hall, the command centre acts in
# an emergency).
PEOPLE = ("handler", "dispatcher", "operator", "grid", "leader", "admin", "resident", "anonymous")
FIRST_BY_AREA = {
    "/participation/": ("handler_committee", "resident"),
    "/registry/": ("grid",),
    "/hall/": ("operator", "resident"),
    "/emergenc": ("dispatcher",),
}
ROLE_OF = {"handler_committee": "handler"}
HOLE = "@@HOSTILE@@"


def _person_for(op):
    if "anonymous" in op.roles:
        return "anonymous"  # what needs no user is tried as those who have none
    first = next((people for area, people in FIRST_BY_AREA.items() if area in op.path), ())
    return next((p for p in (*first, *PEOPLE) if ROLE_OF.get(p, p) in op.roles), "leader")


def _fields(properties):
    """The paths of a body's fields: its properties, and those of the objects in its lists."""
    for name, prop in properties.items():
        yield (name,), prop
        items = prop.get("items") or {}
        for inner, inner_prop in items.get("properties", {}).items():
            yield (name, 0, inner), inner_prop


def _with(body, path, value):
    """A copy of ``body`` with the field at ``path`` set to ``value``."""
    body = json.loads(json.dumps(body))
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return body


def test_api_json_bodies_never_answer_a_server_error(client, world):
    operations = [op for op in _operations() if op.body and op.body.get("properties")]
    assert len(operations) > 20

    def send(op, body, draw, escape=True, raw_value=None):
        """The body as JSON, with ``raw_value`` (raw JSON text) in place of the field set to HOLE."""
        text = json.dumps(body, allow_nan=True, ensure_ascii=escape)
        if raw_value is not None:
            text = text.replace(json.dumps(HOLE), raw_value)
        response = client.generic(
            op.method.upper(),
            _url(world, op.path, draw),
            inputs.as_bytes(text),
            content_type="application/json",
            **_headers(world, _person_for(op)),
        )
        return response.status_code

    def baseline(op):
        return {name: _plausible(world, name, prop, op.path) for name, prop in op.body["properties"].items()}

    edges = [
        (op, ".".join(map(str, path)), edge)
        for op in operations
        for path, prop in _fields(op.body["properties"])
        for edge in _body_edges(path[-1], prop)
    ]
    paths = {".".join(map(str, path)): path for op in operations for path, _prop in _fields(op.body["properties"])}
    failures = _sweep(
        edges,
        lambda case: send(case[0], _with(baseline(case[0]), paths[case[1]], HOLE), _fixed("1"), raw_value=case[2]),
    )

    def random(op, draw):
        properties = op.body["properties"]
        body = baseline(op)
        hostile = draw(
            st.lists(st.sampled_from(sorted(properties)), min_size=1, max_size=3, unique=True), label="fields"
        )
        for name in hostile:
            body[name] = draw(_typed(properties[name], name), label=name)
        # A lone surrogate as the escape \udxxx, or as the three bytes UTF-8 would give it.
        escape = draw(st.booleans(), label="as escapes")
        assert send(op, body, draw, escape) < 500

    failures += _fuzz_each(operations, 6, random)
    assert not failures, "\n".join(failures)


# --- pages -------------------------------------------------------------------------------------


def _page_names_read_from_get():
    """The GET parameters the pages read (request.GET.get("…")), and the filters their forms carry."""
    names = set()
    for source in SRC.rglob("*.py"):
        names.update(re.findall(r"""GET(?:\.get\(|\[)\s*["'](\w+)["']""", source.read_text(encoding="utf-8")))
    return sorted(
        names
        | {
            "date_from",
            "date_to",
            "user",
            "object_type",
            "urgency",
            "order",
            "page",
            "q",
            "start",
            "end",
            "at",
            "since",
            "until",
            "date__year",
            "date__month",
            "date__day",
        }
    )


def _page_paths(world):
    """Every named page of the site (not the admin, not the API), with real ids in its path."""
    real = {
        "cases": {"number": world.cases.dispatched.number, "action": "respond"},
        "emergency": {"number": world.emergency.number, "pk": world.check.pk if world.check else 1},
        "hall": {"number": world.application.number, "code": "11010500100001"},
        "participation": {"pk": world.proposal.pk},
        "registry": {"pk": world.person.pk, "kind": "persons"},
        "duties": {"code": "JD-001"},
        "evaluation": {"code": "response_rate"},
        "geo": {"code": world.street.grids[0].code},
        "open311": {"code": "010101", "number": world.cases.resolved.number, "fmt": "json"},
    }

    paths = []
    for page in urlwalk.pages():
        name, namespace, pattern = page.name, page.namespace, page.pattern
        if name in ("web:logout", "media"):
            continue
        kwargs = {}
        for key, converter in getattr(pattern.pattern, "converters", {}).items():
            known = real.get(namespace, {}).get(key)
            kwargs[key] = known if known is not None else (1 if type(converter).__name__ == "IntConverter" else "x")
        for key in re.findall(r"\(\?P<(\w+)>", str(pattern.pattern)):
            kwargs.setdefault(key, real.get(namespace, {}).get(key, "x"))
        paths.append(reverse(name, kwargs=kwargs))
    return paths


@pytest.mark.parametrize("role", ["leader", "anonymous"])
def test_page_query_parameters_never_answer_a_server_error(client, world, role):
    if role != "anonymous":
        client.force_login(getattr(world.users, role))
    pages = _page_paths(world)
    assert len(pages) > 100
    names = _page_names_read_from_get()

    def get(page, query):
        return client.get(f"{page}?{query}").status_code

    # The edges: the n-th edge of its kind in every parameter a page reads, n by n.
    columns = range(max(len(edges) for edges in inputs.EDGES.values()) if role != "anonymous" else 2)
    edges = [
        (page, inputs.query_string({name: inputs.edges_for(name)[n % len(inputs.edges_for(name))] for name in names}))
        for page in pages
        for n in columns
    ]
    failures = _sweep(edges, lambda case: get(*case))

    def random(page, draw):
        chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True), label="names")
        query = inputs.query_string({name: draw(inputs.value_for(name), label=name) for name in chosen})
        if draw(st.integers(0, 9), label="raw bytes") == 0:
            query += "&%FF%FE=%C0%80&q=%ED%A0%80"  # bytes that are no UTF-8 at all
        assert get(page, query) < 500

    failures += _fuzz_each(pages, 2 if role != "anonymous" else 1, random)
    assert not failures, "\n".join(failures)


# --- the main forms ----------------------------------------------------------------------------

FORMS = [  # (who, the page with the form, the form's action)
    ("anonymous", "/portal/", "/portal/"),
    ("resident", "/portal/", "/portal/"),
    ("operator", "/cases/intake/", "/cases/intake/"),
    ("resident", "/participation/propose/", "/participation/propose/"),
    ("resident", "/hall/items/11010500100001/apply/", "/hall/items/11010500100001/apply/"),
    ("operator", "/hall/window/accept/11010500100001/", "/hall/window/accept/11010500100001/"),
    ("resident", "/hall/items/11010500100001/", "/hall/items/11010500100001/book/"),
]
# What a person would type, so that the hostile fields beside it reach the code behind the form.
PLAUSIBLE_FIELDS = {
    "description": "楼下垃圾桶满了没人清运",
    "title": "楼道加装扶手",
    "body": "老人上下楼不方便",
    "name": "赵强",
    "id_number": "110105196503034321",
    "phone": "13900002222",
    "reporter_phone": "13900002222",
    "lat": "39.905",
    "lng": "116.405",
}


@pytest.mark.parametrize("role, page, action", FORMS)
def test_the_main_forms_never_answer_a_server_error(client, world, role, page, action):
    if role != "anonymous":
        client.force_login(getattr(world.users, role))
    response = client.get(page)
    assert response.status_code == 200, page
    form = next(f for f in post_forms(response.content.decode(), page) if f.action == action)
    fields = sorted(name for name in form.fields if name != "csrfmiddlewaretoken")
    baseline = {**form.fields, **{k: v for k, v in PLAUSIBLE_FIELDS.items() if k in form.fields}}

    def post(values):
        return client.generic(
            "POST", action, inputs.form_body(values), content_type="application/x-www-form-urlencoded"
        ).status_code

    failures = _sweep(
        [(name, edge) for name in fields for edge in inputs.edges_for(name)],
        lambda case: post({**baseline, case[0]: case[1]}),
    )

    def random(_action, draw):
        hostile = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3, unique=True), label="fields")
        assert post({**baseline, **{name: draw(inputs.value_for(name), label=name) for name in hostile}}) < 500

    failures += _fuzz_each([action], 30, random)
    assert not failures, "\n".join(failures)


# --- every form of every page --------------------------------------------------------------------


def _typed_in(name, form):
    """What a person would type into an empty field, by its kind (or the first choice offered)."""
    offered = [choice for choice in form.choices.get(name, []) if choice]
    if offered:
        return offered[0]
    soon = dt.date.today() + dt.timedelta(days=3)
    return {
        "date": soon.isoformat() + ("T10:00" if name.endswith("_at") else ""),
        "month": f"{soon:%Y-%m}",
        "year": str(soon.year),
        "number": "2",
        "cursor": "",
    }.get(inputs.kind_of(name), "东湖路1号楼门口")


# Who opens the pages: between them they see every form of the site (the window, the desk of a
# community's committee, a unit's case actions, a grid worker's reports, a resident's own).
FORM_ROLES = ("admin", "leader", "handler", "handler_committee", "grid", "resident")
NOT_FORMS_TO_FUZZ = ("/logout/", "/elderly/", "/i18n/setlang/")


def _forms_of_the_site(client, world, role):
    forms = {}
    for page in _page_paths(world):
        if page.endswith((".xlsx", ".pdf", ".json", ".csv", ".xml")) or page in ("/healthz", "/metrics"):
            continue
        response = client.get(page)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for form in post_forms(response.content.decode(), page):
            if form.action not in NOT_FORMS_TO_FUZZ:
                forms.setdefault((form.action, tuple(sorted(form.fields))), form)
    return list(forms.values())


@pytest.mark.parametrize("role", FORM_ROLES)
def test_every_form_of_the_site_never_answers_a_server_error(client, world, role):
    """Each field the person can type into, one at a time, set to the sharpest edges of its kind
    while the others hold what a person would fill in (hidden choices such as ``op`` as the page
    gave them)."""
    client.force_login(getattr(world.users, role))
    forms = _forms_of_the_site(client, world, role)
    assert forms
    for form in forms:
        form.fields.update(
            {
                name: _typed_in(name, form)
                for name, value in form.fields.items()
                if not value and name not in form.hidden
            }
        )

    def post(form, values):
        client.force_login(getattr(world.users, role))  # a sign-in form may have signed the person out
        return client.generic(
            "POST", form.action, inputs.form_body(values), content_type="application/x-www-form-urlencoded"
        ).status_code

    cases = [
        (form, name, edge)
        for form in forms
        for name in form.fields
        if name != "csrfmiddlewaretoken" and name not in form.hidden
        for edge in inputs.sharp_edges_for(name)
    ]
    failures = _sweep(cases, lambda case: post(case[0], {**case[0].fields, case[1]: case[2]}))
    assert not failures, "\n".join(failures)
