"""Argilla webhooks for ``labeler watch``: register one, find and delete the ones a watcher left behind.

Argilla 2.8 keeps webhooks server-wide (not per dataset); its worker POSTs each event to the webhook's URL,
signed with the webhook's secret (Standard Webhooks: ``webhook-id``, ``webhook-timestamp``,
``webhook-signature`` headers). A watcher marks its webhook by a description naming its project folder, so a
restart after ``kill -9`` deletes the stale one before registering its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from labeler.argilla import rest
from labeler.argilla.connection import Connection

ANSWER_EVENTS = ["response.created", "response.updated"]


@dataclass
class Hook:
    id: str
    url: str
    secret: str
    description: str


def create(conn: Connection, url: str, description: str, events: list[str] | None = None) -> Hook:
    """Register a webhook for ``events`` (default: answers created or updated); returns it with its secret."""
    body = {"url": url, "events": events or ANSWER_EVENTS, "description": description[:1000]}
    item = rest.request(conn, "POST", "/api/v1/webhooks", json=body).json()
    return Hook(id=item["id"], url=item["url"], secret=item["secret"], description=item.get("description") or "")


def list_hooks(conn: Connection) -> list[Hook]:
    items = rest.request(conn, "GET", "/api/v1/webhooks").json()["items"]
    return [Hook(id=i["id"], url=i["url"], secret=i["secret"], description=i.get("description") or "") for i in items]


def delete(conn: Connection, hook_id: str) -> bool:
    """Delete one webhook; False when it was already gone or the server could not be reached."""
    try:
        rest.request(conn, "DELETE", f"/api/v1/webhooks/{hook_id}", retries=1)
    except Exception:  # noqa: BLE001 - already gone, or the server is down: nothing left to undo here
        return False
    return True


def delete_marked(conn: Connection, marker: str) -> int:
    """Delete every webhook whose description starts with ``marker``; how many."""
    stale = [h for h in list_hooks(conn) if h.description.startswith(marker)]
    for hook in stale:
        delete(conn, hook.id)
    return len(stale)
