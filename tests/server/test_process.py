"""Process management of the local server: idempotent start, stale PIDs, ports, stop, credentials, file modes."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time

import httpx
import pytest

from labeler.errors import LabelerError
from labeler.server import permissions, process
from labeler.server.paths import ServerPaths
from tests.conftest import free_port


def _me(url, key):
    return httpx.get(f"{url}/api/v1/me", headers={"X-Argilla-Api-Key": key}, timeout=10)


@pytest.mark.slow
@pytest.mark.server
def test_start_is_idempotent_survives_crash_and_keeps_data(tmp_path):
    paths = ServerPaths(tmp_path / "home")
    port = free_port()
    first = process.start(paths, port=port)
    try:
        assert first.new_credentials and not first.already_running
        creds = first.credentials
        assert creds.password != "1234" and creds.api_key != "argilla.apikey" and len(creds.password) >= 12
        assert stat.S_IMODE(os.stat(paths.credentials_file).st_mode) == 0o600
        assert _me(first.url, creds.api_key).json()["username"] == "argilla"
        assert _me(first.url, "wrong-key").status_code == 401

        again = process.start(paths, port=port)
        assert again.already_running and again.url == first.url and not again.new_credentials

        # Data written now must survive a crash of every process.
        headers = {"X-Argilla-Api-Key": creds.api_key}
        resp = httpx.post(f"{first.url}/api/v1/workspaces", json={"name": "survivor"}, headers=headers, timeout=10)
        assert resp.status_code == 201, resp.text

        state = json.loads(paths.state_file.read_text())
        for info in state["processes"].values():
            os.kill(info["pid"], signal.SIGKILL)
        time.sleep(1)
        st = process.status(paths)
        assert not st.running and not st.healthy and "stale" in st.detail

        restarted = process.start(paths, port=port)
        assert restarted.cleaned_stale and not restarted.already_running and not restarted.new_credentials
        assert process.status(paths).healthy
        names = [w["name"] for w in httpx.get(f"{first.url}/api/v1/me/workspaces", headers=headers).json()["items"]]
        assert "survivor" in names
        # a browser session signed before the crash stays valid: the auth secret is fixed
        assert restarted.credentials.auth_secret == creds.auth_secret
    finally:
        stopped = process.stop(paths)
    assert stopped == ["worker", "api", "redis"]
    assert not paths.state_file.exists()
    assert process.status(paths).detail == "not started"
    with pytest.raises(httpx.HTTPError):
        _me(first.url, creds.api_key)


def test_port_in_use_is_a_one_line_error_naming_the_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(LabelerError) as err:
            process.start(ServerPaths(tmp_path / "home"), port=port)
    message = str(err.value)
    assert f"port {port}" in message and "\n" not in message
    assert not (tmp_path / "home" / "server" / "state.json").exists()


def test_stop_never_kills_a_process_it_did_not_start(tmp_path):
    """A stale state file whose PID now belongs to an unrelated process: stop leaves it alone."""
    paths = ServerPaths(tmp_path / "home")
    paths.root.mkdir(parents=True)
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import psutil

        ctime = psutil.Process(bystander.pid).create_time()
        state = process.ServerState("127.0.0.1", 6900, {"api": process.ProcessInfo(bystander.pid, ctime)})
        paths.state_file.write_text(state.to_json())
        assert process.stop(paths) == []
        assert bystander.poll() is None
        assert not paths.state_file.exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_status_without_a_server_and_cli_exit_codes(tmp_path):
    env = dict(os.environ, LABELER_HOME=str(tmp_path / "home"))
    out = subprocess.run([sys.executable, "-m", "labeler.cli.__main__", "server", "status"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "not started" in out.stdout


def test_help_is_fast_and_imports_nothing_heavy():
    code = "import sys, time; t=time.time(); from labeler.cli import cli; " \
           "heavy=[m for m in ('torch','argilla','argilla_server','transformers','numpy') if m in sys.modules]; print(heavy)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]"
    help_ = subprocess.run([sys.executable, "-m", "labeler.cli.__main__", "--help"], capture_output=True, text=True)
    assert "server" in help_.stdout


@pytest.mark.slow
@pytest.mark.server
def test_everything_under_the_home_is_private_after_start_and_after_writes(tmp_path):
    """Folders 0700, files 0600 (databases, WAL / SHM, search index, logs, Redis' files), for an install whose
    files an older version left world-readable too."""
    import argilla as rg

    paths = ServerPaths(tmp_path / "home")
    paths.logs.mkdir(parents=True)  # an existing install, made before the files were private
    os.chmod(paths.home, 0o755)
    os.chmod(paths.root, 0o755)
    paths.log_file("api").write_text("an old log line\n")
    os.chmod(paths.log_file("api"), 0o644)
    (paths.root / "argilla.db").write_bytes(b"")  # argilla-server migrates an empty file
    os.chmod(paths.root / "argilla.db", 0o666)
    assert len(permissions.loose_entries(paths.home)) == 5

    started = process.start(paths, port=free_port())
    try:
        assert permissions.loose_entries(paths.home) == []
        client = rg.Argilla(api_url=started.url, api_key=started.credentials.api_key)
        settings = rg.Settings(fields=[rg.TextField(name="text")], questions=[rg.LabelQuestion(name="y", labels=["a", "b"])],
                               vectors=[rg.VectorField(name="v", dimensions=2)])
        dataset = rg.Dataset(name="modes", workspace="argilla", settings=settings, client=client).create()
        dataset.records.log([rg.Record(id=f"r{i}", fields={"text": f"text {i}"}, vectors={"v": [1.0, float(i)]})
                             for i in range(20)])
        assert len(list(dataset.records(query=rg.Query(query="text")))) == 20  # the search index was written
        written = {p.name for p in paths.root.iterdir()}
        assert {"argilla.db", "argilla.db-wal", "argilla.db-shm", "search.db", "state.json"} <= written
        assert permissions.loose_entries(paths.home) == []
    finally:
        process.stop(paths)
    assert (paths.redis_dir / "dump.rdb").exists()  # Redis saves on shutdown
    assert permissions.loose_entries(paths.home) == []
    modes = {str(p.relative_to(paths.home)): stat.S_IMODE(os.lstat(p).st_mode) for p in paths.home.rglob("*")
             if p.is_dir() or p.is_file()}
    assert modes["server"] == modes["server/logs"] == modes["server/redis"] == 0o700
    assert modes["credentials.json"] == modes["server/argilla.db"] == modes["server/logs/api.log"] == 0o600
    assert modes["server/redis/dump.rdb"] == modes["server/search.db"] == 0o600
    assert stat.S_IMODE(os.stat(paths.home).st_mode) == 0o700


def test_make_private_repairs_modes_and_leaves_links_alone(tmp_path):
    home = tmp_path / "home"
    (home / "a" / "b").mkdir(parents=True)
    (home / "a" / "b" / "f").write_text("x")
    outside = tmp_path / "outside.txt"
    outside.write_text("y")
    os.chmod(outside, 0o644)
    (home / "link").symlink_to(outside)
    for path, mode in [(home, 0o755), (home / "a", 0o775), (home / "a" / "b", 0o711), (home / "a" / "b" / "f", 0o664)]:
        os.chmod(path, mode)
    assert permissions.loose_entries(home) == ["664 a/b/f", "711 a/b", "755 .", "775 a"]
    assert permissions.make_private(home) == 4
    assert permissions.loose_entries(home) == [] and permissions.make_private(home) == 0
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o644  # the link's target is not ours to change
