"""Page R in a real headless Chromium: a two-pattern song entered on the grid plays its notes on time."""

from __future__ import annotations

import time

import numpy as np

from studio_tools import onsets, shot, show, wait_status


def click_cell(page, track: int, step: int) -> None:
    page.click(f"#pager-grid-table td[data-track='{track}'][data-step='{step}']")


def test_a_two_pattern_song_entered_on_page_r_sounds_its_notes_at_the_songs_tempo(page, studio, tmp_path):
    show(page, "3")  # register A (track A) plays a sine: clean onsets
    page.select_option("#page3-voice-A", "sine")
    page.click("#page3-apply")
    wait_status(page, "REGISTERS SET")

    show(page, "R")
    page.fill("#pager-bpm", "240")
    page.press("#pager-bpm", "Enter")
    assert page.input_value("#pager-speed") == "1309"  # 314160 / 240, rounded
    for step in (0, 8):  # pattern 1: two notes a bar
        click_cell(page, 0, step)
    page.fill("#pager-pattern", "2")
    page.press("#pager-pattern", "Enter")
    page.fill("#pager-note", "G4")
    for step in (0, 4, 8, 12):  # pattern 2: four
        click_cell(page, 0, step)
    page.fill("#pager-song", "1 2")
    page.press("#pager-song", "Enter")
    page.wait_for_function("document.getElementById('pager-steps').textContent.includes('2:2x1 @1.00S')")
    shot(page, "R", tmp_path)

    feed = studio.session.feed
    feed.start_recording()
    page.click("#pager-play")
    wait_status(page, "PLAYING FROM STEP 1")
    time.sleep(2.5)  # two bars at 240 BPM: 2 s, then the last release
    audio = feed.stop_recording()
    rate = feed.rate_hz
    start = feed.song_start_frame
    assert start is not None and start >= feed.record_start_frame

    song = studio.session.song
    assert song.speed == 1309 and [p.pattern for p in song.song] == [1, 2]
    step_frames = 60 / (314160 / 1309) / 4 * rate  # a 1/16 step at the song's tempo, in frames
    expected = [s * step_frames for s in (0, 8, 16, 20, 24, 28)]
    found = [f + feed.record_start_frame - start for f in onsets(audio, rate, threshold_db=-30)]
    assert len(found) == len(expected), (found, expected)
    latency = studio.session.feed.engine.latency_frames
    error_ms = (np.array(found) - np.array(expected) - latency) / rate * 1000
    assert np.all(np.abs(error_ms) < 3), error_ms


def test_a_song_saved_on_page_r_is_in_the_song_folder_and_loads_back(page, studio, module_dirs):
    from pathlib import Path

    from synth.pager import load_song

    show(page, "R")
    click_cell(page, 2, 3)
    page.fill("#pager-name", "two-bars")
    page.click("#pager-save")
    wait_status(page, "SONG SAVED")
    path = Path(module_dirs) / "songs" / "two-bars.toml"
    song = load_song(path)
    assert song.patterns[1].tracks[2][3].key == 60
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    show(page, "R")
    page.select_option("#pager-load", "two-bars")
    wait_status(page, "SONG LOADED")
    assert page.locator("#pager-grid-table td[data-track='2'][data-step='3']").text_content() == "C4"


def test_sections_entered_on_page_r_expand_in_the_song_list(page, studio):
    show(page, "R")
    click_cell(page, 0, 0)
    page.fill("#pager-sections", "A=1x2; B=A 1")
    page.press("#pager-sections", "Enter")
    page.fill("#pager-song", "B A")
    page.press("#pager-song", "Enter")
    # B is three bars (A twice, then 1), A two: at 120 BPM a bar is 2 s
    page.wait_for_function("document.getElementById('pager-steps').textContent.includes('2:A @6.00S')")
    page.fill("#pager-sections", "A=1 A; B=A 1")
    page.press("#pager-sections", "Enter")
    page.wait_for_function("document.getElementById('pager-steps').textContent.includes('cycle')")
