"""``labeler train``: fine-tune on the pulled human labels; the new run becomes current."""

import click

from labeler.cli._common import config_option, load, set_option, locked
from training.backends import BACKEND_NAMES
from training.train import FINAL_FIT_FOLDS


@click.command("train")
@config_option
@set_option
@click.option("--backend", type=click.Choice(BACKEND_NAMES), default=None,
              help="Override training.backend.")
@click.option("--force", is_flag=True,
              help="Train now even when no run is due yet (see `labeler status`, 'next run'). The run is "
                   "registered and made current; without random gold labels it has no verdict yet (a warning, "
                   "exit code 0).")
@click.option("--final-fit", "final_fit", type=click.IntRange(0, 20), default=None, is_flag=False, flag_value="0",
              metavar="[K]",
              help="The model to ship: train on every human label, gold and calibration included; accuracy is "
                   f"cross-fitted over K folds (default {FINAL_FIT_FOLDS[False]}, multi-label "
                   f"{FINAL_FIT_FOLDS[True]}) of the random reserve. The run is registered, not made current (gold "
                   "can no longer judge it).")
def command(config_path, overrides, backend, force, final_fit):
    """Train a run on labels.parquet, evaluate it on the held-out gold split, and register it as current."""
    from labeler.loop import runs
    from labeler.loop.run_lines import describe_run
    from labeler.evaluation.compare_on_gold import compare_project, gold_set
    from labeler.evaluation.gold import enough_gold
    from labeler.loop.policy import project_policy
    from labeler.project import Project

    config = load(config_path, overrides)
    if final_fit is not None and 0 < final_fit < 2:
        raise click.BadParameter(f"K must be 2 to 20 folds, got {final_fit}", param_hint="--final-fit")
    if final_fit == 0:  # --final-fit without K: the task's default
        final_fit = FINAL_FIT_FOLDS[config.task.multi_label]
    policy = project_policy(config)  # the command's one policy: the trigger, the splits and the verdict use it
    before = runs.current_run(config)
    progress, chosen = None, backend or config.training.backend
    if final_fit:  # K + 1 fits: say so, then each as it ends where one fine-tunes a body (SetFit: half a minute each)
        click.echo(f"final fit: the model on every label, then {final_fit} cross-fitted folds: up to {final_fit + 1} "
                   f"{chosen} fits")
        if chosen in runs.REENCODING_BACKENDS:
            progress = (lambda i, n, seconds: click.echo(f"  fit {i} of {n} done in {seconds:.1f} s"))
    with locked(config, "train"):
        run = runs.train_project(config, backend=backend, force=force, policy=policy, final_fit=final_fit or 0,
                                 make_current=not final_fit, progress=progress)
    for line in describe_run(run):
        click.echo(line)
    if final_fit:
        click.echo(f"run {run.run_id} registered, not current: it trained on the gold labels, so `compare` can no "
                   f"longer judge it; ship it with `labeler predict --run {run.run_id}` ({run.path})")
        return
    if gold_set(config, policy.reserve).ids:
        cmp = compare_project(config, run_ids=[run.run_id], write=False, reserve=policy.reserve)
        click.echo(f"verdict: {cmp.result.verdict}")
        if " is worse than " in cmp.result.verdict and before is not None:
            click.echo(f"note: the run is current all the same (its join weight is fitted on gold); `labeler runs "
                       f"--set-current {before.run_id}` brings back the previous one", err=True)
    else:
        why = enough_gold(config, policy.reserve, 0, ids=Project(config).pool_ids())[1]
        click.echo(f"warning: no verdict for this run: {why}", err=True)
    click.echo(f"run {run.run_id} is now current ({run.path})")
