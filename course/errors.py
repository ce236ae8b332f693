"""The errors that mean "the input is wrong", not "the course has a bug".

The command line prints these as one line and exits with status 2; anything else is a bug and
shows its traceback. Both derive from ``ValueError``, so ``except ValueError`` still catches them.
"""
from __future__ import annotations


class InputError(ValueError):
    """An option, setting or argument given to the course is not usable; the message names it and the fix."""


class DataError(InputError):
    """A file or folder is missing, unreadable, corrupt or not what was expected; the message names it and the fix."""
