"""Annotator accounts on the Argilla server: add (with workspace membership), list, remove, reset a password.

Every call needs an owner's API key (Argilla 2.8 lets only owners manage users). Passwords are generated
here (``secrets.token_urlsafe``), returned to the caller to show once, and never logged or put in an error.

Found in argilla-server 2.8 (``api/handlers/v1/users.py``): ``PATCH /api/v1/users/{id}`` accepts a new
``password`` from an owner, so a reset keeps the account, its API key and its answers. Deleting a user deletes
their answers with it (the responses table cascades on the user), so ``remove_user`` refuses while the user
has answers unless forced.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from labeler.argilla import rest
from labeler.argilla.client import connect
from labeler.argilla.connection import Connection
from labeler.argilla.datasets import workspace_name
from labeler.errors import LabelerError

ROLES = ("annotator", "admin")
SHOWN = 5
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


@dataclass
class Account:
    name: str
    role: str
    workspaces: list[str] = field(default_factory=list)  # empty for owners: they see every workspace
    id: str = ""


@dataclass
class NewAccount:
    """A created account; ``password`` is shown to the user once and kept nowhere."""

    name: str
    role: str
    workspace: str
    password: str

    def __repr__(self) -> str:
        return f"NewAccount(name={self.name!r}, role={self.role!r}, workspace={self.workspace!r}, password=***)"


def new_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters; Argilla wants 8-100


def some(names: list[str], shown: int = SHOWN) -> str:
    """"a, b, c and 4 more": a few names and a count of the rest."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "") if names else "none"


def require_owner(conn: Connection) -> dict:
    """The key's user (``GET /api/v1/me``); a one-line error unless it is an owner."""

    connect(conn)  # one-line errors for a wrong URL or key
    me = rest.request(conn, "GET", "/api/v1/me").json()
    if me.get("role") != "owner":
        raise LabelerError(f"managing users needs an owner's API key; the key in use belongs to {me.get('username')!r} "
                           f"({me.get('role')}); export an owner's key in the variable argilla.api_key_env names")
    return me


def _users(conn: Connection) -> list[dict]:
    return rest.request(conn, "GET", "/api/v1/users").json()["items"]


def _workspaces(conn: Connection) -> list[dict]:
    return rest.request(conn, "GET", "/api/v1/me/workspaces").json()["items"]


def find_user(conn: Connection, name: str) -> dict:
    """The user called ``name``; unknown is a one-line error naming a few of those that exist."""
    users = _users(conn)
    for user in users:
        if user["username"] == name:
            return user
    names = sorted(u["username"] for u in users)
    raise LabelerError(f"no user {name!r} on {conn.url}; {len(names)} users: {some(names)} (`labeler users list`)")


def workspace_of(conn: Connection, workspace: str | None) -> dict:
    """The workspace labeler uses (``datasets.workspace_name``: the configured one, else the first)."""

    name = workspace_name(connect(conn), workspace, conn.url)
    return next(w for w in _workspaces(conn) if w["name"] == name)


def list_users(conn: Connection) -> list[Account]:
    """Every account with its role and workspaces, owners first, then by name."""
    require_owner(conn)
    members: dict[str, list[str]] = {}
    for ws in sorted(_workspaces(conn), key=lambda w: w["name"]):
        for user in rest.request(conn, "GET", f"/api/v1/workspaces/{ws['id']}/users").json()["items"]:
            members.setdefault(user["id"], []).append(ws["name"])
    rank = {"owner": 0, "admin": 1, "annotator": 2}
    accounts = [Account(u["username"], u["role"], members.get(u["id"], []), u["id"]) for u in _users(conn)]
    return sorted(accounts, key=lambda a: (rank.get(a.role, 3), a.name))


def add_user(conn: Connection, name: str, role: str = "annotator", workspace: str | None = None) -> NewAccount:
    """Create ``name`` with a generated password and make it a member of the workspace labeler uses."""
    if role not in ROLES:
        raise LabelerError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    if not _NAME.match(name or ""):
        raise LabelerError(f"user name {name!r} is not valid: 1-100 letters, digits, '_', '.', '@' or '-', "
                           "starting with a letter or digit")
    require_owner(conn)
    existing = {u["username"]: u for u in _users(conn)}
    if name in existing:
        raise LabelerError(f"user {name!r} already exists ({existing[name]['role']}); "
                           f"`labeler users reset-password {name}` gives it a new password")
    ws = workspace_of(conn, workspace)
    password = new_password()
    try:
        user = rest.request(conn, "POST", "/api/v1/users", retries=0,
                            json={"username": name, "first_name": name, "role": role, "password": password}).json()
    except LabelerError as exc:
        raise LabelerError(str(exc).replace(password, "***")) from None
    rest.request(conn, "POST", f"/api/v1/workspaces/{ws['id']}/users", json={"user_id": user["id"]})
    return NewAccount(name, role, ws["name"], password)


def answer_counts(conn: Connection, name: str) -> dict[str, int]:
    """Dataset name -> answers (submitted, discarded and drafts) ``name`` has given there; only non-zero."""
    out = {}
    for ds in rest.request(conn, "GET", "/api/v1/me/datasets").json()["items"]:
        progress = rest.request(conn, "GET", f"/api/v1/datasets/{ds['id']}/users/progress").json()["users"]
        for entry in progress:
            if entry["username"] != name:
                continue
            n = sum(int(v or 0) for part in ("completed", "pending") for v in (entry.get(part) or {}).values())
            if n:
                out[ds["name"]] = n
    return out


def remove_user(conn: Connection, name: str, force: bool = False) -> int:
    """Delete the account; returns how many answers went with it. Refuses while it has answers unless
    ``force`` (Argilla deletes a user's answers with the user), and refuses the key's own account."""
    me = require_owner(conn)
    user = find_user(conn, name)
    if user["id"] == me["id"]:
        raise LabelerError(f"{name!r} is the account labeler is connected with; it cannot remove itself")
    counts = answer_counts(conn, name)
    total = sum(counts.values())
    if total and not force:
        where = some([f"{ds} ({n})" for ds, n in sorted(counts.items(), key=lambda kv: -kv[1])], 3)
        raise LabelerError(f"user {name!r} has {total} answers ({where}); removing the account deletes them on the "
                           "server. Run `labeler pull` first (labels.parquet keeps them), then add --force")
    rest.request(conn, "DELETE", f"/api/v1/users/{user['id']}")
    return total


def reset_password(conn: Connection, name: str) -> str:
    """A new generated password for ``name`` (``PATCH /api/v1/users/{id}``); account, API key and answers stay."""
    me = require_owner(conn)
    user = find_user(conn, name)
    if user["id"] == me["id"]:
        raise LabelerError(f"{name!r} is the account labeler is connected with; change its password in the Argilla "
                           "UI (local server: `labeler server` keeps it in the credentials file)")
    password = new_password()
    try:
        rest.request(conn, "PATCH", f"/api/v1/users/{user['id']}", retries=0, json={"password": password})
    except LabelerError as exc:
        message = str(exc).replace(password, "***")
        if "405" in message or "404" in message:
            raise LabelerError(f"this Argilla server has no password update for other users ({message[:80]}); the "
                               f"user changes it in the UI, or remove and re-add {name!r} (deletes their answers)") from None
        raise LabelerError(message) from None
    return password
