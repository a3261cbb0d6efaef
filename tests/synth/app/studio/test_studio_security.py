"""The studio's guard, over plain HTTP: the token, the origin, names not paths, the size of uploads."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the studio extra is not installed (pip install '.[studio]')")
pytest.importorskip("httpx2", reason="httpx2 is not installed (pip install '.[test]')")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from synth.app.studio import app as studio_app  # noqa: E402
from synth.app.studio.app import build_app  # noqa: E402
from synth.app.studio.session import StudioSession  # noqa: E402

TOKEN = "test-token-0123456789"
HOST, PORT = "127.0.0.1", 8478
BASE = f"http://{HOST}:{PORT}"
ORIGIN = {"Origin": BASE}
WS_HOST = {"Host": f"{HOST}:{PORT}"}  # the test client's WebSockets name no host of their own


@pytest.fixture
def session(voice_dir):
    s = StudioSession()
    yield s
    s.close()


@pytest.fixture
def client(session):
    with TestClient(build_app(session, TOKEN, HOST, PORT), base_url=BASE) as c:
        yield c


def auth(**more) -> dict:
    return {"X-Liquidsky-Token": TOKEN, **more}


def test_a_request_without_the_token_is_refused(client):
    r = client.get("/api/state")
    assert r.status_code == 403
    assert "token" in r.json()["error"]
    assert client.get("/static/app.js").status_code == 403
    assert client.get("/api/state", headers={"X-Liquidsky-Token": "wrong"}).status_code == 403


def test_the_token_in_the_url_becomes_a_cookie(client):
    r = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 200 and "<title>LIQUIDSKY STUDIO</title>" in r.text
    assert f"liquidsky_token_{PORT}" in r.cookies
    assert "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    assert client.get("/api/state").status_code == 200  # the cookie carries it now
    assert "<title>LIQUIDSKY STUDIO</title>" in client.get("/").text


def test_no_cors_headers_are_sent(client):
    r = client.get("/api/state", headers=auth(Origin="http://evil.example"))
    assert "access-control-allow-origin" not in r.headers


def test_a_state_changing_request_from_another_origin_is_refused(client, session):
    before = session.voice.filter
    r = client.post("/api/voice/parameters", json={"parameters": {"filter": 10}},
                    headers=auth(Origin="http://evil.example"))
    assert r.status_code == 403
    r = client.post("/api/voice/parameters", json={"parameters": {"filter": 10}},
                    headers=auth(**{"Sec-Fetch-Site": "cross-site"}))
    assert r.status_code == 403
    assert session.voice.filter == before
    r = client.post("/api/voice/parameters", json={"parameters": {"filter": 10}}, headers=auth(**ORIGIN))
    assert r.status_code == 200 and session.voice.filter == 10


def test_a_host_that_is_not_the_server_is_refused(session):
    with TestClient(build_app(session, TOKEN, HOST, PORT), base_url="http://rebound.example:8478") as c:
        assert c.get("/api/state", headers=auth()).status_code == 403


def test_a_websocket_without_the_token_or_from_another_origin_is_refused(client):
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/audio?rate=48000", headers=WS_HOST) as ws:
        ws.receive_json()
    with pytest.raises(WebSocketDisconnect), client.websocket_connect(
        "/ws/audio?rate=48000", headers=auth(Origin="http://evil.example", **WS_HOST)
    ) as ws:
        ws.receive_json()


def test_a_websocket_with_the_token_streams_blocks_of_stereo_float32(client):
    with client.websocket_connect("/ws/audio?rate=48000", headers=auth(**ORIGIN, **WS_HOST)) as ws:
        head = ws.receive_json()
        assert head == {"type": "format", "rate_hz": 48000, "channels": 2, "block_frames": studio_app.BLOCK_FRAMES}
        block = np.frombuffer(ws.receive_bytes(), dtype=np.float32)
        assert block.size == 2 * studio_app.BLOCK_FRAMES


@pytest.mark.parametrize("name", ["../piano", "/etc/passwd", "a/b", "a\\b", "..", "", "x" * 65, "C:evil"])
def test_a_name_that_is_a_path_is_refused_on_load_and_save(client, voice_dir, name):
    for route in ("/api/voice/load", "/api/voice/save", "/api/voice/delete", "/api/song/load", "/api/song/save"):
        r = client.post(route, json={"name": name}, headers=auth(**ORIGIN))
        assert r.status_code == 400, (route, name)
        assert "name" in r.json()["error"]
    assert not voice_dir.exists() or not any(voice_dir.iterdir())


def test_a_song_from_the_page_is_checked_as_a_song_file_is(client):
    song = {"speed": 1309, "song": "1 3", "patterns": {"1": {"A": "C4 . . ."}}, "grid": "1/4"}
    r = client.post("/api/song/check", json={"song": song}, headers=auth(**ORIGIN))
    assert r.status_code == 400 and "pattern 3 is not defined" in r.json()["error"]
    song["song"] = "1"
    r = client.post("/api/song/check", json={"song": song}, headers=auth(**ORIGIN))
    assert r.status_code == 200 and r.json()["bpm"] == 240.0
    song["patterns"]["1"]["A"] = "C4 . . . \"\n[evil]"  # a string cannot break out of its TOML value
    r = client.post("/api/song/check", json={"song": song}, headers=auth(**ORIGIN))
    assert r.status_code == 400 and "patterns.1.A" in r.json()["error"]


def test_an_oversized_upload_is_refused(client, monkeypatch):
    monkeypatch.setattr(studio_app, "MAX_UPLOAD_BYTES", 1000)
    r = client.post("/api/page8/import?name=big", content=b"\0" * 5000, headers=auth(**ORIGIN))
    assert r.status_code == 413
    assert "larger than" in r.json()["error"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b"\0" * 500

    r = client.post("/api/page8/import?name=big", content=chunks(), headers=auth(**ORIGIN))
    assert r.status_code == 413


def test_an_upload_that_is_not_audio_gets_voice_imports_error_and_the_server_goes_on(client, session):
    r = client.post("/api/page8/import?name=junk", content=b"not a recording" * 10, headers=auth(**ORIGIN))
    assert r.status_code == 400
    assert "not an audio file" in r.json()["error"]
    assert client.get("/api/voice", headers=auth()).json()["name"] == session.voice.name


def test_a_wav_upload_becomes_a_mode_4_voice(client, session):
    import soundfile as sf

    rate = 44100
    t = np.arange(rate // 4) / rate
    buf = io.BytesIO()
    sf.write(buf, 0.5 * np.sin(2 * np.pi * 440 * t), rate, format="WAV")
    r = client.post("/api/page8/import?name=hum&root=auto&loop=none", content=buf.getvalue(),
                    headers=auth(**ORIGIN))
    assert r.status_code == 200, r.text
    assert session.voice.mode == 4 and session.voice.name == "hum"
    assert session.voice.root_key == 69  # A4, detected


def test_a_bad_request_gets_a_clear_json_error(client):
    r = client.post("/api/voice/parameters", content=b"{not json", headers=auth(**ORIGIN))
    assert r.status_code == 400 and r.json()["error"] == "the request's body is not JSON"
    r = client.post("/api/voice/parameters", json={"parameters": {"filter": 300}}, headers=auth(**ORIGIN))
    assert r.status_code == 400 and "filter must be 0..127" in r.json()["error"]
    r = client.post("/api/voice/parameters", json={"parameters": {"colour": 3}}, headers=auth(**ORIGIN))
    assert r.status_code == 400 and "unknown Page 7 parameter 'colour'" in r.json()["error"]
    r = client.post("/api/voice/compute", json={"profile": [[2.0] * 32] * 32}, headers=auth(**ORIGIN))
    assert r.status_code == 400 and "0..1" in r.json()["error"]
    r = client.post("/api/voice/load", json={"name": "no-such-voice"}, headers=auth(**ORIGIN))
    assert r.status_code == 400 and "unknown voice" in r.json()["error"]
    assert client.get("/api/state", headers=auth()).status_code == 200


@pytest.mark.parametrize("path", ["/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/session.py",
                                  "/static//etc/passwd"])
def test_no_static_path_reaches_outside_the_pages(client, path):
    r = client.get(path, headers=auth())
    assert r.status_code == 404
    assert b"def build_app" not in r.content and b"root:" not in r.content


def test_page_4s_volume_profile_sets_each_segments_level(client, session):
    profile = [[1.0] + [0.0] * 31 for _ in range(32)]
    volume = [1.0] * 16 + [0.5] * 16
    r = client.post("/api/voice/compute", json={"profile": profile, "volume": volume}, headers=auth(**ORIGIN))
    assert r.status_code == 200, r.text
    peaks = np.abs(session.voice.segments()[:32].astype(float)).max(axis=1)
    assert 20 * np.log10(peaks[16:].mean() / peaks[:16].mean()) == pytest.approx(-6.02, abs=0.1)
    assert r.json()["volume"] == volume


def test_undo_takes_back_the_last_change_and_then_says_there_is_nothing(client, session):
    first = session.voice
    client.post("/api/voice/parameters", json={"parameters": {"filter": 30}}, headers=auth(**ORIGIN))
    client.post("/api/voice/load", json={"name": "tom"}, headers=auth(**ORIGIN))
    assert session.voice.name == "tom"
    assert client.post("/api/voice/undo", json={}, headers=auth(**ORIGIN)).json()["parameters"]["filter"] == 30
    assert client.post("/api/voice/undo", json={}, headers=auth(**ORIGIN)).json()["name"] == first.name
    assert session.voice is first
    r = client.post("/api/voice/undo", json={}, headers=auth(**ORIGIN))
    assert r.status_code == 400 and r.json()["error"] == "nothing to undo"


@pytest.mark.parametrize("body", [
    {"macro": "gain", "first": None, "last": 3}, {"macro": "gain", "first": 1.5, "last": 3},
    {"macro": "twist", "first": 0, "last": 3}, {"macro": "gain", "first": 5, "last": 2},
])
def test_a_bad_macro_request_is_a_400_naming_the_problem(client, body):
    r = client.post("/api/voice/macro", json=body, headers=auth(**ORIGIN))
    assert r.status_code == 400, r.text
    assert r.json()["error"]


def test_page_3s_polyphony_holds_a_register_to_its_notes(client, session):
    import mido

    feed = session.browser_feed(48000)
    registers = [{"voice": "piano", "polyphony": 1}] * 8
    registers[0] = {"voice": "sine", "polyphony": 2}
    registers[1] = {"voice": "sine", "polyphony": 0}
    assert client.post("/api/registers", json={"registers": registers}, headers=auth(**ORIGIN)).status_code == 200
    handled = []
    engine_handle = feed.engine.handle
    feed.engine.handle = lambda m, track=0: (handled.append((m.type, m.channel, m.note)), engine_handle(m, track))
    for channel, key in ((0, 60), (0, 64), (0, 67), (1, 50), (15, 70), (15, 71), (15, 72)):
        feed.inbox.put(mido.Message("note_on", channel=channel, note=key, velocity=100))
    feed.next_block()
    assert handled == [("note_on", 0, 60), ("note_on", 0, 64), ("note_off", 0, 60), ("note_on", 0, 67),
                       ("note_on", 15, 70), ("note_on", 15, 71), ("note_on", 15, 72)]


def test_a_long_upload_is_fitted_as_voice_import_fits_it(client, session):
    import soundfile as sf

    rate = 44100
    buf = io.BytesIO()
    sf.write(buf, 0.3 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate), rate, format="WAV")  # 1 s
    r = client.post("/api/page8/import?name=long&fit=truncate&rate=30200", content=buf.getvalue(),
                    headers=auth(**ORIGIN))
    assert r.status_code == 200 and r.json()["report"]["fitted"] == "truncate"
    assert session.voice.recording_rate_hz == 30200
    r = client.post("/api/page8/import?name=long&fit=rate", content=buf.getvalue(), headers=auth(**ORIGIN))
    assert r.json()["report"]["fitted"] == "rate" and session.voice.recording_rate_hz == 16300  # 16,384 / 1 s
    r = client.post("/api/page8/import?name=long&fit=squash", content=buf.getvalue(), headers=auth(**ORIGIN))
    assert r.status_code == 400 and "fit must be one of rate, truncate" in r.json()["error"]
