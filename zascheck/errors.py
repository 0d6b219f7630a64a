"""Errors that reach the user as one line and a non-zero exit code."""

from __future__ import annotations


class ZascheckError(Exception):
    """Base class for errors zascheck reports without a traceback."""

    exit_code = 2


class InputError(ZascheckError, ValueError):
    """Bad input: a shape, a NaN, an impossible parameter, an unreadable file."""

    exit_code = 2


class UnknownClaimError(ZascheckError, KeyError):
    """A claim id that is not in the catalogue."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError quotes its message; we do not want that
        return str(self.args[0]) if self.args else "unknown claim"
