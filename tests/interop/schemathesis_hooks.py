"""Schemathesis hooks of the fuzzing run of test_api_schemathesis.py, loaded through SCHEMATHESIS_HOOKS (not a
test module)."""

import os
import uuid

import schemathesis

# The console-level client whose token the run uses.
OWN_CLIENT_ID = os.environ["HOOKLINE_FUZZ_CLIENT_ID"]


@schemathesis.hook
def before_call(context, case, kwargs):
    """Two adjustments before each request.

    A valid Idempotency-Key (1 to 255 bytes) is replaced by a fresh one: generated keys repeat ("0", "00"), and
    a key reused with another body is 422 by design (test_api_flows.py checks it), so creating requests would seldom
    create anything for stateful testing to follow. Invalid keys are sent as generated.

    POST /clients/{client_id}/revoke is aimed at an unknown client rather than the run's own: stateful testing
    finds every client ID in GET /clients, and once its own client is revoked every later request is 401."""
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and 1 <= len(key.encode(errors="surrogatepass")) <= 255:
        case.headers["Idempotency-Key"] = str(uuid.uuid4())
    if case.operation.path == "/clients/{client_id}/revoke" and (case.path_parameters or {}).get(
        "client_id"
    ) == OWN_CLIENT_ID:
        case.path_parameters["client_id"] = "hlc_not-the-run-s-own"
