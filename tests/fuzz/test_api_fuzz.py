"""The whole OpenAPI schema fuzzed with schemathesis: generated requests to every operation, as
a street leader, an operator and a resident (and signed out, for the operations that need no
user), must never get a server error (5xx) nor a response that breaks the schema the API
publishes. Requests are both valid by the schema and invalid by it, with made-up path
parameters and with the ids of real records (so that they reach the code behind the look-up).
The Open311 surface, which has no OpenAPI schema, is fuzzed with hypothesis directly."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from .conftest import bearer_token, path_values

ROLES = ("leader", "operator", "resident")
# Examples per operation and role: 3 roles × ~85 operations × EXAMPLES requests (about 2 minutes).
EXAMPLES = 20


def _strategy(operation, real):
    made_up = [operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE)]
    if not real:
        return st.one_of(made_up)
    return st.one_of(
        operation.as_strategy(path_parameters=real),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=real),
        *made_up,
    )


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_no_operation_answers_a_server_error_or_breaks_its_schema(world, role, wsgi_in_the_test_transaction):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    user = getattr(world.users, role, None)
    failures, tried = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if user is None and operation.definition.raw.get("security"):
            continue  # signed out, these answer 401 (tests/fuzz/test_permissions.py)
        # A fresh token for each operation: one of them revokes the token it is called with.
        headers = {"Authorization": f"Bearer {bearer_token(user)}"} if user else {}

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=_strategy(operation, path_values(world, operation.path)))
        def call(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

        tried += 1
        try:
            call()
        except (Exception, BaseExceptionGroup) as failure:  # collect every operation's failure, report them together
            failures.append(f"{operation.label}: {str(failure)[:1500]}")
    assert tried > (50 if user else 8)
    assert failures == [], "\n\n".join(failures)


def test_no_two_api_schemas_share_a_name():
    """The OpenAPI document names its schemas by class name: two classes of one name in different
    apps would silently publish one app's schema for the other's operations."""
    import inspect
    import sys
    from collections import defaultdict

    import ninja

    import jiedao.api  # noqa: F401  (loads every app's router)

    modules = defaultdict(set)
    for name, module in list(sys.modules.items()):
        if name.startswith("jiedao.") and name.rsplit(".", 1)[-1] in {"api", "schemas"}:
            for _attr, obj in vars(module).items():
                if inspect.isclass(obj) and issubclass(obj, ninja.Schema) and obj.__module__ == name:
                    modules[obj.__name__].add(name)
    assert {n: sorted(m) for n, m in modules.items() if len(m) > 1} == {}


OPEN311_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
OPEN311_PARAMS = st.dictionaries(
    st.sampled_from(
        [
            "api_key",
            "service_code",
            "description",
            "lat",
            "long",
            "address_string",
            "email",
            "phone",
            "media_url",
            "service_request_id",
            "status",
            "start_date",
            "end_date",
            "attribute[x]",
            "jurisdiction_id",
            "account_id",
            "first_name",
            "device_id",
        ]
    ),
    OPEN311_TEXT,
    max_size=8,
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(
        [
            "requests",
            "services",
            "servicerequestupdates",
            "discovery",
            "tokens/x",
            "requests/JD2026010100001",
            "services/010101",
        ]
    ),
    fmt=st.sampled_from(["json", "xml"]),
    method=st.sampled_from(["GET", "POST"]),
    params=OPEN311_PARAMS,
)
def test_open311_answers_every_request_without_a_server_error(client, path, fmt, method, params):
    prefix = "/open311/" if path == "discovery" else "/open311/v2/"
    url = f"{prefix}{path}.{fmt}"
    response = client.get(url, params) if method == "GET" else client.post(url, params)
    assert response.status_code < 500, (url, method, params, response.content[:300])
