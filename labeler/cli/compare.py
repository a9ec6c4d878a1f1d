"""``labeler compare``: signals, their ensemble and fine-tuned runs on the gold split, as a report."""

import click

from labeler.cli._common import config_option, load, set_option


@click.command("compare")
@config_option
@set_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Report folder (default <project dir>/reports/<timestamp>).")
@click.option("--all-runs", is_flag=True, help="Every registered run, not only the current one.")
def command(config_path, overrides, out_dir, all_runs):
    """Write report.md, report.json and PNG plots; print the table and the verdict."""
    from labeler.evaluation.compare_on_gold import compare_project, evaluation_note

    config = load(config_path, overrides, quiet_models=True)
    cmp = compare_project(config, all_runs=all_runs, out_dir=out_dir)
    click.echo(cmp.result.table())
    scored = evaluation_note(cmp.n_gold, cmp.n_calib, bool(cmp.n_calib))
    click.echo(f"scored on {scored}" + ("; ECE on gold alone" if cmp.n_calib else
                                        f" (calibration left out: {cmp.gold_only})" if cmp.gold_only and not config.task.multi_label
                                        else "") + (f"; {cmp.positives_note()}" if cmp.positives else ""))
    click.echo(f"verdict rule: {cmp.result.rule}")
    notes = {name: cuts["note"] for name, cuts in cmp.result.thresholds.items()}  # multi-label: where each
    if len(notes) > 1 and len(set(notes.values())) == 1:  # system's per-label cuts came from; one line when alike
        click.echo(f"cuts (every system): {next(iter(notes.values()))}")
    else:
        for name, note in notes.items():
            click.echo(f"cuts {name}: {note}")
    for warning in cmp.weak + cmp.warnings:
        click.echo(f"warning: {warning}")
    if cmp.majority:
        click.echo(f"note: {cmp.majority}")
    if cmp.discarded:
        click.echo(f"note: {cmp.discarded_note()}")
    for why in cmp.left_out:
        click.echo(f"left out: {why}")
    if cmp.ensemble:
        click.echo(f"ensemble: {cmp.ensemble}")
    if cmp.joined:
        click.echo(f"suggestions: {cmp.joined}")
    click.echo(f"report: {cmp.paths['markdown']}")
