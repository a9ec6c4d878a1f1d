"""``labeler review``: suspected label errors to a second review in Argilla, and the verdicts back."""

import click

from labeler.cli._common import config_option, load, locked, set_option

SHOWN = 10


@click.command("review")
@config_option
@set_option
@click.option("--budget", type=click.IntRange(min=0), default=None,
              help="Suspects to send this time: the labels cleanlab flags first, then the lowest label quality "
                   "(default: the flagged ones, up to queue.batch_size open with those still waiting).")
@click.option("--push/--no-push", "do_push", default=True,
              help="Send the suspects to <dataset>-review (default), or only print the ranking.")
@click.option("--pull", "pull_only", is_flag=True, help="Only pull the review answers and apply the verdicts.")
def command(config_path, overrides, budget, do_push, pull_only):
    """Rank human labels by how likely they are wrong (cleanlab on out-of-fold probabilities) and send the top
    suspects to a second annotator; --pull reads the answers: confirmed, changed or ambiguous."""
    from labeler.project import Project
    from labeler.quality.label_errors import AMBIGUOUS, PENDING, review_path, suspects_table
    from labeler.quality.second_review import pull_reviews, push_review
    from labeler.quality.suspects import default_budget, find_suspects

    config = load(config_path, overrides, quiet_models=True)
    with locked(config, "review"):
        if pull_only:
            for line in pull_reviews(config).lines():
                click.echo(line)
            click.echo(f"verdicts in {review_path(Project(config))}")
            return
        pulled = pull_reviews(config, missing_ok=True) if do_push else None
        for line in pulled.lines() if pulled else []:
            click.echo(line)
        suspects = find_suspects(config)
        waiting = sum(pulled.counts.get(k, 0) for k in (PENDING, AMBIGUOUS)) if pulled else 0
        n = default_budget(config, suspects, waiting) if budget is None else min(budget, len(suspects.items))
        click.echo(suspects.summary())
        picked = suspects.to_send(n)
        if picked:
            click.echo(suspects.sending(picked, n, budget is None))
            for line in suspects_table([s.row() for s in picked], shown=SHOWN):
                click.echo(line)
        elif budget is None and waiting and suspects.flagged:
            click.echo(f"no new suspects sent: {waiting} sent before still wait for an answer (a batch is "
                       f"queue.batch_size {config.queue.batch_size}); --budget N sends N more")
        else:
            click.echo("no suspects to send" + (" (--budget 0)" if budget == 0 else ""))
        if not do_push:
            click.echo("not sent (--no-push)")
            return
        if not picked and pulled is None:  # no review dataset yet: an empty one would only clutter the UI
            click.echo("nothing pushed: no suspect to start the review dataset with")
            return
        out = push_review(config, picked)
        if out.pulled.changes or out.pulled.newly:  # answers that arrived since the pull above
            for line in out.pulled.lines():
                click.echo(line)
        click.echo(out.summary())
        for note in out.notes:
            click.echo(f"note: {note}")
