"""``labeler bootstrap``: read the pool and score it with every signal (cached per record); once human
training labels exist, each candidate cascade's recall on them (``labeler.signals.cascade.candidate_report``)."""

import click

from labeler.cli._common import config_option, load, quiet_option, set_option, locked


@click.command("bootstrap")
@config_option
@set_option
@quiet_option
def command(config_path, overrides, quiet):
    """Load the data, score every record with every signal, combine them into the ensemble."""
    from labeler.loop.scoring import bootstrap, prune_refitted_caches, reading_lines

    config = load(config_path, overrides)
    with locked(config, "bootstrap"):
        pool, scores = bootstrap(config, progress=not quiet)
        pruned = prune_refitted_caches(config)
    click.echo(pool.summary())
    for line in data_lines(config, pool) + reading_lines(config, pool.texts) + ([pruned] if pruned else []):
        click.echo(line)
    top = scores.P.max(axis=1)
    click.echo(f"scored {len(scores.ids)} records with {', '.join(scores.signals)} ({scores.method}); "
               f"mean top probability {top.mean():.3f}, mean agreement {scores.agreement.mean():.3f}")
    for note in (scores.note, scores.queue_note):  # how a run joined (or why it was left out), the queue model
        if note:
            click.echo(note)
    from labeler.signals.rules import vote_lines

    for line in vote_lines(scores.signals, config.label_names, config.task.multi_label):
        click.echo(line)
    for line in cascade_lines(config, scores):
        click.echo(line)


def data_lines(config, pool) -> list[str]:
    """What the data or the config holds that the signals cannot use well: held-back labels outside the config's
    labels; labels that are codes with nothing for the zero-shot signals to read."""
    from labeler.data.label_checks import labels_outside, wordless_labels

    lines = [wordless_labels(config.task.labels, [s.type for s in config.signals])]
    if config.data.label_field:
        lines.append(labels_outside(pool.records, config.label_names, config.task.multi_label).line())
    return [line for line in lines if line]


def cascade_lines(config, scores) -> list[str]:
    """Each candidate cascade's top-k recall on the human training labels (none before any, or without
    cascades)."""
    from labeler.signals.cascade import candidate_report, cascade_specs

    if not cascade_specs(config.signals):
        return []
    from labeler.project import Project
    from labeler.loop.scoring import training_rows

    rows, y, _ = training_rows(config, scores.ids, Project(config).load_labels())
    return candidate_report(config.signals, scores.signals, rows, y, config.task.multi_label)
