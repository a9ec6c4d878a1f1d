"""``labeler push``: the next uncertainty-ordered batch, with suggestions, into Argilla."""

import click

from labeler.cli._common import config_option, load, quiet_option, set_option


@click.command("push")
@config_option
@set_option
@quiet_option
def command(config_path, overrides, quiet):
    """Push the next batch and refresh pending records' suggestions and priorities (idempotent)."""
    from labeler.loop import push_queue

    from labeler.locking import project_lock
    from labeler.loop import project_dir

    config = load(config_path, overrides)
    with project_lock(project_dir(config), what="push"):  # a second push on this project refuses clearly
        report = push_queue(config, progress=not quiet)
    click.echo(report.summary())
