"""Faults during a render, in a process of its own: Ctrl-C, a full disk, a place that cannot be written."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import mido
import pytest

TIMEOUT_S = 120


def _long_song(path: Path, minutes: float) -> str:
    """Four channels striking notes all along: a render of it takes many seconds."""
    midi = mido.MidiFile(ticks_per_beat=480)
    for channel in range(4):
        track = mido.MidiTrack()
        midi.tracks.append(track)
        for k in range(int(minutes * 60 * 4)):
            note = 48 + (k * 5 + channel * 7) % 24
            track.append(mido.Message("note_on", channel=channel, note=note, velocity=90, time=0 if k == 0 else 40))
            track.append(mido.Message("note_off", channel=channel, note=note, time=200))
    midi.save(os.fspath(path))
    return os.fspath(path)


def _start(args: list[str], **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "synth", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **options)


def _wait_for_temporary_files(folder: Path, n: int, process: subprocess.Popen) -> list[str]:
    """Wait until n temporary files of writers are in folder (a render under way)."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        found = [name for name in os.listdir(folder) if ".partial-" in name or ".float-" in name]
        if len(found) >= n:
            return found
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError(f"no render started in {folder}")


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def test_ctrl_c_during_a_long_render_leaves_no_partial_file_and_keeps_the_old_one(tmp_path):
    song = _long_song(tmp_path / "long.mid", minutes=20)
    out = tmp_path / "long.wav"
    out.write_bytes(b"the render the user had")
    process = _start(["render", song, "-o", os.fspath(out), "--normalize", "--stems", os.fspath(tmp_path / "stems")])
    _wait_for_temporary_files(tmp_path, 1, process)
    time.sleep(0.5)  # well inside the render
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 130
    assert stderr.strip() == "liquidsky: interrupted"
    assert sorted(os.listdir(tmp_path)) == ["long.mid", "long.wav"]  # no temporary file, no stems folder
    assert out.read_bytes() == b"the render the user had"


def test_sigterm_during_a_long_render_exits_143_and_leaves_no_partial_file(tmp_path):
    song = _long_song(tmp_path / "long.mid", minutes=20)
    process = _start(["render", song, "-o", os.fspath(tmp_path / "long.flac")])
    _wait_for_temporary_files(tmp_path, 1, process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 143
    assert stderr.strip() == "liquidsky: terminated"
    assert os.listdir(tmp_path) == ["long.mid"]


def test_ctrl_c_stops_every_worker_of_a_parallel_render_and_leaves_no_partial_file(tmp_path):
    songs = tmp_path / "songs"
    songs.mkdir()
    inputs = [_long_song(songs / f"long{i}.mid", minutes=20) for i in range(3)]
    out = tmp_path / "out"
    out.mkdir()
    (out / "long2.wav").write_bytes(b"kept")
    process = _start(["render", *inputs, "-o", os.fspath(out), "--jobs", "2"])
    _wait_for_temporary_files(out, 2, process)
    workers = _children(process.pid)
    assert len(workers) >= 2
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1] == "liquidsky: interrupted"
    assert "Traceback" not in stderr
    assert sorted(os.listdir(out)) == ["long2.wav"]
    assert (out / "long2.wav").read_bytes() == b"kept"
    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{pid}") for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in workers if os.path.exists(f"/proc/{pid}")]


def _file_size_limit(n_bytes: int):
    def limit() -> None:
        # A full disk, as the writer sees one: writing past the limit fails (EFBIG) instead of
        # killing the process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (n_bytes, n_bytes))

    return limit


@pytest.mark.parametrize("options", [[], ["--normalize"]])
def test_a_full_disk_is_one_line_and_leaves_no_partial_file(tmp_path, options):
    song = _long_song(tmp_path / "song.mid", minutes=0.5)
    out = tmp_path / "song.wav"
    out.write_bytes(b"old")
    process = _start(["render", song, "-o", os.fspath(out), *options], preexec_fn=_file_size_limit(200_000))
    _, stderr = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 2
    assert stderr.strip() == f"liquidsky: error: {out}: writing failed (a system error: is the disk full?)"
    assert sorted(os.listdir(tmp_path)) == ["song.mid", "song.wav"]
    assert out.read_bytes() == b"old"


def test_an_output_path_that_cannot_be_written_is_one_line(tmp_path):
    song = _long_song(tmp_path / "song.mid", minutes=0.01)
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    for out, problem in [
        (not_a_folder / "out.wav", f"{not_a_folder / 'out.wav'}: {not_a_folder} is a file, not a folder"),
        (Path("/proc/out.wav"), "/proc/out.wav: cannot write in /proc (no such file or directory)"),
    ]:
        process = _start(["render", song, "-o", os.fspath(out)])
        _, stderr = process.communicate(timeout=TIMEOUT_S)
        assert process.returncode == 2
        assert stderr.strip() == f"liquidsky: error: {problem}"
