"""The .cmv voice file: exact round trips, and one-line errors for every kind of damage."""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest
from fuzz_tools import KINDS, mutate
from hypothesis import given, settings
from hypothesis import strategies as st

from synth import hardware as hw
from synth.library import page4
from synth.voice import Voice, sampled_voice
from synth.voicefile import (
    FORMAT_VERSION,
    MAGIC,
    VoiceFileError,
    load_voice,
    save_voice,
    voice_from_bytes,
    voice_to_bytes,
)


def _sampled() -> Voice:
    t = np.arange(9000) / 30_200.0
    return sampled_voice(
        "test-tone", 0.8 * np.sin(2 * np.pi * 440.0 * t), root_key=69, loop_start_segment=20,
        loop_end_segment=60, attack_timer=12, damping_timer=300, curve="exponential", filter=90,
        role="a test tone", source="made in a test",
    )


def _with_header(data: bytes, change) -> bytes:
    """The file with its header changed by `change(header)` and a fresh, valid checksum."""
    (header_len,) = struct.unpack("<I", data[8:12])
    header = json.loads(data[12 : 12 + header_len])
    change(header)
    header_bytes = json.dumps(header).encode("utf-8")
    body = MAGIC + struct.pack("<I", len(header_bytes)) + header_bytes + data[12 + header_len : -4]
    return body + struct.pack("<I", zlib.crc32(body))


def _one_line_error(data: bytes, path) -> str:
    path.write_bytes(data)
    with pytest.raises(VoiceFileError) as caught:
        load_voice(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message


def test_file_is_the_ram_image_plus_a_small_header_and_a_crc(tmp_path):
    voice = _sampled()
    path = save_voice(voice, tmp_path / "tone.cmv")
    data = path.read_bytes()
    (header_len,) = struct.unpack("<I", data[8:12])
    assert data[:8] == MAGIC
    assert len(data) == 12 + header_len + hw.WAVE_RAM_SAMPLES + 4
    ram = np.frombuffer(data[12 + header_len : -4], dtype=np.uint8)
    assert np.array_equal(ram.astype(np.int16) - 128, voice.wave)
    assert struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[:-4])
    assert json.loads(data[12 : 12 + header_len])["format_version"] == FORMAT_VERSION


def test_round_trip_keeps_every_parameter_and_byte(tmp_path):
    voice = _sampled()
    path = save_voice(voice, tmp_path / "tone.cmv")
    again = load_voice(path)
    assert np.array_equal(again.wave, voice.wave)
    for key in ("name", "mode", "bits", "recording_rate_hz", "root_key", "loop_start_segment",
                "loop_end_segment", "attack_timer", "damping_timer", "curve", "filter", "role", "source"):
        assert getattr(again, key) == getattr(voice, key), key
    assert voice_to_bytes(again) == path.read_bytes()


def test_sixteen_bit_voice_stores_32768_bytes_of_ram(tmp_path):
    wave = np.linspace(-30000, 30000, hw.WAVE_RAM_SAMPLES).astype(np.int16)
    voice = Voice("wide", wave, bits=16, recording_rate_hz=50_000.0)
    data = voice_to_bytes(voice)
    (header_len,) = struct.unpack("<I", data[8:12])
    assert len(data) == 12 + header_len + 2 * hw.WAVE_RAM_SAMPLES + 4
    assert np.array_equal(voice_from_bytes(data).wave, wave)


def test_page4_voice_with_its_profile_saves_and_loads_byte_exact(tmp_path):
    profile = page4.decaying_profile([1.0, 0.5, 0.25, 0.125], [0.5, 1.0, 1.5, 2.0])
    voice = page4.profile_voice("soft", profile, root_key=60)
    path = save_voice(voice, tmp_path / "soft.cmv")
    again = load_voice(path)
    assert again.mode == 1
    assert np.array_equal(again.wave, voice.wave)
    assert np.allclose(np.asarray(again.meta["profile"]), profile)
    assert voice_to_bytes(again) == path.read_bytes()


def test_changed_byte_fails_the_checksum_with_one_line(tmp_path):
    data = bytearray(voice_to_bytes(_sampled()))
    data[5000] ^= 0x01
    assert "checksum" in _one_line_error(bytes(data), tmp_path / "bad.cmv")


def test_truncated_file_says_how_many_bytes_it_has_and_needs(tmp_path):
    data = voice_to_bytes(_sampled())
    message = _one_line_error(data[:10_000], tmp_path / "short.cmv")
    assert "truncated" in message and "10,000 bytes of" in message


def test_newer_format_version_is_refused_by_number(tmp_path):
    data = _with_header(voice_to_bytes(_sampled()), lambda h: h.update(format_version=2))
    message = _one_line_error(data, tmp_path / "future.cmv")
    assert "format 2 is not supported" in message


def test_unknown_parameter_is_named(tmp_path):
    data = _with_header(voice_to_bytes(_sampled()), lambda h: h.update(reverb_mix=0.3))
    assert "unknown voice parameters: reverb_mix" in _one_line_error(data, tmp_path / "odd.cmv")


def test_parameter_out_of_range_is_reported_by_the_voice_check(tmp_path):
    data = _with_header(voice_to_bytes(_sampled()), lambda h: h.update(filter=300))
    assert "filter must be 0..127" in _one_line_error(data, tmp_path / "hot.cmv")


def test_other_files_are_not_voice_files(tmp_path):
    assert "not a liquidsky voice file" in _one_line_error(b"RIFF\x00\x00\x00\x00WAVEfmt ", tmp_path / "x.cmv")
    assert "not a liquidsky voice file" in _one_line_error(b"", tmp_path / "empty.cmv")


def test_missing_file_is_one_line_naming_it(tmp_path):
    with pytest.raises(VoiceFileError, match="nowhere.cmv: "):
        load_voice(tmp_path / "nowhere.cmv")


def test_failed_save_leaves_the_old_file_untouched(tmp_path):
    path = save_voice(_sampled(), tmp_path / "keep.cmv")
    before = path.read_bytes()
    odd = _sampled().with_params(meta={"handle": object()})
    with pytest.raises(TypeError):
        save_voice(odd, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.cmv"]


# --- fuzzing -------------------------------------------------------------------------------------

_HEADER_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=True),
                           st.text(max_size=8), st.lists(st.integers(-5, 300), max_size=4),
                           st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


@settings(max_examples=200, deadline=None)
@given(mutations=st.lists(st.tuples(st.sampled_from(KINDS), st.floats(0.0, 1.0), st.integers(0, 255),
                                    st.integers(0, 255)), min_size=1, max_size=4),
       fresh_checksum=st.booleans())
def test_mutated_voice_files_load_or_raise_only_voice_file_error(mutations, fresh_checksum):
    data = mutate(voice_to_bytes(_sampled()), mutations)
    if fresh_checksum and len(data) >= 4:
        # Past the checksum, so that the header and the RAM checks meet the damage.
        data = data[:-4] + struct.pack("<I", zlib.crc32(data[:-4]))
    try:
        voice = voice_from_bytes(data, name="fuzzed.cmv")
    except VoiceFileError as e:
        assert str(e).startswith("fuzzed.cmv: ") and "\n" not in str(e)
    else:
        assert voice.wave.shape == (hw.WAVE_RAM_SAMPLES,)


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(["name", "mode", "bits", "recording_rate_hz", "root_key", "start_segment",
                            "loop_start_segment", "loop_end_segment", "attack_timer", "decay_timer",
                            "sustain_level", "damping_timer", "curve", "volume", "filter", "filter_key_tracking",
                            "segment_time_s", "role", "source", "meta", "format_version"]),
       value=_HEADER_VALUES)
def test_any_value_of_any_header_field_loads_or_raises_only_voice_file_error(key, value):
    def change(header):
        header[key] = value

    try:
        voice_from_bytes(_with_header(voice_to_bytes(_sampled()), change), name="odd.cmv")
    except VoiceFileError as e:
        assert str(e).startswith("odd.cmv: ") and "\n" not in str(e)
