"""``labeler pull``: submitted human answers from Argilla to labels.parquet."""

import click

from labeler.cli._common import config_option, load, set_option


@click.command("pull")
@config_option
@set_option
def command(config_path, overrides):
    """Write the human labels (majority per record, conflicts listed) to the project folder."""
    from labeler.loop import pull_labels
    from labeler.project import Project

    config = load(config_path, overrides)
    report = pull_labels(config)
    click.echo(report.summary())
    if report.conflicts:
        shown = ", ".join(report.conflicts[:10]) + (" ..." if len(report.conflicts) > 10 else "")
        click.echo(f"conflicts (tied answers, not used for training): {shown}")
    click.echo(f"labels written to {Project(config).labels}")
