"""The whole OpenAPI schema fuzzed with schemathesis: generated requests to every operation, as
a signed-in street leader, must never get a server error (5xx) nor a response that breaks the
schema the API publishes. The Open311 surface, which has no OpenAPI schema, is fuzzed with
hypothesis directly."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from jiedao.org import services as org_services

EXAMPLES = 12


@pytest.fixture
def leader_token(street):
    """A bearer token of the street leader, issued without the sign-in endpoint (no password needed)."""
    import secrets

    from django.utils import timezone

    from jiedao.org.models import ApiToken

    plain = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=street.users.leader, key_hash=org_services.hash_token(plain),
                            expires_at=timezone.now() + org_services.token_lifetime())
    return plain


@pytest.fixture
def wsgi_in_the_test_transaction():
    """schemathesis calls the WSGI application directly; like Django's own test client, keep the
    request signals from closing the test's database connection (and its transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_no_operation_answers_a_server_error_or_breaks_its_schema(street, leader_token, wsgi_in_the_test_transaction):
    from django.core.wsgi import get_wsgi_application

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    headers = {"Authorization": f"Bearer {leader_token}"}
    failures, tried = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

        tried += 1
        try:
            call()
        except (Exception, BaseExceptionGroup) as failure:  # collect every operation's failure, report them together
            failures.append(f"{operation.label}: {str(failure)[:1500]}")
    assert tried > 50
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
            for attr, obj in vars(module).items():
                if inspect.isclass(obj) and issubclass(obj, ninja.Schema) and obj.__module__ == name:
                    modules[obj.__name__].add(name)
    assert {n: sorted(m) for n, m in modules.items() if len(m) > 1} == {}


OPEN311_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
OPEN311_PARAMS = st.dictionaries(
    st.sampled_from(["api_key", "service_code", "description", "lat", "long", "address_string", "email",
                     "phone", "media_url", "service_request_id", "status", "start_date", "end_date",
                     "attribute[x]", "jurisdiction_id", "account_id", "first_name", "device_id"]),
    OPEN311_TEXT, max_size=8)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(["requests", "services", "servicerequestupdates", "discovery", "tokens/x",
                             "requests/JD2026010100001", "services/010101"]),
       fmt=st.sampled_from(["json", "xml"]), method=st.sampled_from(["GET", "POST"]), params=OPEN311_PARAMS)
def test_open311_answers_every_request_without_a_server_error(client, path, fmt, method, params):
    prefix = "/open311/" if path == "discovery" else "/open311/v2/"
    url = f"{prefix}{path}.{fmt}"
    response = client.get(url, params) if method == "GET" else client.post(url, params)
    assert response.status_code < 500, (url, method, params, response.content[:300])
