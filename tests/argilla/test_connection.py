"""Which server and key: a configured URL that is the local server's on another port uses its stored key."""

from __future__ import annotations

import pytest

from labeler.argilla.connection import resolve
from labeler.errors import LabelerError
from labeler.server import credentials


@pytest.mark.server
def test_the_local_servers_url_on_its_own_port_uses_the_stored_key(argilla_server, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from labeler.cli.status import command

    monkeypatch.delenv("ARGILLA_API_KEY", raising=False)
    monkeypatch.delenv("ARGILLA_API_URL", raising=False)
    port = argilla_server.port
    for url in (f"http://127.0.0.1:{port}", f"http://localhost:{port}/", f"http://127.0.0.1:{port}/"):
        conn = resolve(url)
        assert (conn.url, conn.api_key, conn.source) == (url.rstrip("/"), argilla_server.api_key, "local server")
    with pytest.raises(LabelerError, match=r"^Argilla URL http://127.0.0.1:1 is configured but \$ARGILLA_API_KEY "
                                           rf"is not set; export the API key \(the local server runs at "
                                           rf"http://127.0.0.1:{port}; its key is used for that URL\)$"):
        resolve("http://127.0.0.1:1")
    monkeypatch.setenv("ARGILLA_API_KEY", "from-the-environment")
    assert resolve(f"http://127.0.0.1:{port}").api_key == "from-the-environment"  # the environment still wins
    monkeypatch.delenv("ARGILLA_API_KEY")
    # a command with argilla.url set to the server's port talks to it with no key exported
    (tmp_path / "pool.jsonl").write_text('{"id": "a", "text": "hello"}\n')
    (tmp_path / "c.yaml").write_text("data: {path: pool.jsonl, text_fields: [text], id_field: id}\n"
                                     "task: {labels: [x, y]}\nsignals: [{type: embedding}]\n"
                                     f"argilla: {{url: 'http://127.0.0.1:{port}', dataset: conn-port}}\n")
    result = CliRunner().invoke(command, ["-c", str(tmp_path / "c.yaml"), "--set", f"project.dir={tmp_path / 's'}"])
    assert "ARGILLA_API_KEY" not in result.output, result.output


def test_a_server_started_on_several_ports_remembers_each(tmp_path):
    path = tmp_path / "credentials.json"
    credentials.with_url(path, "http://127.0.0.1:6900")
    creds = credentials.with_url(path, "http://127.0.0.1:6950")
    assert creds.url == "http://127.0.0.1:6950" and creds.urls == ["http://127.0.0.1:6900", "http://127.0.0.1:6950"]
    assert creds.serves("http://localhost:6900") and creds.serves("http://127.0.0.1:6950/")
    assert not creds.serves("http://127.0.0.1:7000") and not creds.serves("https://127.0.0.1:6950")
    assert not creds.serves("http://argilla.example.com:6950") and not creds.serves("not a url")
