"""The Content-Security-Policy header is built once per process: every answer still carries the
policy the settings give, a change of the settings shows at the next answer, and an answer with
a policy of its own keeps it."""

from csp.constants import HEADER
from csp.utils import build_policy


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


def test_pages_and_api_answers_carry_the_policy_of_the_settings(client, street):
    expected = directives(build_policy())
    assert directives(client.get("/portal/")[HEADER]) == expected
    assert directives(client.get("/api/v1/me")[HEADER]) == expected  # 401, still with the policy
    assert directives(client.get("/portal/")[HEADER]) == expected  # and again, from the built copy


def test_a_changed_policy_is_sent_at_the_next_answer(client, street, settings):
    assert "https://tiles.example.cn" not in client.get("/portal/")[HEADER]
    policy = dict(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"] = {**policy["DIRECTIVES"], "img-src": ["'self'", "https://tiles.example.cn"]}
    settings.CONTENT_SECURITY_POLICY = policy
    assert directives(client.get("/portal/")[HEADER])["img-src"] == "'self' https://tiles.example.cn"


def test_the_excluded_api_documentation_gets_no_policy(client, street):
    assert HEADER not in client.get("/api/v1/docs")
