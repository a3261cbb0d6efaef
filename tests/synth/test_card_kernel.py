"""The compiled card kernel (synth/_cards.c): its layout agrees with synth.card, threads and block sizes
change nothing, and arrays that do not fit are refused. (Its rules against the plain reference:
test_card_reference.py.)"""

from __future__ import annotations

import mido
import numpy as np
import pytest

from synth import _cards, blep, card
from synth import hardware as hw
from synth.engine import Engine


def test_kernel_was_built_with_the_layout_and_constants_of_the_python_side() -> None:
    layout = _cards.layout()
    from_python = {name: getattr(card, name) for name in layout if hasattr(card, name)}
    from_python.update({name: getattr(hw, name) for name in layout if hasattr(hw, name)})
    assert len(from_python) == len(layout)
    assert {name: layout[name] for name in from_python} == from_python


def render_busy_piece(threads: int) -> np.ndarray:
    """Sixteen cards, each on its own program, with stems: mix and stems side by side."""
    engine = Engine(model="iii", rate_hz=48000, stems=True)
    engine.render_threads = threads
    out = []
    for step in range(6):
        for ch in range(16):
            if ch == 9:
                continue
            engine.handle(mido.Message("program_change", channel=ch, program=(7 * ch + step) % 128))
            engine.handle(mido.Message("note_on", channel=ch, note=36 + 3 * ch + step, velocity=90))
        engine.handle(mido.Message("note_on", channel=9, note=36 + step, velocity=100))
        out.append(np.concatenate([engine.render(1_500), engine.stems], axis=1).copy())
        for ch in range(0, 16, 2):
            engine.handle(mido.Message("note_off", channel=ch, note=36 + 3 * ch + step))
        out.append(np.concatenate([engine.render(700), engine.stems], axis=1).copy())
    return np.concatenate(out)


def test_two_threads_render_the_very_same_samples_as_one() -> None:
    one = render_busy_piece(1)
    assert np.abs(one[:, :2]).max() > 0.05
    np.testing.assert_array_equal(render_busy_piece(2), one)


def test_kernel_refuses_a_carry_that_does_not_fit_the_slots() -> None:
    n_slots, n_frames = 4, 64
    table = blep.stored_residual_table()
    with pytest.raises(ValueError, match="^render: array shapes do not agree$"):
        card.render_cards(
            np.zeros((n_frames, 2), np.float32), np.zeros((0, 0), np.float32), 0, n_frames,
            np.zeros((n_slots, card.N_ISTATE), np.int64), np.zeros((n_slots, card.N_FSTATE)),
            np.zeros((n_slots, hw.WAVE_RAM_SAMPLES), np.float32), np.zeros((n_slots - 1, 2 * blep.HALF_TAPS)),
            np.zeros((n_slots, 2 * blep.HALF_TAPS), np.float32),
            np.zeros(card.scratch_doubles(n_slots, n_frames, blep.HALF_TAPS)), *card.kernel_tables(table),
            0.01,
        )


def test_kernel_refuses_a_playing_slot_whose_address_is_outside_the_wave_ram() -> None:
    n_slots, n_frames = 2, 64
    table = blep.stored_residual_table()
    istate = np.zeros((n_slots, card.N_ISTATE), np.int64)
    istate[0, card.I_ACTIVE] = card.PLAYING
    istate[0, card.I_TICK_INC] = card.TIME_ONE
    istate[0, card.I_ADDR] = hw.WAVE_RAM_SAMPLES
    with pytest.raises(ValueError, match="^render: a slot's address or clock is out of range$"):
        card.render_cards(
            np.zeros((n_frames, 2), np.float32), np.zeros((0, 0), np.float32), 0, n_frames, istate,
            np.zeros((n_slots, card.N_FSTATE)), np.zeros((n_slots, hw.WAVE_RAM_SAMPLES), np.float32),
            np.zeros((n_slots, 2 * blep.HALF_TAPS)), np.zeros((n_slots, 2 * blep.HALF_TAPS), np.float32),
            np.zeros(card.scratch_doubles(n_slots, n_frames, blep.HALF_TAPS)),
            *card.kernel_tables(table), 0.01,
        )


def looped_voice():
    from synth.voice import sampled_voice

    rng = np.random.default_rng(3)
    t = np.arange(hw.WAVE_RAM_SAMPLES) / 30_200.0
    data = 0.6 * np.sin(2 * np.pi * 523.0 * t) + 0.2 * rng.uniform(-1, 1, t.size)
    return sampled_voice("looped", data, root_key=72, start_segment=2, loop_start_segment=20, loop_end_segment=23,
                         attack_timer=30, damping_timer=60, filter=70)


@pytest.mark.parametrize("block_frames", [1, 37, 512])
def test_rendering_in_any_block_size_gives_identical_samples(block_frames: int) -> None:
    from voicesets import OneVoice

    voice = looped_voice()
    events = {0: [("note_on", 60)], 900: [("note_on", 67)], 2_500: [("note_off", 60)], 4_000: [("note_off", 67)]}

    def run(block: int) -> np.ndarray:
        engine = Engine(rate_hz=44100, voices=OneVoice(voice), stems=True)
        out, frame = [], 0
        while frame < 8_000:
            for kind, note in events.get(frame, []):
                engine.handle(mido.Message(kind, note=note, velocity=100))
            upcoming = [f for f in events if f > frame] + [8_000]
            n = min(block, min(upcoming) - frame)
            out.append(np.concatenate([engine.render(n), engine.stems], axis=1).copy())
            frame += n
        return np.concatenate(out)

    np.testing.assert_array_equal(run(block_frames), run(4096))


@pytest.mark.parametrize("block_frames", [1, 23, 700])
def test_a_note_ending_on_the_slowest_clock_gives_the_same_samples_in_any_block_size(block_frames: int) -> None:
    # At the card's slowest clock (about 2.1 kHz) one tick lasts 23 frames at 48 kHz: the DAC's return
    # to zero after the note's last tick often falls in a later block than that tick.
    from synth.voice import sampled_voice
    from voicesets import OneVoice

    rng = np.random.default_rng(7)
    voice = sampled_voice("buzz", rng.uniform(-0.8, 0.8, 2048), root_key=72, loop_start_segment=2,
                          loop_end_segment=3, damping_timer=0)
    notes = {0: ("note_on", 0), 2_000: ("note_on", 1), 9_000: ("note_off", 0), 11_000: ("note_off", 1)}

    def run(block: int) -> np.ndarray:
        engine = Engine(rate_hz=48000, voices=OneVoice(voice), stems=True)
        assert engine.clock_hz(voice, 0) < 2_200
        out, frame = [], 0
        while frame < 30_000:
            if frame in notes:
                kind, key = notes[frame]
                engine.handle(mido.Message(kind, note=key, velocity=110))
            upcoming = [f for f in notes if f > frame] + [30_000]
            n = min(block, min(upcoming) - frame)
            out.append(np.concatenate([engine.render(n), engine.stems], axis=1).copy())
            frame += n
        assert engine.is_silent
        return np.concatenate(out)

    whole = run(30_000)
    assert np.abs(whole[:, :2]).max() > 0.01
    np.testing.assert_array_equal(run(block_frames), whole)


def test_engines_rendering_at_once_in_two_threads_give_the_samples_each_gives_alone() -> None:
    # The helper thread serves one call at a time; a call that finds it busy renders alone.
    import threading

    alone = render_busy_piece(2)
    results: dict[int, np.ndarray] = {}

    def work(k: int) -> None:
        results[k] = render_busy_piece(2)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1, 2]
    for k in range(3):
        np.testing.assert_array_equal(results[k], alone)


def _render_in_child(queue) -> None:
    queue.put(render_busy_piece(2).tobytes())


def test_a_process_forked_after_the_helper_started_renders_with_a_helper_of_its_own() -> None:
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this system")
    alone = render_busy_piece(2)  # the helper thread runs in this process from here on
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_render_in_child, args=(queue,))
    child.start()
    got = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert got == alone.tobytes()
