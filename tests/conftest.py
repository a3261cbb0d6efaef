"""For every test: tests/synth holds the helpers that tests in any folder import by name (voice sets,
the JACK server, corpora, fuzzing, cluster tasks, Page R songs); and Ctrl-C reaches the processes the
tests start, however the test run itself was started."""

import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "synth"))


@pytest.fixture(autouse=True, scope="session")
def interruptible_children():
    """A shell starts a background job with SIGINT ignored, its children inherit that, and Python leaves
    an ignored SIGINT ignored: a `liquidsky` started by a test would then render on through the Ctrl-C
    the test sends. While the tests run, SIGINT is caught here as in a terminal's foreground job, so
    the children start with the default, as a user's command does."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
