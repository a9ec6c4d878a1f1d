"""The local server's owner credentials: generated once, stored in a file only its owner can read.

Never Argilla's stock defaults (password ``1234``, key ``argilla.apikey``). Clients in labeler read the URL and
API key from this file when no Argilla URL is configured.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from labeler.errors import LabelerError

USERNAME = "argilla"  # argilla-server's default owner (and workspace) name


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    api_key: str
    auth_secret: str  # signs browser sessions: fixed, so sign-ins survive restarts
    url: str | None = None  # where it was last started
    urls: list[str] | None = None  # every URL it was started on (``labeler server start --port``)

    def serves(self, url: str) -> bool:
        """Whether ``url`` is this local server's: a URL it was started on, with any loopback host name
        (``localhost``, ``127.0.0.1``) and with or without a trailing slash."""
        return _where(url) in {_where(u) for u in [self.url, *(self.urls or [])] if u}

    def __repr__(self) -> str:  # keep secrets out of logs and tracebacks
        return f"Credentials(username={self.username!r}, url={self.url!r}, password=***, api_key=***)"


def generate() -> Credentials:
    return Credentials(
        username=USERNAME,
        password=secrets.token_urlsafe(12),
        api_key="lbl." + secrets.token_urlsafe(24),
        auth_secret=secrets.token_hex(32),
    )


def save(path: Path, creds: Credentials) -> None:
    """Write atomically with mode 0600 from the start (never world-readable, even for a moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(creds), fh, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load(path: Path) -> Credentials | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        return Credentials(**{k: data.get(k) for k in Credentials.__dataclass_fields__})
    except (ValueError, TypeError) as exc:
        raise LabelerError(f"credentials file {path} is unreadable ({type(exc).__name__}); move it away to regenerate") from None


def load_or_create(path: Path) -> tuple[Credentials, bool]:
    """Return the stored credentials, creating them on first use; the flag says whether they are new."""
    creds = load(path)
    if creds is not None:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return creds, False
    creds = generate()
    save(path, creds)
    return creds, True


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _where(url: str) -> tuple | None:
    """(scheme, host, port) of a URL, loopback names as one; None when it does not parse."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    return parts.scheme.lower(), "loopback" if host in LOOPBACK else host, port


def with_url(path: Path, url: str) -> Credentials:
    """The credentials with ``url`` as where the server now runs, remembered among the URLs it ran on."""
    creds, _ = load_or_create(path)
    urls = list(creds.urls or ([creds.url] if creds.url else []))
    if creds.url != url or url not in urls:
        creds = Credentials(**{**asdict(creds), "url": url, "urls": urls + [url] if url not in urls else urls})
        save(path, creds)
    return creds
