"""``labeler init``: a commented starter config from a data file and a label list (or a label column)."""

import click


@click.command("init")
@click.argument("data_path", type=click.Path(exists=True))
@click.option("--labels", default=None, help="Comma-separated label names, e.g. 'billing,shipping,other'.")
@click.option("--labels-from", "labels_from", default=None, metavar="COLUMN",
              help="Take the labels from this column of the data (most frequent first; lists: every item); "
                   "it becomes data.label_field.")
@click.option("-o", "--out", default="configs/project.yaml", show_default=True, type=click.Path(dir_okay=False))
@click.option("--text-field", "text_fields", multiple=True, help="Text column(s); default: guessed from the data.")
@click.option("--multi-label", is_flag=True, help="Each text may have several labels.")
@click.option("--force", is_flag=True, help="Overwrite an existing config.")
def command(data_path, labels, labels_from, out, text_fields, multi_label, force):
    """Write a starter config for DATA_PATH that `labeler bootstrap -c OUT` accepts."""
    from labeler.config.starter import labels_from_column, write_starter_config

    if (labels is None) == (labels_from is None):
        raise click.UsageError("give the labels with --labels 'a,b,c' or take them from a column with --labels-from "
                               "COLUMN (one of the two)")
    if labels_from is not None:
        found = labels_from_column(data_path, labels_from, multi_label=multi_label)
        names = found.labels
        hint = "" if multi_label or not found.several else " (pass --multi-label to keep every label of a list)"
        click.echo(found.summary() + hint, err=True)
        notes = [f"warning: {found.notes}"] if found.notes else []
        for line in notes + ([found.warning] if found.warning else []) + found.look_alike_lines():
            click.echo(line, err=True)
    else:
        names = [x.strip() for x in labels.split(",") if x.strip()]
    starter = write_starter_config(data_path, names, out, text_fields=list(text_fields) or None,
                                   multi_label=multi_label, force=force, label_field=labels_from)
    path = starter.path
    from labeler.data.encoding import guess_encoding

    encoding = guess_encoding(data_path)
    if encoding != "utf-8":
        click.echo(f"warning: {data_path} is not valid UTF-8; wrote data.encoding: {encoding} (check the texts, "
                   "e.g. with `labeler bootstrap`, and change it if they look wrong)", err=True)
    from labeler.data.readers import reading_notes

    for note in reading_notes(data_path, encoding):
        click.echo(note, err=True)
    for line in (starter.line(), starter.long_note()):
        if line:
            click.echo(line, err=True)
    from labeler.config import load_config
    from labeler.data.label_checks import wordless_labels

    written = load_config(path)
    codes = wordless_labels(written.task.labels, [s.type for s in written.signals])
    if codes:
        click.echo(codes, err=True)
    click.echo(f"wrote {path}; edit the label descriptions and signals, then run `labeler bootstrap -c {path}`")
