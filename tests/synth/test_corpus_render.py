"""Real General MIDI files from outside the project render with the right notes at the right times."""

from __future__ import annotations

import functools
import json
import re

import mido
import numpy as np
import pytest
from corpus_tools import (
    CORPUS_DIR,
    HOP_FRAMES,
    MAX_SECONDS,
    RATE_HZ,
    REFERENCE_SCORES,
    ChromaScore,
    chroma_score,
    corpus_names,
    corpus_opening,
    fluidsynth_render,
    fluidsynth_version,
    last_note_off_s,
    metric_settings,
    note_spans,
    sine_render,
    transpose_midi,
)

import synth

NAMES = corpus_names()
FLUIDSYNTH_VERSION = fluidsynth_version()
needs_fluidsynth = pytest.mark.skipif(FLUIDSYNTH_VERSION is None, reason="fluidsynth or FluidR3_GM missing")

# liquidsky is a different instrument from a SoundFont player (8-bit waves, its own envelopes and filters), so
# it need not match FluidSynth's chroma; following the notes nine tenths as well is the bar.
RATIO_TO_FLUIDSYNTH = 0.9
# A render may ring on after the last note-off (release stages, filter tail) but not for longer than this.
MAX_TAIL_S = 10.0


def reference_table() -> dict:
    return json.loads(REFERENCE_SCORES.read_text())


# Renders are cached across tests: each costs a noticeable fraction of a second.
@functools.cache
def opening_notes(name: str) -> tuple:
    return tuple(note_spans(corpus_opening(name)))


@functools.cache
def tone_render(name: str, semitones: int = 0) -> np.ndarray:
    notes = list(opening_notes(name))
    n_frames = int((max(n.end_s for n in notes) + 1.0) * RATE_HZ)
    return sine_render(notes, RATE_HZ, n_frames, semitones=semitones)


@functools.cache
def fluidsynth_audio(name: str, semitones: int = 0) -> np.ndarray:
    return fluidsynth_render(transpose_midi(corpus_opening(name), semitones), RATE_HZ)


def delayed(audio: np.ndarray, n_frames: int) -> np.ndarray:
    return np.vstack([np.zeros((n_frames, audio.shape[1]), audio.dtype), audio])


def score(name: str, audio: np.ndarray, max_shift_frames: int = 0) -> ChromaScore:
    return chroma_score(audio, RATE_HZ, list(opening_notes(name)), max_shift_frames=max_shift_frames)


@pytest.fixture(scope="module", autouse=True)
def release_cached_renders():
    """The cached renders hold a few hundred MB; let them go when this module is done."""
    yield
    for cached in (opening_notes, tone_render, fluidsynth_audio):
        cached.cache_clear()


@pytest.fixture(scope="module")
def liquidsky_audio(tmp_path_factory):
    """Render each corpus opening with liquidsky once, through the public API, from a .mid file on disk."""
    folder = tmp_path_factory.mktemp("corpus")
    rendered: dict[str, np.ndarray] = {}

    def render(name: str) -> np.ndarray:
        if name not in rendered:
            path = folder / f"{name}.mid"
            corpus_opening(name).save(path)
            rendered[name] = synth.render(str(path), rate_hz=RATE_HZ).audio
        return rendered[name]

    return render


@pytest.fixture(scope="module")
def fluidsynth_reference():
    """FluidSynth's score per file: from a fresh run when FluidSynth is here, else the committed table."""
    cache: dict[str, float] = {}

    def reference(name: str) -> float:
        if name not in cache:
            if FLUIDSYNTH_VERSION is not None:
                cache[name] = score(name, fluidsynth_audio(name)).mean_cosine
            else:
                cache[name] = reference_table()["scores"][name]["mean_cosine"]
        return cache[name]

    return reference


def test_corpus_holds_between_four_and_eight_small_files_each_with_a_provenance_entry():
    readme = (CORPUS_DIR / "README.md").read_text()
    assert 4 <= len(NAMES) <= 8
    for name in NAMES:
        assert (CORPUS_DIR / f"{name}.mid").stat().st_size < 100_000
        assert f"`{name}.mid`" in readme


def test_committed_fluidsynth_scores_cover_every_file_and_match_the_metric():
    table = reference_table()
    assert sorted(table["scores"]) == NAMES
    assert table["metric"] == metric_settings()
    assert re.fullmatch(r"\d+\.\d+\.\d+", table["fluidsynth_version"])


# --- the corpus renders ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_liquidsky_render_follows_the_notes_nine_tenths_as_well_as_fluidsynth(
        name, liquidsky_audio, fluidsynth_reference):
    audio = liquidsky_audio(name)
    assert audio.dtype == np.float32 and audio.ndim == 2 and audio.shape[1] == 2
    assert np.all(np.isfinite(audio))
    ours = score(name, audio)
    shifted = score(name, audio, max_shift_frames=10)
    reference = fluidsynth_reference(name)
    lag_s = shifted.shift_frames * HOP_FRAMES / RATE_HZ
    assert ours.mean_cosine >= RATIO_TO_FLUIDSYNTH * reference, (
        f"{name}: liquidsky {ours.mean_cosine:.3f} vs FluidSynth {reference:.3f}; "
        f"{shifted.mean_cosine:.3f} if the audio is taken as lagging the notes by {lag_s:+.3f} s")


@pytest.mark.parametrize("name", NAMES)
def test_liquidsky_render_ends_after_the_last_note_off_and_within_ten_seconds_of_it(name, liquidsky_audio):
    duration_s = len(liquidsky_audio(name)) / RATE_HZ
    last_off_s = last_note_off_s(corpus_opening(name))
    assert last_off_s <= duration_s <= last_off_s + MAX_TAIL_S


# --- the metric itself, checked without liquidsky ----------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_opening_keeps_every_note_that_starts_before_the_cut_and_ends_them_by_it(name):
    whole = note_spans(mido.MidiFile(CORPUS_DIR / f"{name}.mid"), include_drums=True)
    opening = corpus_opening(name)
    cut = note_spans(opening, include_drums=True)
    # The cut falls on the first tick at or after MAX_SECONDS; a note on that tick is left out.
    assert len(cut) == sum(1 for n in whole if n.start_s < MAX_SECONDS - 1e-6) > 0
    assert max(n.end_s for n in cut) <= MAX_SECONDS + 0.01


@pytest.mark.parametrize("name", NAMES)
def test_octave_tone_render_of_the_notes_scores_high_and_a_semitone_up_scores_low(name):
    assert score(name, tone_render(name)).mean_cosine >= 0.85
    assert score(name, tone_render(name, semitones=1)).mean_cosine <= 0.35


@pytest.mark.parametrize("name", NAMES)
def test_render_two_seconds_late_scores_lower_and_the_shift_search_finds_a_small_delay(name):
    right = score(name, tone_render(name)).mean_cosine
    assert score(name, delayed(tone_render(name), 2 * RATE_HZ)).mean_cosine <= right - 0.25
    found = score(name, delayed(tone_render(name), 4 * HOP_FRAMES), max_shift_frames=6)
    assert found.shift_frames == 4
    assert found.mean_cosine == pytest.approx(right, abs=0.01)


@needs_fluidsynth
@pytest.mark.parametrize("name", NAMES)
def test_fluidsynth_render_scores_high_and_its_wrong_versions_low(name):
    right = score(name, fluidsynth_audio(name)).mean_cosine
    assert right >= 0.65
    assert score(name, fluidsynth_audio(name, semitones=1)).mean_cosine <= right - 0.35
    assert score(name, delayed(fluidsynth_audio(name), 2 * RATE_HZ)).mean_cosine <= right - 0.2


@needs_fluidsynth
def test_committed_fluidsynth_scores_match_a_fresh_run_of_the_same_version():
    table = reference_table()
    if table["fluidsynth_version"] != FLUIDSYNTH_VERSION:
        pytest.skip(f"scores come from FluidSynth {table['fluidsynth_version']}, not {FLUIDSYNTH_VERSION}")
    for name in NAMES:
        fresh = score(name, fluidsynth_audio(name)).mean_cosine
        assert fresh == pytest.approx(table["scores"][name]["mean_cosine"], abs=0.002)
