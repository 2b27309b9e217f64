"""The one exception type the CLI turns into a clean, one-line error."""


class HarnessError(Exception):
    """A problem with the user's input or environment, reported without a traceback.

    The message must name the problem: the file, field or value at fault.
    """
