"""Fixtures for the server-limits suite: each test starts its own eddy with
the flags under test (connection cap, body budget, idle timeout, fd limit,
a small disk), so one test's abuse never leaks into another.

These tests are about the HTTP front and the store, not a protocol: they
run once (scripts/test.sh), not once per SDK generation.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

import importlib.util

# The SDK suite's server harness, loaded under another name (both files are "conftest").
_spec = importlib.util.spec_from_file_location("sdk_conftest", Path(__file__).resolve().parents[1] / "sdk" / "conftest.py")
_sdk = importlib.util.module_from_spec(_spec)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sdk"))
_spec.loader.exec_module(_sdk)
REPO, EddyServer, _free_port = _sdk.REPO, _sdk.EddyServer, _sdk._free_port


def binary() -> str:
    return os.environ.get("EDDY_BIN", str(REPO / "target" / "release" / "eddy"))


@pytest.fixture
def spawn():
    """spawn(*flags, data_dir=None, preexec_fn=None) -> a started EddyServer; all are stopped after the test."""
    servers: list[EddyServer] = []
    tmps: list[Path] = []

    def start(*flags, data_dir: Path | None = None, preexec_fn=None) -> EddyServer:
        tmp = Path(tempfile.mkdtemp(prefix="eddy-server-"))
        tmps.append(tmp)
        server = EddyServer(binary(), data_dir or tmp / "data", _free_port(), tmp / "eddy.log", flags, preexec_fn)
        servers.append(server)
        server.start()
        return server

    yield start
    for s in servers:
        s.kill()
    for t in tmps:
        shutil.rmtree(t, ignore_errors=True)


def client(service: str, endpoint: str, retries: int = 0, timeout: float = 10):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": retries + 1, "mode": "standard"}, read_timeout=timeout,
                      connect_timeout=timeout),
    )


def rss_mib(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ------------------------------------------------------------------ figures
# The abuse run (scripts/abuse.sh) prints what these tests measured, so the
# README's figures come from the same code that guards them.

FIGURES: list[tuple[str, str]] = []


@pytest.fixture
def figure():
    """figure(name, value): record a measured figure for the end-of-run table."""
    def record(name: str, value: str) -> None:
        FIGURES.append((name, value))
    return record


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("figures measured under abuse")
    width = max(len(n) for n, _ in FIGURES)
    for name, value in FIGURES:
        terminalreporter.write_line(f"{name.ljust(width)}  {value}")
