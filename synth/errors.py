"""How a failure reads on the command line: which exceptions are the user's, and each as one line."""

from __future__ import annotations

import sys


def user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean bad input, options or surroundings rather than a bug.

    Each module raises its own ValueError subclass; OSError is the system's. mido raises EOFError on
    some truncated files; soundfile and sounddevice their own errors (a device that went away
    between choosing it and opening it, say), counted once they are imported.
    """
    errors: list[type[BaseException]] = [ValueError, OSError, EOFError]
    sf = sys.modules.get("soundfile")
    if sf is not None:
        errors.append(sf.SoundFileError)
    sd = sys.modules.get("sounddevice")
    if sd is not None and isinstance(getattr(sd, "PortAudioError", None), type):
        errors.append(sd.PortAudioError)
    return tuple(errors)


def one_line(e: BaseException) -> str:
    """An exception as the one line printed after 'liquidsky: error: '."""
    if isinstance(e, OSError) and e.strerror:
        where = e.filename if e.filename is not None else ""
        return f"{where}: {e.strerror.lower()}" if where else e.strerror.lower()
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
