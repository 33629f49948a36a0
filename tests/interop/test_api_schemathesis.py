"""Schemathesis against the admin API's OpenAPI document, on a Hookline of its own (scripts/interop starts it
on a database of its own: the run revokes, deletes and rewrites whatever it finds)."""

import json
import os
import subprocess
import sys
import time

import httpx

from api_support import HERE, MAP_STEPS, ok
from conftest import FIGURES, FUZZ_BASE_URL, FUZZ_DATABASE_URL, hookline, mint_token


# Schemathesis, on a server of its own


def seed_fuzz_server(token: str):
    """Gives the fuzzing server something to find (stateful testing follows IDs from list answers): an account
    with an active and a stopped cycle, each with a webhook that signs nothing and one that signs (github), an
    MCP server offering both, and jobs that wait (available or held: that server has no workers)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{FUZZ_BASE_URL}/api/v1", headers=headers, timeout=30) as fuzz:
        account = ok(fuzz.post("/accounts", json={"name": "Fuzzed"}), 201)["id"]
        cycles = []
        for name in ("orders", "parked"):
            definition = {"name": name, "steps": MAP_STEPS}
            cycle_id = ok(fuzz.post("/cycles", json={"account_id": account, "definition": definition}), 201)[
                "cycle"]["id"]
            cycles.append(cycle_id)
            webhook = {"account_id": account, "cycle_id": cycle_id}
            ok(fuzz.post("/webhooks", json=webhook | {"auth": "github"}), 201)
            url = FUZZ_BASE_URL + ok(fuzz.post("/webhooks", json=webhook | {"auth": "none"}), 201)["webhook"]["url"]
            if name == "parked":
                ok(fuzz.post(f"/cycles/{cycle_id}/stop"))
            for n in range(3):
                answer = httpx.post(url, json={"n": n}, timeout=30)
                assert answer.status_code == 202, answer.text
        ok(fuzz.post("/mcp-servers", json={"account_id": account, "name": "fuzzed", "cycle_ids": cycles}), 201)


def test_schemathesis_finds_no_failure(tmp_path):
    """Every phase (examples, coverage, fuzzing, stateful through the document's links) with the checks of
    tests/interop/schemathesis.toml: no 5xx, answers that conform to the document (status, media type, headers,
    schema), invalid requests refused, deleted things gone, no operation without authentication. Its summary is
    printed after pytest's."""
    client = hookline("clients", "create", "--console", "--description", "Schemathesis",
                      database_url=FUZZ_DATABASE_URL)
    token = mint_token(client, base_url=FUZZ_BASE_URL)
    seed_fuzz_server(token)
    env = os.environ | {
        "HOOKLINE_FUZZ_TOKEN": token,
        "HOOKLINE_FUZZ_CLIENT_ID": client["client_id"],
        "SCHEMATHESIS_HOOKS": str(HERE / "schemathesis_hooks.py"),
    }
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(HERE / "schemathesis.toml"), "run",
               "--report", "json", "--report-json-path", str(report), f"{FUZZ_BASE_URL}/api/v1/openapi.json"]
    started = time.monotonic()
    # In a directory of its own: whatever Schemathesis or Hypothesis writes lands there.
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    took = time.monotonic() - started
    output = done.stdout + done.stderr
    print(output)  # pytest shows it when the test fails
    summary = output[output.rfind("SUMMARY"):].splitlines()[1:] if "SUMMARY" in output else output.splitlines()[-30:]
    FIGURES.append(f"Schemathesis, {took:.0f} s:")
    FIGURES.extend(f"  {line}" for line in summary
                   if line.strip() and not line.strip().startswith(("Reports:", "- JSON:")))

    assert report.exists(), output
    outcome = json.loads(report.read_text())
    assert not outcome["errors"], output
    found = {(failure["code"], operation) for failure in outcome["failures"] for operation in failure["operations"]}
    details = output[output.find("FAILURES"):] if "FAILURES" in output else output
    assert not found, f"failures {sorted(found)}:\n{details}"
    assert done.returncode == 0, output
