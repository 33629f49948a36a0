"""Schemathesis hooks of test_api.py's fuzzing run, loaded through SCHEMATHESIS_HOOKS (not a test module)."""

import os

import schemathesis

# The console-level client whose token the run uses.
OWN_CLIENT_ID = os.environ["HOOKLINE_FUZZ_CLIENT_ID"]


@schemathesis.hook
def before_call(context, case, kwargs):
    """Aims POST /clients/{client_id}/revoke at an unknown client instead of the run's own: stateful testing
    finds every client ID in GET /clients, and once its own client is revoked every later request is 401."""
    if case.operation.path == "/clients/{client_id}/revoke" and (case.path_parameters or {}).get(
        "client_id"
    ) == OWN_CLIENT_ID:
        case.path_parameters["client_id"] = "hlc_not-the-run-s-own"
