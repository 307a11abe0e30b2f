"""Every write, tried by every role: the answers come from the permission table alone.

Every API operation that writes (POST, PUT, PATCH or DELETE in the OpenAPI document) and
every page that accepts a POST declares its actions with ``org.permissions.permission``.
Each is tried signed out and as each of the nine roles (a real user per role, API calls
with a real token) with an empty body. A role the table refuses must get 403 — signed
out: 401 from the API, the sign-in page (or 403) from a page — and a role it allows must
get anything else but a server error: the refusal comes before the body is read or the
object is looked up. A new write that declares nothing fails here."""

import inspect
import re

import pytest
from django.core.cache import caches
from django.db import transaction
from django.test import Client, override_settings

from jiedao.cases import states as case_states
from jiedao.emergency import states as emergency_states
from jiedao.evaluation import states as evaluation_states
from jiedao.hall import states as hall_states
from jiedao.open311 import services as open311_services
from jiedao.org import permissions
from jiedao.org import services as org_services
from jiedao.org.roles import ALL_ROLES
from jiedao.participation import services as participation_services
from tests import urlwalk
from tests.factories import PASSWORD, build_street, make_user

pytestmark = pytest.mark.django_db

WRITES = ("post", "put", "patch", "delete")
# Path parts of the sample requests: nothing named exists, so an allowed role meets a 404 or
# a 422, never a refusal of its role.
SAMPLE = {
    "number": "JD2026010100001",
    "code": "x",
    "fmt": "json",
    "path": "cases/x.png",
    "kind": "persons",
    "key": "x",
    "token": "x",
}
# Django's own views that accept a POST and take no action of the street: the row each stands for.
DJANGO_VIEWS = {"set_language": "site.preferences", "web:login": "account.sign_in", "web:logout": "account.sign_out"}
IDENTITIES = (permissions.ANONYMOUS, *ALL_ROLES)
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as tests/conftest.py sets per test


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One street for the whole module, rolled back at its end: a user per role (the handler
    is a community committee's, which runs that community's participation and registry), the
    resident a member of their community, and an Open311 key."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            street = build_street()
            u = street.users
            district = make_user("district", "district")
            district.district = street.district
            district.save()
            users = {
                "admin": u.admin,
                "operator": u.operator,
                "dispatcher": u.dispatcher,
                "handler": u.handler_committee,
                "grid": u.grid,
                "leader": u.leader,
                "resident": u.resident,
                "evaluator": make_user("evaluator", "evaluator"),
                "district": district,
            }
            participation_services.join_community(u.resident, user=u.resident, community=street.communities[0])
            _key, open311_key = open311_services.create_key("权限矩阵")
            yield {"users": users, "open311_key": open311_key}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def expected(who, actions):
    """Whether the table lets ``who`` (a role, or ANONYMOUS) take one of ``actions``."""
    return any(who in permissions.roles_of(action) for action in actions)


def concrete(declared):
    """The declared names with URL parts filled in: [(url parts, [actions])]. A name with a
    part stands for every row of the table it can name, each tried on its own URL."""
    plain = [name for name in declared if "{" not in name]
    out = [({}, plain)] if plain else []
    for name in declared:
        fields = re.findall(r"{(\w+)}", name)
        if not fields:
            continue
        prefix = name.split("{")[0]
        actions = permissions.templates().get(name, [])
        assert actions, f"{name} stands for no row of the permission table"
        out += [({fields[0]: action[len(prefix) :]}, [action]) for action in actions]
    return out


# --- the API --------------------------------------------------------------------------------


def api_writes(client):
    document = client.get("/api/v1/openapi.json").json()
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in WRITES
    ]


def test_every_api_write_declares_its_actions(client, world):
    writes = api_writes(client)
    assert len(writes) > 40
    undeclared = [f"{method.upper()} {path}" for method, path, op in writes if not op.get("x-permission")]
    assert undeclared == []
    for _method, _path, op in writes:
        assert set(op["x-permission"]["roles"]) <= permissions.EVERYONE


def _api_call(world, who, method, url, body):
    client = Client(raise_request_exception=False)
    headers = {}
    if who != permissions.ANONYMOUS:
        plain, _token = org_services.create_token(world["users"][who].username, password=PASSWORD)
        headers["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
    if method == "delete":
        return client.delete(url, **headers)
    return getattr(client, method)(url, body, content_type="application/json", **headers)


# Bodies that are more than empty, where an empty one is a refusal of its own (bad credentials).
BODIES = {("post", "/api/v1/auth/token"): {"username": "admin", "password": PASSWORD}}


@pytest.mark.parametrize("who", IDENTITIES)
def test_api_writes_answer_each_role_as_the_table_says(client, world, who):
    wrong = []
    for method, path, op in api_writes(client):
        for parts, actions in concrete(op["x-permission"]["actions"]):
            url = re.sub(r"{(\w+)}", lambda m: parts.get(m.group(1)) or SAMPLE.get(m.group(1), "1"), path)
            for cache in caches.all():  # each try starts under every rate limit
                cache.clear()
            response = _api_call(world, who, method, url, BODIES.get((method, path), {}))
            if who == permissions.ANONYMOUS and op.get("security"):
                ok = response.status_code == 401
            elif expected(who, actions):
                ok = response.status_code not in (401, 403) and response.status_code < 500
            else:
                ok = response.status_code == (401 if who == permissions.ANONYMOUS else 403)
            if not ok:
                wrong.append(f"{method.upper()} {url} {actions} → {response.status_code}")
    assert wrong == []


# --- the pages ------------------------------------------------------------------------------


def _route(pattern):
    route = str(pattern.pattern)
    if route.startswith("^"):
        route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: "<" + m.group(1) + ">", route)
        route = route.lstrip("^").rstrip("$").replace("\\.", ".")
    return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: ("<int>" if m.group(1) == "int" else "<>") + m.group(2), route)


def _pages():
    """(url name, route with its includes' prefixes, view) of every named page."""
    for page in urlwalk.pages():
        prefix = "".join(_route(include) for include in page.includes)
        yield page.name, "/" + prefix + _route(page.pattern), page.view


def _url(route, parts):
    return re.sub(
        r"<(int)?>(\w+)", lambda m: parts.get(m.group(2)) or ("1" if m.group(1) else SAMPLE.get(m.group(2), "x")), route
    )


def _takes_post(view):
    """Whether a page's code reads a POST: a class with ``post``, or a function whose source
    (decorators included) mentions POST."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return hasattr(view_class, "post")
    return "POST" in inspect.getsource(inspect.unwrap(view))


def write_pages():
    pages = []
    for name, route, view in _pages():
        declared = getattr(view, "permission", None)
        if declared is None and name in DJANGO_VIEWS:
            declared = (DJANGO_VIEWS[name],)
        if declared is not None:
            pages.append((name, route, declared))
    return pages


def test_every_page_that_takes_a_post_declares_its_actions():
    names = {name for name, _route, _view in _pages()}
    assert set(DJANGO_VIEWS) <= names
    undeclared = [
        name
        for name, _route, view in _pages()
        if _takes_post(view) and getattr(view, "permission", None) is None and name not in DJANGO_VIEWS
    ]
    assert undeclared == []
    assert len(write_pages()) > 40


@pytest.mark.parametrize("who", IDENTITIES)
def test_page_posts_answer_each_role_as_the_table_says(world, who):
    client = Client(raise_request_exception=False)
    if who != permissions.ANONYMOUS:
        client.force_login(world["users"][who])
    wrong = []
    for name, route, declared in write_pages():
        if name == "web:logout":
            continue  # signs the client out: tried on its own below
        for parts, actions in concrete(declared):
            url = _url(route, parts)
            for cache in caches.all():
                cache.clear()
            body = {"api_key": world["open311_key"]} if name.startswith("open311:") else {}
            response = client.post(url, body)
            to_sign_in = response.status_code == 302 and "/login/" in response.get("Location", "")
            if expected(who, actions):
                ok = response.status_code not in (401, 403) and response.status_code < 500 and not to_sign_in
            elif who == permissions.ANONYMOUS:
                ok = to_sign_in or response.status_code in (401, 403)
            else:
                ok = response.status_code == 403
            if not ok:
                wrong.append(f"{name} {url} {actions} → {response.status_code} {response.get('Location', '')}")
    assert wrong == []


@pytest.mark.parametrize("who", IDENTITIES)
def test_signing_out_is_open_to_everyone(world, who):
    client = Client(raise_request_exception=False)
    if who != permissions.ANONYMOUS:
        client.force_login(world["users"][who])
    assert expected(who, ["account.sign_out"])
    assert client.post("/logout/").status_code == 302


# --- the table and the lifecycles --------------------------------------------------------------


def test_the_lifecycle_tables_name_the_roles_of_the_permission_table():
    """Each lifecycle keeps who may act on which object (scopes); the table says which roles may
    take the step at all. They must name the same roles."""
    assert case_states.CASE.permission_prefix == "case"
    for t in case_states.TRANSITIONS.values():
        assert t.roles == permissions.roles_of(f"case.{t.action}"), t.action
    assert (None, case_states.PUBLIC) in case_states.TRANSITIONS["rate"].who
    assert permissions.roles_of("public.rate_case") == permissions.EVERYONE
    for lifecycle, prefix in [
        (hall_states.APPLICATIONS, "hall.application"),
        (hall_states.RECTIFICATIONS, "hall"),
        (emergency_states.EMERGENCIES, "emergency.step"),
        (evaluation_states.RECTIFICATIONS, "evaluation.rectification"),
    ]:
        assert lifecycle.permission_prefix == prefix
        for t in lifecycle.transitions.values():
            assert t.roles == permissions.roles_of(f"{prefix}.{t.action}"), t.action
    assert (None, hall_states.PUBLIC) in hall_states.APPLICATIONS.transitions["rate"].who
    assert permissions.roles_of("public.rate_application") == permissions.EVERYONE


def test_read_only_roles_take_no_action_beyond_their_own_account():
    """District users read; evaluators keep only the evaluation's writes."""
    own = {
        "account.sign_in",
        "account.sign_out",
        "account.two_factor",
        "account.notifications",
        "account.message_settings",
        "account.tokens",
        "site.preferences",
        "hall.cancel_booking",
    }
    rows = {
        name: action
        for name, action in permissions.ACTIONS.items()
        if name not in own and not name.startswith("public.")
    }
    assert [name for name, action in rows.items() if "district" in action.roles] == []
    assert {name for name, action in rows.items() if "evaluator" in action.roles} == {
        "evaluation.rectification.issue",
        "evaluation.rectification.approve",
        "evaluation.rectification.reject",
        "evaluation.score",
        "evaluation.scheme",
    }
