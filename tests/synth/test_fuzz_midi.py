"""Mutated MIDI files through the reader and the renderer: only the documented errors may come out.

A short run (hypothesis, a bounded number of examples) runs with the suite; the long run is
`python benchmarks/fuzz_midi.py --minutes 30` (see benchmarks/README.md).
"""

from __future__ import annotations

import contextlib

import pytest
from fuzz_tools import ALLOWED, KINDS, exercise, mutate, seeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synth.gm import default_voice_set
from synth.midifile import MidiFileError

SEEDS = seeds()
VOICES = default_voice_set()

mutation = st.tuples(
    st.sampled_from(KINDS),
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
    st.integers(min_value=0, max_value=255),
    st.integers(min_value=0, max_value=255),
)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_seed_file_reads_and_renders_unchanged(name):
    n_frames = exercise(SEEDS[name], VOICES)
    assert n_frames >= 0
    if name != "meta_only":
        assert n_frames > 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SEEDS)), mutations=st.lists(mutation, min_size=1, max_size=6))
def test_a_mutated_file_renders_or_raises_only_the_documented_errors(name, mutations):
    data = mutate(SEEDS[name], mutations)
    try:
        exercise(data, VOICES)
    except ALLOWED as e:
        message = str(e)
        assert "\n" not in message
        if isinstance(e, MidiFileError):
            assert message.startswith("fuzzed.mid: ")


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=64))
def test_arbitrary_bytes_after_a_midi_header_raise_only_midi_file_error(data):
    head = b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0"
    for candidate in (data, head + data, head + b"MTrk" + data):
        with contextlib.suppress(ALLOWED):
            exercise(candidate, VOICES)


def test_mutations_change_the_bytes_as_described():
    data = bytes(range(10))
    assert mutate(data, [("flip", 0.0, 1, 0)]) == b"\x02" + data[1:]
    assert mutate(data, [("truncate", 0.5, 0, 0)]) == data[:5]
    assert mutate(data, [("delete", 0.0, 0, 1)]) == data[2:]
    assert mutate(data, [("insert", 0.2, 0xAB, 1)]) == data[:2] + b"\xab\xab" + data[2:]
    assert mutate(data, [("length", 0.0, 130, 1)]) == (0x00010203 + 2).to_bytes(4, "big") + data[4:]
