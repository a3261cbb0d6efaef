"""The studio's pages in a real headless Chromium: drawing, computing, hearing, saving."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from studio_tools import level_db_at, lit_pixels, peak_hz, shot, show, wait_status
from synth.units import midi_to_hz

PAGE_CANVASES = {"3": None, "4": "#page4-draw", "D": "#paged-draw", "7": "#page7-envelope", "8": "#page8-wave"}


@pytest.mark.parametrize("key", ["3", "4", "D", "7", "8"])
def test_each_page_opens_by_its_key_and_draws(page, key, tmp_path):
    assert "token" not in page.url  # taken out of the address bar once it is a cookie
    show(page, key)
    title = page.locator("#page-title").text_content()
    assert title.startswith(f"PAGE {key}")
    assert page.locator(f"#pages button[data-page='{key}']").get_attribute("aria-current") == "page"
    if PAGE_CANVASES[key]:
        assert lit_pixels(page, PAGE_CANVASES[key]) > 500
    path = shot(page, key, tmp_path)
    assert path.stat().st_size > 10_000
    assert page.errors == []


def test_drawing_a_harmonic_on_page_4_changes_the_voice_and_raises_that_harmonic(page, studio, tmp_path):
    session = studio.session
    before = session.render_preview(note=60, seconds=1.0)
    show(page, "4")
    page.fill("#page4-harmonic", "3")
    page.press("#page4-harmonic", "Enter")
    box = page.locator("#page4-draw").bounding_box()
    y = box["y"] + box["height"] * 26 / 288  # the top of the graph: level 1
    page.mouse.move(box["x"] + 3, y)
    page.mouse.down()
    for i in range(1, 41):
        page.mouse.move(box["x"] + 3 + (box["width"] - 6) * i / 40, y)
    page.mouse.up()
    page.click("#page4-compute")
    wait_status(page, "COMPUTED")
    profile = np.asarray(session.voice.meta["profile"])
    assert profile.shape == (32, 32)
    assert profile[:, 2].min() > 0.9  # harmonic 3 drawn at the top in every segment
    assert profile[:, 0].min() == 1.0  # harmonic 1 as it was
    after = session.render_preview(note=60, seconds=1.0)
    f0 = midi_to_hz(60)
    rise_db = level_db_at(after[4800:], 48000, 3 * f0) - level_db_at(before[4800:], 48000, 3 * f0)
    assert rise_db > 30, rise_db
    assert abs(level_db_at(after[4800:], 48000, 3 * f0) - level_db_at(after[4800:], 48000, f0)) < 3
    shot(page, "4-drawn", tmp_path)


def test_a_key_of_the_page_keyboard_streams_its_note(page, studio):
    page.wait_for_function("window.studioSound.framesReceived > 4096", timeout=10_000)
    page.select_option("#voice-load", "sine")
    wait_status(page, "LOADED sine")
    feed = studio.session.feed
    feed.start_recording()
    key = page.locator("#keyboard rect[data-note='67']")  # G4
    box = key.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.8)
    page.mouse.down()
    time.sleep(0.6)
    page.mouse.up()
    time.sleep(0.2)
    audio = feed.stop_recording()
    rate = feed.rate_hz
    assert len(audio) > 0.6 * rate
    loud = np.flatnonzero(np.abs(audio[:, 0]) > 0.01)
    assert loud.size, "the key made no sound"
    sounding = audio[loud[0]: loud[0] + int(0.4 * rate)]
    cents = 1200 * np.log2(peak_hz(sounding, rate) / midi_to_hz(67))
    assert abs(cents) < 15, cents  # FFT bins of 2.5 Hz: within 15 cents
    assert page.evaluate("window.studioSound.framesReceived") > 0.5 * rate


def test_a_voice_saved_from_the_page_is_listed_by_liquidsky_voices(page, studio, capsys):
    from synth.app.cli.main import main

    page.fill("#voice-name", "drawn-bell")
    page.click("#voice-save")
    wait_status(page, "SAVED")
    assert main(["voices"]) == 0
    listing = capsys.readouterr().out
    assert "drawn-bell" in listing
    assert (Path(os.environ["LIQUIDSKY_VOICE_DIR"]) / "drawn-bell.cmv").is_file()


def test_page_7_sets_the_filter_and_draws_the_envelope(page, studio):
    show(page, "7")
    page.fill("#p7-filter", "20")
    page.press("#p7-filter", "Enter")
    wait_status(page, "FILTER SET")
    assert studio.session.voice.filter == 20
    before = lit_pixels(page, "#page7-envelope")
    page.fill("#p7-attack_timer", "400")
    page.press("#p7-attack_timer", "Enter")
    wait_status(page, "ATTACK TIMER SET")
    assert studio.session.voice.attack_timer == 400
    assert lit_pixels(page, "#page7-envelope") != before
    page.fill("#p7-filter", "900")  # out of range: refused, the page says why
    page.press("#p7-filter", "Enter")
    wait_status(page, "filter must be 0..127")
    assert studio.session.voice.filter == 20


def test_page_d_stores_a_drawn_segment(page, studio):
    show(page, "D")
    page.fill("#paged-segment", "5")
    page.press("#paged-segment", "Enter")
    page.get_by_role("button", name="ZERO").click()
    box = page.locator("#paged-draw").bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + 2)  # top left: +127
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 4, box["y"] + 2, steps=8)
    page.mouse.up()
    page.click("#paged-store")
    wait_status(page, "SEGMENT 5 STORED")
    seg = studio.session.voice.segments()[4]
    assert seg[:28].min() >= 120  # the stroke, near the top
    assert np.all(seg[40:] == 0)  # the rest as zeroed


def test_page_8_samples_a_wav_and_sets_root_and_loop(page, studio, tmp_path):
    import soundfile as sf

    rate = 44100
    t = np.arange(rate // 2) / rate
    wav = tmp_path / "tone.wav"
    sf.write(wav, 0.5 * np.sin(2 * np.pi * 220 * t), rate)
    show(page, "8")
    page.fill("#page8-root", "auto")
    page.set_input_files("#page8-file", str(wav))
    page.click("#page8-sample")
    wait_status(page, "SAMPLED")
    voice = studio.session.voice
    assert voice.mode == 4 and voice.root_key == 57  # A3
    page.fill("#page8-loopstart", "2")
    page.fill("#page8-loopend", "9")
    page.click("#page8-apply")
    wait_status(page, "ROOT AND LOOP SET")
    voice = studio.session.voice
    assert (voice.loop_start_segment, voice.loop_end_segment) == (1, 8)
    assert lit_pixels(page, "#page8-wave") > 2000


def test_page_3_gives_a_register_its_voice_within_the_cards(page, studio):
    show(page, "3")
    page.select_option("#page3-voice-B", "flute")
    page.fill("#page3-poly-A", "0")
    page.fill("#page3-poly-B", "2")  # 0 + 2 + 6 x 1: the 8 cards
    page.click("#page3-apply")
    wait_status(page, "REGISTERS SET")
    assert studio.session.registers[1].voice == "flute" and studio.session.registers[1].polyphony == 2
    page.fill("#page3-poly-C", "8")  # 0 + 2 + 8 + 5 x 1 > 8 cards
    page.click("#page3-apply")
    wait_status(page, "cards")
    assert studio.session.registers[2].polyphony == 1


def test_the_page_keys_do_not_reach_the_pages_while_the_keyboard_plays(page, studio):
    show(page, "7")
    page.locator("#keyboard").focus()
    page.keyboard.press("d")  # D#3 on the keyboard, not Page D
    assert page.evaluate("studio.page") == "7"
    page.locator("#command").fill("D")
    page.press("#command", "Enter")
    page.wait_for_function("studio.page === 'D'")


def test_record_on_the_page_keeps_what_was_played_as_a_wav(page, studio):
    import soundfile as sf

    page.click("#record")
    wait_status(page, "RECORDING")
    page.locator("#keyboard").focus()
    page.keyboard.down("q")  # C4
    time.sleep(0.3)
    page.keyboard.up("q")
    with page.expect_download() as download:
        page.click("#record")
    wav = download.value.path()
    audio, rate = sf.read(wav)
    assert rate == studio.session.feed.rate_hz
    assert len(audio) > 0.3 * rate
    assert np.abs(audio).max() > 0.01


def test_page_d_merges_the_segments_between_two(page, studio):
    show(page, "D")
    for segment, button in ((1, "ZERO"), (9, "SINE")):
        page.fill("#paged-segment", str(segment))
        page.press("#paged-segment", "Enter")
        page.get_by_role("button", name=button, exact=True).click()
        page.click("#paged-store")
        wait_status(page, f"SEGMENT {segment} STORED")
    page.fill("#paged-from", "1")
    page.fill("#paged-to", "9")
    page.click("#paged-merge")
    wait_status(page, "MERGE 1-9")
    seg = studio.session.voice.segments().astype(float)
    peaks = np.abs(seg[:9]).max(axis=1)
    assert peaks[0] == 0 and peaks[8] == 127
    assert np.allclose(peaks[1:8], 127 * np.arange(1, 8) / 8, atol=1)  # a straight crossfade


def test_another_page_in_the_same_browser_cannot_drive_the_studio(browser, studio):
    """A page of another origin, in the browser that holds the studio's cookie, is refused."""
    tab = browser.new_page()
    try:
        tab.goto(studio.url)  # the cookie is set in this browser
        tab.wait_for_selector("body[data-ready='1']")
        before = studio.session.voice.filter
        tab.goto("about:blank")  # another origin
        result = tab.evaluate(
            """async (base) => {
                let post;
                try {
                    const r = await fetch(base + '/api/voice/parameters', {method: 'POST', credentials: 'include',
                        mode: 'no-cors', headers: {'Content-Type': 'text/plain'},
                        body: JSON.stringify({parameters: {filter: 3}})});
                    post = r.type;
                } catch (e) { post = 'failed'; }
                const ws = await new Promise((resolve) => {
                    const s = new WebSocket(base.replace('http', 'ws') + '/ws/audio?rate=48000');
                    s.onopen = () => resolve('open');
                    s.onerror = () => resolve('refused');
                    s.onclose = () => resolve('refused');
                });
                return {post, ws};
            }""",
            studio.base_url,
        )
        assert result["ws"] == "refused"
        assert studio.session.voice.filter == before  # the POST changed nothing
    finally:
        tab.close()
