"""The webhook receiver: a small HTTP server on 127.0.0.1 that wakes the watcher when an answer arrives.

Every request must carry a valid Standard Webhooks signature made with the secret Argilla returned when the
webhook was registered (``standardwebhooks``); anything else gets 401 and is counted, never acted on. Only
answers to the watched dataset count; the work itself happens in the watcher's thread, the handler only
records the event and returns at once.

An answer given in the UI (or ``POST .../responses``) is a ``response.*`` event. Answers logged in bulk through
the SDK (``dataset.records.log`` with responses, as a script or an import does) fire no response event:
Argilla 2.8's bulk upsert only emits ``record.created`` / ``record.updated``. So the watcher also listens to
those (``WATCH_EVENTS``) and counts a record event whose record is now ``completed`` as an answer, unless a
response event already announced that record (the UI path sends both). Record events of pending records
(labeler's own pushes, every refresh) neither count nor wake. A bulk answer that leaves its record pending
(``min_submitted`` 2 or more) is still found by the watcher's safety look.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WATCH_EVENTS = ["response.created", "response.updated", "record.created", "record.updated"]
REMEMBERED = 10_000  # record ids announced by response events, kept to not count their record event again


class Inbox:
    """What the handler hands to the watcher: an event flag and counts."""

    def __init__(self, dataset_id: str):
        self.dataset_id = str(dataset_id)
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.answers = 0  # submitted answers to this dataset since the watcher last took the count
        self.bulk = 0  # of all answers counted: those seen only as a completed record (SDK bulk logs)
        self.rejected = 0  # requests with a bad or missing signature
        self.other = 0  # valid events about other datasets or not about answers
        self._announced: set[str] = set()  # record ids a response event announced

    def take(self) -> int:
        with self.lock:
            n, self.answers = self.answers, 0
        return n

    def accept(self, event: dict) -> None:
        kind = str(event.get("type", ""))
        data = event.get("data") or {}
        if kind.startswith("record."):
            self._accept_record(kind, data)
            return
        record = data.get("record") or {}
        dataset = (record.get("dataset") or {}).get("id")
        about_us = kind.startswith("response.") and str(dataset) == self.dataset_id
        with self.lock:
            if about_us and data.get("status") == "submitted":
                self.answers += 1
                if len(self._announced) >= REMEMBERED:
                    self._announced.clear()
                self._announced.add(str(record.get("id")))
            elif not about_us:
                self.other += 1
        if about_us:
            self.wake.set()

    def _accept_record(self, kind: str, data: dict) -> None:
        """A record created or updated: an answer when the record is completed and no response event said so."""
        dataset = (data.get("dataset") or {}).get("id")
        answered = (kind in ("record.created", "record.updated") and str(dataset) == self.dataset_id
                    and data.get("status") == "completed")
        with self.lock:
            if answered and str(data.get("id")) not in self._announced:
                self.answers += 1
                self.bulk += 1
            else:
                answered = False
                self.other += 1
        if answered:
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
