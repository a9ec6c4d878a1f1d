"""``labeler status``: where the project stands."""

import json

import click

from labeler.cli._common import config_option, load, set_option


@click.command("status")
@config_option
@set_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def command(config_path, overrides, as_json):
    """Pool size, scored, pushed, labeled per class, agreement, training threshold."""
    from labeler.loop import status

    st = status(load(config_path, overrides))
    if as_json:
        click.echo(json.dumps(st, indent=2))
        return
    click.echo(f"project: {st['project']} (round {st['round']})")
    click.echo(f"pool: {st['pool']}  scored: {st['scored']}  pushed: {st.get('pushed')}  "
               f"labeled: {st['labeled']}")
    if st.get("server"):
        click.echo(f"server: {st['server']}")
    for name, n in st["labeled_per_class"].items():
        click.echo(f"  {name}: {n}")
    if st.get("mean_agreement") is not None:
        click.echo(f"mean annotator agreement: {st['mean_agreement']:.3f}")
    thr = st["training_threshold"]
    if thr["met"]:
        click.echo(f"training threshold met ({thr['min_per_class']} per class): run `labeler train`")
    else:
        short = ", ".join(f"{k} needs {v}" for k, v in thr["short"].items())
        click.echo(f"training threshold not met ({thr['min_per_class']} per class): {short}")
