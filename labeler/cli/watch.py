"""``labeler watch``: keep the suggestions and the queue fresh as answers arrive (see ``labeler.watch``)."""

import click

from labeler.cli._common import config_option, load, set_option


@click.command("watch")
@config_option
@set_option
@click.option("--mode", type=click.Choice(["auto", "webhook", "polling"]), default=None,
              help="Override watch.mode (auto: webhooks for a local server, polling for a remote one).")
@click.option("--refresh-every", type=click.IntRange(min=1), default=None, help="Override watch.refresh_every.")
@click.option("--no-fine-tune", is_flag=True, help="Only the fast refreshes; never start a full fine-tune.")
@click.option("--max-refreshes", type=click.IntRange(min=1), default=None, hidden=True,
              help="Exit after this many refreshes (tests, benchmarks).")
@click.option("--exit-after", type=float, default=None, hidden=True, help="Exit after this many seconds.")
def command(config_path, overrides, mode, refresh_every, no_fine_tune, max_refreshes, exit_after):
    """Refresh the fast model, the suggestions and the review order every few answers; fine-tune in the
    background when it pays. Runs until Ctrl-C; a restart (even after kill -9) catches up exactly."""
    from labeler.watch.runner import Watcher
    from labeler.words import plural

    overrides = list(overrides)
    if refresh_every:
        overrides.append(f"watch.refresh_every={refresh_every}")
    if no_fine_tune:
        overrides.append("watch.fine_tune=false")
    if mode:
        overrides.append(f"watch.mode={mode}")
    config = load(config_path, overrides)
    if config.argilla.dataset is None:
        raise click.UsageError("the config names no argilla.dataset")
    state = Watcher(config, config_path, overrides, echo=lambda m: click.echo(m, nl=True),
                    max_refreshes=max_refreshes, exit_after=exit_after).run()
    click.echo(f"watcher stopped: {plural(state.refreshes, 'refresh', 'refreshes')} in all, backlog "
               f"{plural(state.backlog, 'answer')}")
