"""The webhook receiver: a small HTTP server on 127.0.0.1 that wakes the watcher when an answer arrives.

Every request must carry a valid Standard Webhooks signature made with the secret Argilla returned when the
webhook was registered (``standardwebhooks``); anything else gets 401 and is counted, never acted on. Only
answers (``response.*``) to the watched dataset count; the work itself happens in the watcher's thread, the
handler only records the event and returns at once.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Inbox:
    """What the handler hands to the watcher: an event flag and counts."""

    def __init__(self, dataset_id: str):
        self.dataset_id = str(dataset_id)
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.answers = 0  # submitted answers to this dataset since the watcher last took the count
        self.rejected = 0  # requests with a bad or missing signature
        self.other = 0  # valid events about other datasets or not about answers

    def take(self) -> int:
        with self.lock:
            n, self.answers = self.answers, 0
        return n

    def accept(self, event: dict) -> None:
        data = event.get("data") or {}
        record = data.get("record") or {}
        dataset = (record.get("dataset") or {}).get("id")
        about_us = str(event.get("type", "")).startswith("response.") and str(dataset) == self.dataset_id
        with self.lock:
            if about_us and data.get("status") == "submitted":
                self.answers += 1
            elif not about_us:
                self.other += 1
        if about_us:
            self.wake.set()


class Listener:
    """``with Listener(host, port, inbox) as lst: lst.url`` serves until the block ends."""

    def __init__(self, host: str, port: int, inbox: Inbox):
        self.inbox = inbox
        self.secret: str | None = None  # set once the webhook is registered; until then every request is 401
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if not listener.verified(body, self.headers):
                    with inbox.lock:
                        inbox.rejected += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                try:
                    inbox.accept(json.loads(body))
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    return
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):  # quiet: the watcher prints what matters
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="labeler-webhooks", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/argilla-webhook"

    def verified(self, body: bytes, headers) -> bool:
        if not self.secret:
            return False
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        try:
            Webhook(self.secret).verify(body, {k.lower(): v for k, v in headers.items()})
        except (WebhookVerificationError, ValueError, KeyError):
            return False
        return True

    def __enter__(self) -> "Listener":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
