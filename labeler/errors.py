"""The one exception type the CLI turns into a one-line error (``--debug`` shows the traceback)."""


class LabelerError(Exception):
    """A problem the user can fix: bad input, bad config, a server that cannot be reached.

    The message is printed as one line, so it must say what is wrong and, where possible, what to do.
    """
