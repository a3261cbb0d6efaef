"""The studio's sound through the sound card (synth.live, as `liquidsky play`), on a JACK dummy server."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the studio extra is not installed (pip install '.[studio]')")

from jack_tools import jack_device, jack_server, sd_jack  # noqa: F401  (fixtures)
from starlette.testclient import TestClient

from synth.app.studio.app import build_app
from synth.app.studio.session import StudioSession
from synth.units import midi_to_hz
from studio_tools import peak_hz

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
BASE = "http://127.0.0.1:8478"
HEADERS = {"X-Liquidsky-Token": "t0k3n-for-the-card-test", "Origin": BASE}


def test_the_page_can_send_the_sound_to_the_sound_card_and_back(sd_jack, voice_dir):  # noqa: F811
    session = StudioSession()
    device = jack_device(sd_jack)
    try:
        with TestClient(build_app(session, HEADERS["X-Liquidsky-Token"], "127.0.0.1", 8478), base_url=BASE) as c:
            r = c.post("/api/voice/load", json={"name": "sine"}, headers=HEADERS)
            assert r.status_code == 200
            r = c.post("/api/output", json={"output": "card", "device": str(device)}, headers=HEADERS)
            assert r.status_code == 200, r.text
            assert r.json()["output"] == "card"
            feed = session.feed
            feed.start_recording()
            player = session.card.player
            c.post("/api/note", json={"type": "note_on", "note": 69, "velocity": 100}, headers=HEADERS)
            # Half a second of the note through the card, however busy the machine (the server's clock
            # decides how fast it goes, not ours): the device asks for it and gets it.
            start = player.n_frames_played
            deadline = time.monotonic() + 30
            while player.n_frames_played - start < feed.rate_hz // 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            c.post("/api/note", json={"type": "note_off", "note": 69, "velocity": 0}, headers=HEADERS)
            time.sleep(0.1)
            audio = feed.stop_recording()
            assert player.n_frames_played - start >= feed.rate_hz // 2
            loud = np.flatnonzero(np.abs(audio[:, 0]) > 0.01)
            assert loud.size
            cents = 1200 * np.log2(peak_hz(audio[loud[0]: loud[0] + feed.rate_hz // 3], feed.rate_hz)
                                   / midi_to_hz(69))
            assert abs(cents) < 15, cents
            r = c.post("/api/output", json={"output": "browser"}, headers=HEADERS)
            assert r.json()["output"] == "browser"
            c.post("/api/recording", json={"action": "start"}, headers=HEADERS)
    finally:
        session.close()
    assert session.card is None
