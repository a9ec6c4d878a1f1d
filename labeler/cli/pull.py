"""``labeler pull``: submitted human answers from Argilla to labels.parquet."""

import click

from labeler.cli._common import config_option, load, set_option

SHOWN = 10


@click.command("pull")
@config_option
@set_option
def command(config_path, overrides):
    """Write the human labels (majority per record, conflicts listed) to the project folder."""
    from labeler.loop.round import pull_labels
    from labeler.project import Project

    config = load(config_path, overrides)
    report = pull_labels(config)
    click.echo(report.summary())
    if report.conflicts:
        more = len(report.conflicts) - SHOWN
        shown = ", ".join(report.conflicts[:SHOWN]) + (f" and {more} more" if more > 0 else "")
        click.echo(f"conflicts (tied answers, or 'None of these' with labels; not used for training): {shown}")
    if report.awaiting:
        click.echo(f"awaiting overlap: {report.awaiting} records have fewer than {report.min_submitted} answers; "
                   "not used for training until the other annotators answer (pull again later)")
    click.echo(f"labels written to {Project(config).labels}")
