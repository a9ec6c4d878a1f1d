"""Whose dataset is it: the project's Argilla dataset, told apart from another one of the same name.

A dataset is found by its name (``argilla.dataset``, by default the config file's name), so two projects whose
configs are named alike (``project.yaml``, the starter's default) on one server would push into and pull from the
same dataset: each pull would write the other project's answers into its labels. A project therefore records,
in its state, the id of the dataset it pushed to (``owned``/``record``, one per server, workspace and name), and
``foreign`` refuses a dataset of that name that is not the one recorded, or, where nothing is recorded yet (a
project that never pushed, or whose state was lost), one whose records are mostly not in the project's pool.
"""

from __future__ import annotations

STATE_KEY = "argilla_datasets"  # in the project's state: "<url>|<workspace>|<name>" -> the dataset's id


def _key(url: str, workspace: str | None, name: str) -> str:
    return f"{str(url).rstrip('/')}|{workspace or ''}|{name}"


def owned(state: dict, url: str, workspace: str | None, name: str) -> str | None:
    """The id of the dataset this project pushed to under ``name`` on ``url``, or None (never pushed there)."""
    return (state.get(STATE_KEY) or {}).get(_key(url, workspace, name))


def record(state: dict, url: str, workspace: str | None, name: str, dataset_id) -> bool:
    """Note ``dataset_id`` as the project's dataset in ``state``; True when that changed ``state``."""
    datasets = state.setdefault(STATE_KEY, {})
    key = _key(url, workspace, name)
    if datasets.get(key) == str(dataset_id):
        return False
    datasets[key] = str(dataset_id)
    return True


def foreign(recorded: str | None, name: str, url: str, dataset_id, present: set[str],
            pool_ids: list[str] | None) -> str | None:
    """Why the server's dataset ``name`` (``dataset_id``, holding the records ``present``) is not this project's,
    as a one-line error; None when it is, or when there is none yet (a push creates it). ``recorded``: the id
    the project pushed to (``owned``); ``pool_ids``: the project's pool (None before ``bootstrap``)."""
    if dataset_id is None:
        return None
    fix = ("set argilla.dataset to a name of its own (the default is the config file's name, which other "
           "projects may share)")
    if recorded is not None:
        if recorded == str(dataset_id):
            return None
        return (f"dataset {name!r} on {url} is not the one this project pushed to (that one was deleted and this "
                f"one made since, by another project or by hand); {fix}, or delete it in Argilla to push again")
    if not present:
        return None
    if pool_ids is None:
        return (f"dataset {name!r} on {url} already holds {len(present)} records and this project has pushed none "
                "there; run `labeler bootstrap` first, so its pool can tell whether they are its own, or " + fix)
    mine = len(present & set(pool_ids))
    if mine * 2 >= len(present):
        return None
    return (f"dataset {name!r} on {url} already holds {len(present)} records, {mine} of them from this project's "
            f"pool: another project's dataset; {fix}")
