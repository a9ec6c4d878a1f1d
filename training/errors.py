"""The one exception type of the training layer.

``training`` imports nothing from ``labeler``; the ``labeler`` CLI prints a ``TrainingError`` as one line,
exactly like its own ``LabelerError`` (``--debug`` shows the traceback).
"""


class TrainingError(Exception):
    """A problem the user can fix: too few labels, a bad parameter, a missing or unreadable run file.

    The message is printed as one line, so it must say what is wrong and, where possible, what to do.
    """
