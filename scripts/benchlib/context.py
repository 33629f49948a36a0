"""The run's shared state, one object passed to every function that needs it."""
import argparse
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Bench:
    args: argparse.Namespace  # the command line
    url: str  # DATABASE_URL
    hookline: str  # the hookline executable (--hookline)
    env: dict  # the environment every hookline process runs with
    work_dir: str  # a fresh temporary directory: the children's logs, the scripts for pgbench and wrk
    children: list = field(default_factory=list)  # every process start() started
    results: dict = field(default_factory=dict)  # the figures, in the order measured (the table's order)
    # Set by fixture.prepare(), then read by the phases.
    account: Optional[str] = None
    cycle: Optional[str] = None
    webhook: Optional[str] = None
    port: Optional[int] = None  # hookline serve's
    serve: Optional[subprocess.Popen] = None
    base: Optional[str] = None  # hookline serve's URL
    token: Optional[str] = None  # a bearer token for the webhook
    body: Optional[str] = None  # the 1 KB JSON body every webhook sends
    lua: Optional[str] = None  # wrk's script: POST the body with the token


def note(text):
    print(f"bench: {text}", file=sys.stderr, flush=True)
