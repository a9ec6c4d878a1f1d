"""``labeler users`` through the real server: add (password works, workspace member), list, duplicates,
unknown users, reset-password (old password refused, new one accepted), remove, a non-owner key."""

from __future__ import annotations

import logging
import re
import uuid

import httpx
import pytest

from labeler.cli import main

pytestmark = pytest.mark.server


def cli(argv, capsys):
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def login(url: str, name: str, password: str) -> int:
    """HTTP status of Argilla's username/password login (201: signed in)."""
    return httpx.post(f"{url}/api/v1/token", data={"username": name, "password": password}).status_code


def test_add_list_reset_and_remove_an_annotator(argilla_server, capsys, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    url, name = argilla_server.url, f"ann-{uuid.uuid4().hex[:6]}"
    code, out, _ = cli(["users", "add", name], capsys)
    assert code == 0, out
    password = re.search(r"password: (\S+)", out).group(1)
    assert len(password) == 20 and f"added {name} (annotator) to workspace 'argilla'" in out
    assert login(url, name, password) == 201

    code, out, _ = cli(["users", "list"], capsys)
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:-1]}
    assert rows[name] == ["annotator", "argilla"] and rows["argilla"][:2] == ["owner", "all"]
    assert re.search(r"^\d+ users: 1 owner, \d+ annotator$", out.splitlines()[-1])

    code, _, err = cli(["users", "add", name, "--role", "admin"], capsys)
    assert code == 1 and err.strip() == (f"Error: user {name!r} already exists (annotator); "
                                         f"`labeler users reset-password {name}` gives it a new password")
    code, _, err = cli(["users", "add", "bad name"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "is not valid" in err

    code, out, _ = cli(["users", "reset-password", name], capsys)
    new = re.search(rf"new password for {name}: (\S+)", out).group(1)
    assert code == 0 and new != password
    assert login(url, name, password) == 401 and login(url, name, new) == 201

    for verb in ("remove", "reset-password"):
        code, _, err = cli(["users", verb, "nobody-here"], capsys)
        assert code == 1 and err.startswith(f"Error: no user 'nobody-here' on {url}; ") and "argilla" in err
        assert len(err.strip().splitlines()) == 1
    code, _, err = cli(["users", "remove", "argilla"], capsys)
    assert code == 1 and "cannot remove itself" in err

    # An annotator's own key cannot manage users: one line naming the key's user.
    key = next(u["api_key"] for u in httpx.get(f"{url}/api/v1/users", headers={
        "X-Argilla-Api-Key": argilla_server.api_key}).json()["items"] if u["username"] == name)
    monkeypatch.setenv("ARGILLA_API_URL", url)
    monkeypatch.setenv("ARGILLA_API_KEY", key)
    code, _, err = cli(["users", "list"], capsys)
    assert code == 1 and err.startswith(f"Error: managing users needs an owner's API key; the key in use belongs to "
                                        f"{name!r} (annotator)")
    monkeypatch.delenv("ARGILLA_API_URL")

    code, out, _ = cli(["users", "remove", name], capsys)
    assert code == 0 and out.strip() == f"removed {name}"
    assert login(url, name, new) == 401
    assert password not in caplog.text and new not in caplog.text  # shown once, never logged
