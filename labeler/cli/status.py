"""``labeler status``: where the project stands."""

import json

import click

from labeler.cli._common import config_option, load, set_option


@click.command("status")
@config_option
@set_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (every class).")
@click.option("--all", "show_all", is_flag=True, help="List every class's label count.")
def command(config_path, overrides, as_json, show_all):
    """Pool size, scored, pushed, labeled per class and split, agreement, training threshold, gold."""
    from labeler.status import status, summary_lines

    st = status(load(config_path, overrides))
    if as_json:
        click.echo(json.dumps(st, indent=2))
        return
    for line in summary_lines(st, show_all):
        click.echo(line)
