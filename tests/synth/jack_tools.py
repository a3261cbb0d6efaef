"""A JACK server with the dummy driver for the live tests: one started for the session, or the one CI names."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time

import pytest

JACK_RATE_HZ = 48000
JACK_PERIOD_FRAMES = 256
START_TIMEOUT_S = 15.0

# CI sets this, so that a live test that cannot run fails instead of being skipped.
REQUIRE_ENV = "LIQUIDSKY_REQUIRE_LIVE"


def unavailable(reason: str):
    """Skip the test (fail it where REQUIRE_ENV=1, as in CI)."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)")
    pytest.skip(reason)


# The name of a JACK server to use instead of starting one (.ci/run starts the default server and sets
# this to "default"). Without it, each test session starts a server of its own under a name of its
# own: a server shared with another session could be stopped by that session in the middle of a test.
SERVER_ENV = "LIQUIDSKY_JACK_SERVER"


def jack_running(server: str | None = None) -> bool:
    """Whether the JACK server of that name (default: the environment's) answers, without starting one."""
    if shutil.which("jack_lsp") is None:
        return False
    env = dict(os.environ, JACK_NO_START_SERVER="1")
    if server is not None:
        env["JACK_DEFAULT_SERVER"] = server
    result = subprocess.run(["jack_lsp"], env=env, capture_output=True, timeout=10)
    return result.returncode == 0


def _start_jackd(server: str) -> subprocess.Popen:
    # JACK_NO_AUDIO_RESERVATION: jackd2 would otherwise ask D-Bus for the sound card.
    env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1")
    proc = subprocess.Popen(
        ["jackd", "-n", server, "-d", "dummy", "-r", str(JACK_RATE_HZ), "-p", str(JACK_PERIOD_FRAMES)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            unavailable(f"jackd -d dummy exited at once (status {proc.returncode})")
        if jack_running(server):
            return proc
        time.sleep(0.1)
    proc.terminate()
    proc.wait(timeout=10)
    unavailable(f"jackd -d dummy did not answer within {START_TIMEOUT_S:g} s")


@contextlib.contextmanager
def private_jack_server(tag: str):
    """A dummy-driver JACK server of this test's own (its name), stopped after (a test may stop it sooner)."""
    if shutil.which("jackd") is None:
        unavailable("no jackd to start a JACK server with (apt-get install jackd2)")
    name = f"liquidsky-{tag}-{os.getpid()}"
    proc = _start_jackd(name)
    try:
        yield name, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def jack_connections(server: str, port: str) -> list[str]:
    """The ports connected to `port` on that server (jack_lsp -c)."""
    env = dict(os.environ, JACK_NO_START_SERVER="1", JACK_DEFAULT_SERVER=server)
    lines = subprocess.run(["jack_lsp", "-c", port], env=env, capture_output=True, text=True, timeout=10).stdout
    return [line.strip() for line in lines.splitlines()[1:] if line.startswith((" ", "\t"))]


def jack_port_names(server: str) -> list[str]:
    """Every port of that server (jack_lsp)."""
    env = dict(os.environ, JACK_NO_START_SERVER="1", JACK_DEFAULT_SERVER=server)
    return subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True, timeout=10).stdout.split()


class _Server:
    """The server this test process uses, shared by the test modules (each imports the fixture)."""

    name: str | None = None
    proc: subprocess.Popen | None = None
    users = 0
    previous_env: str | None = None


def _acquire() -> str:
    if _Server.users == 0:
        shared = os.environ.get(SERVER_ENV)
        if shared:
            if not jack_running(shared):
                unavailable(f"{SERVER_ENV}={shared}, but no JACK server of that name runs")
            _Server.name, _Server.proc = shared, None
        else:
            if shutil.which("jackd") is None:
                unavailable("no jackd to start a JACK server with (apt-get install jackd2)")
            _Server.name = f"liquidsky-test-{os.getpid()}"
            _Server.proc = _start_jackd(_Server.name)
        _Server.previous_env = os.environ.get("JACK_DEFAULT_SERVER")
        os.environ["JACK_DEFAULT_SERVER"] = _Server.name
    _Server.users += 1
    return _Server.name


def _release() -> None:
    _Server.users -= 1
    if _Server.users > 0:
        return
    proc = _Server.proc
    # PortAudio must let go of the server first: its JACK client asserts (and aborts the
    # interpreter at exit) when the server vanished under it.
    sd = sys.modules.get("sounddevice")
    if proc is not None and sd is not None and hasattr(sd, "_terminate"):
        with contextlib.suppress(Exception):
            sd._terminate()
    if _Server.previous_env is None:
        os.environ.pop("JACK_DEFAULT_SERVER", None)
    else:
        os.environ["JACK_DEFAULT_SERVER"] = _Server.previous_env
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    _Server.name = _Server.proc = None


@pytest.fixture(scope="session")
def jack_server():
    """The name of a running JACK server, set as JACK_DEFAULT_SERVER for this process and its children.

    The one named by LIQUIDSKY_JACK_SERVER, else a dummy-driver server started for the session
    under a name of its own; skipped (failed in CI) when neither can be had.
    """
    name = _acquire()
    try:
        yield name
    finally:
        _release()


def require_sounddevice():
    """The sounddevice module, or skip (fail in CI) when it or PortAudio is missing."""
    try:
        import sounddevice
    except (OSError, ImportError) as e:
        unavailable(f"sounddevice/PortAudio not usable: {e}")
    return sounddevice


def require_rtmidi():
    """The rtmidi module, or skip (fail in CI) when python-rtmidi is missing."""
    try:
        import rtmidi
    except ImportError as e:
        unavailable(f"python-rtmidi not installed: {e}")
    return rtmidi


@pytest.fixture
def sd_jack(jack_server):
    """sounddevice with PortAudio's device list taken after the JACK server started; skips without PortAudio."""
    sounddevice = require_sounddevice()
    from synth.live import rescan_devices

    rescan_devices(sounddevice)
    names = [api["name"] for api in sounddevice.query_hostapis()]
    if "JACK Audio Connection Kit" not in names:
        unavailable(f"PortAudio has no JACK host API here (host APIs: {', '.join(names)})")
    return sounddevice


def jack_device(sd) -> int:
    """The index of PortAudio's JACK output."""
    for index, dev in enumerate(sd.query_devices()):
        if sd.query_hostapis(dev["hostapi"])["name"] == "JACK Audio Connection Kit" and dev["max_output_channels"]:
            return index
    unavailable("no JACK output device")
