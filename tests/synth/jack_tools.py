"""A JACK server with the dummy driver for the live tests: the one already running, or one started here."""

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


def jack_running() -> bool:
    """Whether a JACK server answers (without starting one)."""
    if shutil.which("jack_lsp") is None:
        return False
    env = dict(os.environ, JACK_NO_START_SERVER="1")
    result = subprocess.run(["jack_lsp"], env=env, capture_output=True, timeout=10)
    return result.returncode == 0


def _start_jackd() -> subprocess.Popen:
    # JACK_NO_AUDIO_RESERVATION: jackd2 would otherwise ask D-Bus for the sound card.
    env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1")
    proc = subprocess.Popen(
        ["jackd", "-d", "dummy", "-r", str(JACK_RATE_HZ), "-p", str(JACK_PERIOD_FRAMES)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            unavailable(f"jackd -d dummy exited at once (status {proc.returncode})")
        if jack_running():
            return proc
        time.sleep(0.1)
    proc.terminate()
    proc.wait(timeout=10)
    unavailable(f"jackd -d dummy did not answer within {START_TIMEOUT_S:g} s")


@pytest.fixture(scope="session")
def jack_server():
    """A running JACK server (started with the dummy driver if none runs); skips when jackd is absent."""
    if jack_running():
        yield "running"
        return
    if shutil.which("jackd") is None:
        unavailable("no JACK server and no jackd to start one (apt-get install jackd2)")
    proc = _start_jackd()
    try:
        yield "started"
    finally:
        # PortAudio must let go of the server first: its JACK client asserts (and aborts the
        # interpreter at exit) when the server vanished under it.
        sd = sys.modules.get("sounddevice")
        if sd is not None and hasattr(sd, "_terminate"):
            with contextlib.suppress(Exception):
                sd._terminate()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
