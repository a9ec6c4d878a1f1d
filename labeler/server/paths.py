"""Where the local server keeps its state: everything lives under one directory, ``$LABELER_HOME``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def labeler_home() -> Path:
    """``$LABELER_HOME``, else ``$XDG_DATA_HOME/labeler``, else ``~/.local/share/labeler``."""
    if os.environ.get("LABELER_HOME"):
        return Path(os.environ["LABELER_HOME"]).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return (Path(base) / "labeler").resolve()


@dataclass(frozen=True)
class ServerPaths:
    """The files of one local server installation."""

    home: Path

    @property
    def root(self) -> Path:
        return self.home / "server"

    @property
    def database(self) -> Path:
        return self.root / "argilla.db"

    @property
    def search_index(self) -> Path:
        return self.root / "search.db"

    @property
    def redis_dir(self) -> Path:
        return self.root / "redis"

    @property
    def redis_socket(self) -> Path:
        return self.redis_dir / "redis.sock"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def state_file(self) -> Path:
        """Host, port and the PIDs of the processes this installation started."""
        return self.root / "state.json"

    @property
    def credentials_file(self) -> Path:
        return self.home / "credentials.json"

    @property
    def lock_file(self) -> Path:
        return self.root / "server.lock"

    def log_file(self, process: str) -> Path:
        return self.logs / f"{process}.log"

    @classmethod
    def default(cls) -> "ServerPaths":
        return cls(labeler_home())
