"""The one ``Policy`` of a command on a project: read from the config once, with the gold share checked
against the one recorded at the project's first push, then passed down to every step (scoring, the queue
model, training, push). Nothing below the command re-reads these values from the config."""

from __future__ import annotations

from labeler.loop.engine import Policy
from labeler.evaluation.gold import GoldReserve, checked_share
from labeler.project import Project


def project_policy(config, state: dict | None = None, **overrides) -> Policy:
    """``Policy.from_config`` with ``queue.gold_share`` checked against the project's recorded share
    (``state``: the project's state, read here when not given)."""
    state = Project(config).read_state() if state is None else state
    return Policy.from_config(config, **{"gold_share": checked_share(config, state), **overrides})


def project_reserve(config) -> GoldReserve:
    """The project's gold reserve alone, for a command that needs no policy (``compare``, ``drift``)."""
    return GoldReserve.from_config(config, Project(config).read_state())
