"""Shared fixtures: the real local Argilla server (one per test session), paths to the shared data sets."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = (REPO / ".." / "shared" / "datasets").resolve()


def shared_dataset(name: str) -> Path:
    """Path of a shared data set, or skip the test with the reason when ../shared is absent."""
    path = SHARED_DATASETS / name
    if not path.exists():
        pytest.skip(f"shared data set {name!r} not found at {path} (../shared is absent in this checkout)")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalServer:
    url: str
    api_key: str
    username: str
    password: str
    home: Path
    port: int


@pytest.fixture(scope="session")
def argilla_server(tmp_path_factory) -> LocalServer:
    """The real argilla-server 2.8 with labeler's SQLite search engine, in a temp home on a free port.

    ``LABELER_HOME`` points at that home for the whole session, so labeler's clients find it the way
    they find a user's local server.
    """
    from labeler.server import process
    from labeler.server.paths import ServerPaths

    home = tmp_path_factory.mktemp("labeler-home")
    old_home = os.environ.get("LABELER_HOME")
    os.environ["LABELER_HOME"] = str(home)
    paths = ServerPaths(home)
    port = free_port()
    result = process.start(paths, port=port)
    try:
        yield LocalServer(
            url=result.url,
            api_key=result.credentials.api_key,
            username=result.credentials.username,
            password=result.credentials.password,
            home=home,
            port=port,
        )
    finally:
        process.stop(paths)
        if old_home is None:
            os.environ.pop("LABELER_HOME", None)
        else:
            os.environ["LABELER_HOME"] = old_home


@pytest.fixture(scope="session")
def argilla_client(argilla_server):
    import argilla as rg

    return rg.Argilla(api_url=argilla_server.url, api_key=argilla_server.api_key)
