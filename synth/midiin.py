"""Live MIDI input through mido's rtmidi backend (ALSA sequencer or JACK), into a live.Inbox."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import mido

# rtmidi's names for its Linux APIs, by the name the command line uses.
BACKENDS = {"alsa": "LINUX_ALSA", "jack": "UNIX_JACK"}
PREFERENCE = ("alsa", "jack")  # the ALSA sequencer where present: it needs no server running
ALSA_SEQUENCER = "/dev/snd/seq"
VIRTUAL = "virtual"
CLIENT_NAME = "liquidsky"  # the virtual port, and the client other programs see
LIVE_PIP = "pip install 'liquidsky[live]'"


class MidiInError(ValueError):
    """A MIDI input that cannot be opened: no backend, no such port, a missing package."""


def import_rtmidi(command: str = "live"):
    """The rtmidi module, or a MidiInError saying what to install."""
    try:
        import rtmidi
    except ImportError:
        raise MidiInError(f"{command} needs the python-rtmidi package: {LIVE_PIP}") from None
    return rtmidi


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence what C libraries print on file descriptor 2 while probing (libjack, alsa-lib)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def compiled_backends(rtmidi) -> list[str]:
    """The backends this python-rtmidi was built with."""
    apis = set(rtmidi.get_compiled_api())
    return [name for name in PREFERENCE if getattr(rtmidi, f"API_{BACKENDS[name]}", None) in apis]


def backend_works(rtmidi, name: str) -> bool:
    """Whether a client of that backend can be made now (ALSA: the sequencer device; JACK: a server)."""
    if name == "alsa" and not os.path.exists(ALSA_SEQUENCER):
        return False  # alsa-lib would only print an error
    api = getattr(rtmidi, f"API_{BACKENDS[name]}")
    try:
        with quiet_stderr():
            probe = rtmidi.MidiIn(rtapi=api, name=f"{CLIENT_NAME}-probe")
    except Exception:  # rtmidi.SystemError, RuntimeError: no server, no sequencer
        return False
    with contextlib.suppress(Exception):
        probe.delete()
    return True


def missing_backend_message() -> str:
    """What to do when no backend works."""
    return (
        f"no MIDI input backend works here: no ALSA sequencer ({ALSA_SEQUENCER} is missing; "
        "sudo modprobe snd-seq) and no JACK server running (start one, e.g. jackd -d dummy)"
    )


def choose_backend(name: str | None = None, command: str = "live") -> str:
    """The named backend if it works, else the first that works (ALSA where present, then JACK)."""
    rtmidi = import_rtmidi(command)
    compiled = compiled_backends(rtmidi)
    if name is not None:
        name = name.lower()
        if name not in BACKENDS:
            raise MidiInError(f"unknown MIDI backend {name!r} (use {' or '.join(BACKENDS)})")
        if name not in compiled:
            raise MidiInError(f"this python-rtmidi was built without {name} support")
        if not backend_works(rtmidi, name):
            why = (f"{ALSA_SEQUENCER} is missing (sudo modprobe snd-seq)" if name == "alsa"
                   else "no JACK server is running (start one, e.g. jackd -d dummy)")
            raise MidiInError(f"the {name} MIDI backend does not work here: {why}")
        return name
    for candidate in compiled:
        if backend_works(rtmidi, candidate):
            return candidate
    raise MidiInError(missing_backend_message())


def mido_backend(name: str):
    """mido's rtmidi backend bound to one rtmidi API."""
    return mido.Backend(f"mido.backends.rtmidi/{BACKENDS[name]}")


def input_names(backend: str) -> list[str]:
    """MIDI ports other programs offer for reading, by the backend's own names."""
    with quiet_stderr():
        return list(mido_backend(backend).get_input_names())


def resolve_port(text: str, names: list[str]) -> str:
    """A port by its whole name, its number in `names`, or a part of its name that only it has."""
    if text in names:
        return text
    if text.isdigit() and int(text) < len(names):
        return names[int(text)]
    matches = [n for n in names if text.lower() in n.lower()]
    if len(matches) == 1:
        return matches[0]
    listing = "; ".join(names) if names else "none"
    what = "no" if not matches else "more than one"
    raise MidiInError(f"{what} MIDI input port matches {text!r} (ports: {listing})")


def default_port(names: list[str]) -> str:
    """The first port that is not a pass-through, else the virtual port."""
    for name in names:
        if "through" not in name.lower() and not name.startswith(f"{CLIENT_NAME}:"):
            return name
    return VIRTUAL


class MidiInput:
    """An open MIDI input whose messages go to an Inbox (from rtmidi's own thread)."""

    def __init__(self, port: str, backend: str, inbox) -> None:
        self.backend = backend
        self.inbox = inbox
        self.virtual = port == VIRTUAL
        mido_api = mido_backend(backend)
        try:
            with quiet_stderr():
                if self.virtual:
                    self._port = mido_api.open_input(CLIENT_NAME, client_name=CLIENT_NAME,
                                                     callback=self._receive)
                else:  # (mido takes a client name as a request for a virtual port)
                    self._port = mido_api.open_input(port, callback=self._receive)
        except Exception as e:  # rtmidi's own errors, OSError, RuntimeError
            raise MidiInError(f"cannot open MIDI input {port!r} with {backend}: {_reason(e)}") from None
        self.name = self._port.name
        if self.virtual:
            # The name other programs connect to: JACK says 'liquidsky:liquidsky', ALSA adds numbers.
            with quiet_stderr():
                offered = [n for n in mido_api.get_output_names() if n.startswith(f"{CLIENT_NAME}:")]
            if offered:
                self.name = offered[0]

    def _receive(self, message) -> None:
        # Clock and active sensing arrive many times a second and mean nothing to the cards.
        if message.type not in ("clock", "active_sensing"):
            self.inbox.put(message)

    def close(self) -> None:
        # A port whose device was unplugged may fail to close; the session it ends is over anyway.
        with contextlib.suppress(Exception):
            self._port.close()

    def __enter__(self) -> MidiInput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_input(port: str, backend: str, inbox) -> MidiInput:
    """Open `port` (a name from input_names, or 'virtual' for a port named 'liquidsky') into inbox."""
    if port != VIRTUAL:
        port = resolve_port(port, input_names(backend))
    return MidiInput(port, backend, inbox)


def _reason(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
