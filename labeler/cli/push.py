"""``labeler push``: the next uncertainty-ordered batch, with suggestions, into Argilla."""

import click

from labeler.cli._common import config_option, load, quiet_option, set_option, locked


@click.command("push")
@config_option
@set_option
@quiet_option
def command(config_path, overrides, quiet):
    """Push the next batch and refresh pending records' suggestions and priorities (idempotent)."""
    from labeler.loop.round import push_queue

    config = load(config_path, overrides)
    with locked(config, "push"):  # a second push on this project refuses clearly
        report = push_queue(config, progress=not quiet)
    click.echo(report.summary())
