"""The one exception type that means "the user asked for something we cannot do"."""


class NatqError(Exception):
    """Bad input or a missing resource, explained in one line that says what to do.

    The command line prints the message alone (no traceback) and exits with status 2.
    """
