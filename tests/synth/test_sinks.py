"""The streaming audio file writer: atomic, deterministic, clipping counted, normalising."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from synth.sinks import AudioFileWriter, SinkError


def _sine(n_frames: int, amplitude: float, n_channels: int = 2) -> np.ndarray:
    t = np.arange(n_frames)
    x = amplitude * np.sin(2 * np.pi * 440.0 * t / 44100.0)
    return np.repeat(x[:, None], n_channels, axis=1).astype(np.float32)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("normalize_dbfs", [None, -1.0])
def test_writer_leaves_no_partial_file_and_keeps_existing_target_when_an_exception_happens_mid_write(
    tmp_path, error, normalize_dbfs
):
    target = tmp_path / "out.wav"
    target.write_bytes(b"the previous render")
    with pytest.raises(error), AudioFileWriter(target, 44100, 2, normalize_dbfs=normalize_dbfs) as w:
        w.write(_sine(1000, 0.5))
        assert len(os.listdir(tmp_path)) == 2  # the target and a hidden temporary file
        raise error
    assert target.read_bytes() == b"the previous render"
    assert os.listdir(tmp_path) == ["out.wav"]


def test_writer_creates_nothing_when_the_first_render_fails(tmp_path):
    with pytest.raises(RuntimeError), AudioFileWriter(tmp_path / "new.flac", 44100, 2) as w:
        w.write(_sine(100, 0.5))
        raise RuntimeError
    assert os.listdir(tmp_path) == []


def test_the_file_appears_only_on_close(tmp_path):
    target = tmp_path / "out.wav"
    with AudioFileWriter(target, 44100, 2) as w:
        w.write(_sine(100, 0.5))
        assert not target.exists()
    assert target.exists()
    assert sf.info(target).frames == 100


@pytest.mark.parametrize("ext", ["wav", "flac"])
@pytest.mark.parametrize("bits", [16, 24])
def test_same_samples_give_byte_identical_files(tmp_path, ext, bits):
    x = np.random.default_rng(7).uniform(-0.7, 0.7, size=(5000, 2)).astype(np.float32)
    paths = [tmp_path / f"a.{ext}", tmp_path / f"b.{ext}"]
    for path in paths:
        with AudioFileWriter(path, 44100, 2, bits) as w:
            w.write(x)
    first, second = (p.read_bytes() for p in paths)
    assert sf.info(paths[0]).frames == 5000
    assert first == second


def test_block_boundaries_do_not_change_the_bytes(tmp_path):
    x = _sine(5000, 0.7)
    with AudioFileWriter(tmp_path / "one.wav", 44100, 2) as w:
        w.write(x)
    with AudioFileWriter(tmp_path / "many.wav", 44100, 2) as w:
        for start in range(0, 5000, 37):
            w.write(x[start:start + 37])
    assert (tmp_path / "one.wav").read_bytes() == (tmp_path / "many.wav").read_bytes()


def test_clipped_samples_are_counted_and_held_at_full_scale(tmp_path):
    block = np.array([[1.5, 0.5], [-2.0, -1.0], [0.25, 0.9]], dtype=np.float32)
    path = tmp_path / "clip.wav"
    with AudioFileWriter(path, 44100, 2) as w:
        w.write(block)
    assert w.n_clipped == 2  # 1.5 and -2.0; -1.0 is representable
    assert w.peak == pytest.approx(2.0)
    assert w.peak_dbfs == pytest.approx(6.0206, abs=1e-3)
    data, _ = sf.read(path, dtype="int16")
    assert data.tolist() == [[32767, 16384], [-32768, -32768], [8192, 29491]]


def test_24_bit_output_keeps_the_smallest_24_bit_step(tmp_path):
    path = tmp_path / "fine.flac"
    with AudioFileWriter(path, 48000, 1, bits=24) as w:
        w.write(np.array([2.0**-23, -(2.0**-23), 0.0], dtype=np.float32))
    assert sf.info(path).subtype == "PCM_24"
    data, rate = sf.read(path, dtype="int32")
    assert rate == 48000
    assert (data >> 8).tolist() == [1, -1, 0]


@pytest.mark.parametrize("name,bits", [("n.wav", 16), ("n.flac", 24)])
def test_normalize_puts_the_peak_at_minus_1_dbfs(tmp_path, name, bits):
    path = tmp_path / name
    x = _sine(20_000, 0.3)
    x[12_345, 1] = -0.42  # the peak, in one channel only
    with AudioFileWriter(path, 44100, 2, bits, normalize_dbfs=-1.0) as w:
        for start in range(0, len(x), 4096):
            w.write(x[start:start + 4096])
    data, _ = sf.read(path, dtype="float64")
    assert data.shape == (20_000, 2)
    peak_db = 20 * np.log10(np.max(np.abs(data)))
    assert peak_db == pytest.approx(-1.0, abs=0.01)
    assert np.argmax(np.abs(data[:, 1])) == 12_345
    assert w.peak_dbfs == pytest.approx(-1.0, abs=1e-9)
    assert w.input_peak == pytest.approx(0.42, abs=1e-7)
    assert w.n_clipped == 0
    assert os.listdir(tmp_path) == [name]  # the float stage is gone


def test_normalize_keeps_silence_silent(tmp_path):
    path = tmp_path / "quiet.wav"
    with AudioFileWriter(path, 44100, 2, normalize_dbfs=-1.0) as w:
        w.write(np.zeros((1000, 2), dtype=np.float32))
    data, _ = sf.read(path, dtype="int16")
    assert data.shape == (1000, 2)
    assert not data.any()
    assert w.gain == 1.0
    assert w.peak_dbfs == float("-inf")


def test_a_deferred_gain_scales_by_the_gain_given_at_close(tmp_path):
    path = tmp_path / "stem.wav"
    with AudioFileWriter(path, 44100, 1, defer_gain=True) as w:
        w.write(np.full(10, 0.5, dtype=np.float32))
        w.close(gain=0.25)
    data, _ = sf.read(path, dtype="int16")
    assert data.tolist() == [4096] * 10


def test_an_unsupported_extension_is_refused_with_the_file_name(tmp_path):
    with pytest.raises(SinkError, match=r"out\.mp3: unsupported output format \(use \.wav or \.flac\)"):
        AudioFileWriter(tmp_path / "out.mp3", 44100, 2)
    assert os.listdir(tmp_path) == []


def test_a_missing_folder_is_a_one_line_sink_error(tmp_path):
    with pytest.raises(SinkError) as info:
        AudioFileWriter(tmp_path / "nowhere" / "out.wav", 44100, 2)
    assert "nowhere" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_folder_is_a_sink_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(SinkError, match="cannot write"):
        AudioFileWriter(locked / "out.wav", 44100, 2)


def test_the_new_file_gets_the_permissions_of_the_umask(tmp_path):
    mask = os.umask(0o022)
    try:
        with AudioFileWriter(tmp_path / "out.wav", 44100, 2) as w:
            w.write(_sine(10, 0.1))
    finally:
        os.umask(mask)
    assert (tmp_path / "out.wav").stat().st_mode & 0o777 == 0o644


def test_wrongly_shaped_blocks_are_refused(tmp_path):
    with AudioFileWriter(tmp_path / "out.wav", 44100, 2) as w:
        with pytest.raises(ValueError, match=r"\(n, 2\)"):
            w.write(np.zeros((10, 3), dtype=np.float32))
        w.write(np.zeros((10, 2), dtype=np.float32))
    assert w.n_frames == 10
