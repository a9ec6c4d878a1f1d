"""Options shared by the commands that work on a project config."""

from __future__ import annotations

import click

config_option = click.option("-c", "--config", "config_path", required=True, type=click.Path(dir_okay=False),
                             help="Project config (YAML), e.g. configs/demo.yaml.")
set_option = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                          help="Dotted override, e.g. --set queue.batch_size=64 (repeatable).")
def _quiet(ctx, param, value: bool) -> bool:
    if value:  # the models' own loading bars too, not only labeler's
        from labeler.signals.embedding import quiet_loading

        quiet_loading()
    return value


quiet_option = click.option("-q", "--quiet", is_flag=True, callback=_quiet, help="No progress bars.")


def load(config_path, overrides, quiet_models: bool = False):
    """The config; ``quiet_models``: for a command that draws no progress of its own (compare, predict, quality,
    review), no "Loading weights" bar from the models either."""
    from labeler.config import load_config

    if quiet_models:
        from labeler.signals.embedding import quiet_loading

        quiet_loading()
    return load_config(config_path, list(overrides))


def locked(config, what: str):
    """The project's lock for a command that writes project state (a second one refuses in one line)."""
    import contextlib
    import os

    from labeler.locking import project_lock
    from labeler.project import Project

    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and int(os.environ.get("RANK", "0")) != 0:
        return contextlib.nullcontext()  # under torchrun / accelerate launch the main process holds the lock
    return project_lock(Project(config).ensure().dir, what=what)
