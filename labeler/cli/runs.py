"""``labeler runs``: the training runs of a project, and which one is current."""

import click

from labeler.cli._common import config_option, load, set_option


@click.command("runs")
@config_option
@set_option
@click.option("--set-current", "set_current", metavar="RUN_ID", default=None,
              help="Make RUN_ID the current run (the one that joins the signals and serves predict).")
@click.option("--prune", is_flag=True,
              help="Delete the models of old runs (a SetFit run's is about 90 MB); their metrics stay. Kept: the "
                   "current run, the --keep newest, final fits, and runs `labeler predict` logged predictions with.")
@click.option("--keep", type=click.IntRange(min=0), default=3, show_default=True,
              help="With --prune: how many of the newest runs keep their models.")
def command(config_path, overrides, set_current, prune, keep):
    """List runs (id, backend, created, n_train, gold accuracy or exact match, F1, gold n; * = current)."""
    from labeler.loop import runs as project_runs
    from labeler.loop.run_lines import runs_table
    from labeler.project import Project

    config = load(config_path, overrides)
    if prune:
        click.echo(prune_line(config, keep))
        return
    if set_current:
        project_runs.set_current_run(config, set_current)
        click.echo(f"current run: {set_current}")
        if any(r["run_id"] == set_current and r.get("final_fit") for r in project_runs.list_project_runs(config)):
            click.echo("note: a final fit trained on the gold labels: `compare` leaves it out, and the join weights "
                       "fitted on gold favour it; `labeler predict --run` serves it without making it current",
                       err=True)
        return
    runs = project_runs.list_project_runs(config)
    if not runs:
        click.echo(f"no runs under {Project(config).runs}; train one with `labeler train`")
        return
    click.echo(runs_table(runs, config.task.multi_label, config.label_names))


def prune_line(config, keep: int) -> str:
    """``--prune``: delete the old runs' models (``training.registry.Registry.prune``), keeping those the logged
    predictions were made with (a drift check scores with them); one line on what went and what stayed."""
    from labeler.evaluation.predict import read_log
    from labeler.project import Project
    from training.registry import Registry

    used = {str(entry.get("model_id")) for entry in read_log(config) if entry.get("model_id")}
    pruned = Registry(Project(config).runs).prune(keep, used)
    if not pruned:
        return f"nothing to prune: every run's model is kept (the current run, the {keep} newest, final fits, runs " \
               "with logged predictions) or was deleted before"
    freed = sum(size for _, size in pruned)
    size = f"{freed / 1e6:,.0f} MB" if freed >= 1e6 else f"{freed / 1e3:,.0f} KB"  # a logreg run is a head: KB
    return (f"deleted the models of {len(pruned)} run{'s' * (len(pruned) != 1)} ({size}): "
            f"{', '.join(rid for rid, _ in pruned)}; their metrics stay in `labeler runs`")
