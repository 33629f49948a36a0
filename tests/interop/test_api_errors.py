"""The admin API's error statuses, on the main server: those of every operation, generically (401, 400, 404),
the 422s with their JSON Pointers, and, after every other test (conftest.py moves it to the end), the check that
every documented (operation, status) pair was reached (the fixtures are api_support.py's)."""

from api_support import (
    BAD_DEFINITION, BAD_DEFINITION_POINTERS, REACHED, UNKNOWN, malformed_requests, ok, pointers, problem, valid_bodies,
)
from conftest import FIGURES, mint_token


# The error statuses of every operation, generically


def test_every_operation_refuses_a_missing_or_account_level_token(document, api, anonymous, resources):
    created = ok(api.post("/clients", json={"scope": "webhook", "account_id": resources.account}), 201)
    account_level = mint_token({"client_id": created["client"]["client_id"], "client_secret": created["client_secret"]})
    for op in document.operations:
        for client, headers in ((anonymous, {}), (api, {"Authorization": f"Bearer {account_level}"})):
            answer = client.request(op.method, op.path(), json={} if op.takes_body else None, headers=headers)
            problem(answer, 401)
            assert answer.headers["www-authenticate"].startswith("Bearer"), op.id


def test_malformed_parameters_and_bodies_are_400(document, api):
    for op in document.listing(400):
        requests = malformed_requests(op)
        assert requests, f"{op.id} lists 400, and none of the malformed requests applies to it"
        for request in requests:
            problem(api.request(op.method, **request), 400)


def test_unknown_ids_are_404(document, api, resources):
    bodies = valid_bodies(resources)
    unknown = UNKNOWN["account_id"]
    # Operations without path parameters whose body names something.
    naming_nothing = {
        "createClient": {"scope": "webhook", "account_id": unknown},
        "createWebhook": {"account_id": resources.account, "cycle_id": unknown, "auth": "none"},
        "createCycle": {"account_id": unknown, "definition": {"name": "nowhere", "steps": []}},
        "createMCPServer": {"account_id": resources.account, "name": "nowhere", "cycle_ids": [unknown]},
    }
    for op in document.listing(404):
        headers = {"If-Match": '"1"'} if op.id == "updateCycle" else {}
        if op.parameters("path"):
            body = bodies.get(op.id) if op.takes_body else None
        else:
            body = naming_nothing[op.id]
        problem(api.request(op.method, op.path(), json=body, headers=headers), 404)


def test_invalid_bodies_are_422_with_a_json_pointer_to_each_problem(api, resources):
    account, cycle = resources.account, resources.cycles["orders"]
    github = ok(api.post("/webhooks", json={"account_id": account, "cycle_id": cycle, "auth": "github"}), 201)
    server = ok(api.post("/mcp-servers", json={"account_id": account, "name": "pointers", "cycle_ids": [cycle]}), 201)
    cases = [
        ("POST", "/accounts", {"name": ""}, {"/name"}),
        ("POST", "/accounts", {}, {"/name"}),
        ("POST", "/clients", {"scope": "webhook"}, {"/account_id"}),
        ("POST", "/clients", {"scope": "api", "token_lifetime_minutes": 0}, {"/token_lifetime_minutes"}),
        ("POST", "/webhooks", {"account_id": "nope", "cycle_id": cycle, "auth": "none"}, {"/account_id"}),
        ("POST", "/webhooks", {"account_id": account, "cycle_id": cycle, "auth": "none", "allow_ips": ["nope"]},
         {"/allow_ips"}),
        ("POST", f"/webhooks/{github['webhook']['id']}/rotate-secret", {"grace_seconds": -1}, {"/grace_seconds"}),
        ("POST", "/cycles", {"account_id": account, "definition": BAD_DEFINITION}, BAD_DEFINITION_POINTERS),
        ("PUT", f"/cycles/{cycle}", {"definition": BAD_DEFINITION}, BAD_DEFINITION_POINTERS),
        ("POST", "/mcp-servers", {"account_id": account, "name": "none", "cycle_ids": []}, {"/cycle_ids"}),
        ("PATCH", f"/mcp-servers/{server['id']}", {"name": ""}, {"/name"}),
        # Checked against the document's schema before anything runs: every problem, each at its member.
        ("POST", "/accounts", {"name": "a" * 201}, {"/name"}),
        ("POST", "/clients", {"scope": "api", "token_lifetime_minutes": None, "description": 5},
         {"/token_lifetime_minutes", "/description"}),
        ("POST", "/jobs/1/retry", {"from_start": "yes"}, {"/from_start"}),
        ("POST", "/jobs/retry", {"state": "completed", "from_start": None, "all": True}, {"/state", "/from_start"}),
    ]
    for method, path, body, expected in cases:
        headers = {"If-Match": "*"} if method == "PUT" else {}
        answer = api.request(method, path, json=body, headers=headers)
        assert pointers(answer) == expected, f"{method} {path} {body}: {answer.text}"


def test_every_documented_status_was_reached(document):
    """The (operation, status) pairs the other API tests reached are exactly those the document lists (this test
    comes last, conftest.py moves it to the end of the run: it needs the others to have run). The differences are
    printed after pytest's summary."""
    documented = document.documented()
    gaps = {("never reached", *pair) for pair in documented - REACHED}
    gaps |= {("not documented", *pair) for pair in REACHED - documented}
    lines = [f"{how}: {method} {path} {status}" for how, method, path, status in sorted(gaps)]
    FIGURES.append(f"admin API: {len(documented & REACHED)} of the {len(documented)} documented (operation, status)"
                   f" pairs reached, {len(REACHED - documented)} undocumented ones")
    FIGURES.extend(f"  {line}" for line in lines)
    assert not gaps, "\n".join(lines)
