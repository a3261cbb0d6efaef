"""Batches on a real Dask LocalCluster of two worker processes: bad files, a worker that dies, resume."""

from __future__ import annotations

import json
import os

import mido
import pytest

from synth.app.cli.main import main

distributed = pytest.importorskip("distributed")

RATE = "8000"


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster of two worker processes for the module, stopped at its end."""
    import logging

    from synth.app.cluster import local_cluster

    with local_cluster(2, silence_logs=logging.CRITICAL) as local, distributed.Client(local) as client:
        client.wait_for_workers(2)
        yield local, client


def _song(path, seconds: float = 0.4, note: int = 60) -> str:
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.Message("note_on", note=note, velocity=100, time=0))
    track.append(mido.Message("note_off", note=note, time=int(seconds * 960)))
    midi.save(os.fspath(path))
    return os.fspath(path)


def _manifest(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def _temps(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


def _jobs_file(tmp_path, rows: list[dict]) -> str:
    path = tmp_path / "jobs.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return os.fspath(path)


def test_a_folder_of_good_and_damaged_files_renders_the_good_and_records_every_row(cluster, tmp_path, capsys):
    local, _ = cluster
    songs = tmp_path / "songs"
    songs.mkdir()
    _song(songs / "a.mid", 0.3, 60)
    _song(songs / "b.mid", 0.6, 64)
    (songs / "empty.mid").write_bytes(b"")
    (songs / "cut.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x01\x00")
    out = tmp_path / "out"
    status = main(["render", os.fspath(songs), "-o", os.fspath(out), "--rate", RATE, "--dask",
                   local.scheduler_address, "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("liquidsky: error: 2 of 4 inputs failed (") and last.endswith(f"); 2 written to {out}")
    assert os.fspath(songs / "cut.mid") in last and os.fspath(songs / "empty.mid") in last
    assert sorted(os.listdir(out)) == ["a.wav", "b.wav", "manifest.jsonl"]
    rows = {row["output"]: row for row in _manifest(out)}
    assert list(rows) == ["a.wav", "b.wav", "cut.wav", "empty.wav"]  # every row, in the inputs' order
    assert rows["empty.wav"]["error"] == f"{songs / 'empty.mid'}: empty file"
    assert rows["cut.wav"]["error"] == f"{songs / 'cut.mid'}: truncated track 1"
    assert rows["cut.wav"]["sha256"] is None and rows["cut.wav"]["duration_s"] is None
    import hashlib

    for name in ("a.wav", "b.wav"):
        assert rows[name]["error"] is None
        assert rows[name]["sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    assert rows["b.wav"]["duration_s"] > rows["a.wav"]["duration_s"] > 0.3


def test_the_local_processes_and_the_cluster_write_the_same_bytes_and_manifest(cluster, tmp_path, capsys):
    local, _ = cluster
    song = _song(tmp_path / "tune.mid", 0.5, 62)
    jobs = _jobs_file(tmp_path, [
        {"source": "tune.mid"},
        {"source": "tune.mid", "model": "iii", "bits": 24},
        {"source": "laurel", "style": "march", "seed": 7, "tempo_scale": 8},
        {"source": "laurel", "style": "march", "seed": 8, "tempo_scale": 8, "format": "flac"},
    ])
    assert os.path.exists(song)
    for how, flag in (("jobs", ["--jobs", "2"]), ("dask", ["--dask", local.scheduler_address])):
        assert main(["render", "--jobs-file", jobs, "-o", os.fspath(tmp_path / how), "--rate", RATE,
                     "--quiet", *flag]) == 0
    names = sorted(os.listdir(tmp_path / "jobs"))
    assert names == ["laurel-march-seed7-x8.wav", "laurel-march-seed8-x8.flac", "manifest.jsonl",
                     "tune-iii-24bit.wav", "tune.wav"]
    assert sorted(os.listdir(tmp_path / "dask")) == names
    for name in names:
        assert (tmp_path / "jobs" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes(), name
    # two seeds, two arrangements
    assert (tmp_path / "jobs" / names[0]).read_bytes() != (tmp_path / "jobs" / "tune.wav").read_bytes()


def test_a_worker_that_dies_mid_render_loses_nothing_its_file_is_rendered_again(cluster, tmp_path):
    from cluster_tools import dying_task

    from synth.app.batch import Job, run_job
    from synth.app.cluster import run_jobs_dask

    _, client = cluster
    song = _song(tmp_path / "long.mid", 3.0, 57)
    out = tmp_path / "out"
    out.mkdir()
    options = {"rate_hz": 8000, "model": "iix", "n_voices": None, "bits": 16, "normalize_dbfs": None,
               "max_frames": None}
    jobs = [Job(i, song, os.fspath(out / f"take{i}.wav"), options) for i in range(2)]
    results = []
    run_jobs_dask(jobs, client, results.append, task=dying_task)
    assert sorted(r.index for r in results) == [0, 1]
    assert all(r.ok for r in results), [r.error for r in results]
    for i in range(2):
        dead_pid = int((tmp_path / f"died-{i}").read_text())  # the first attempt ran, in this process ...
        with pytest.raises(ProcessLookupError):
            os.kill(dead_pid, 0)  # ... which is gone
    assert _temps(out) == []  # the half-written temporary files of the dead attempts are gone
    reference = tmp_path / "reference"
    reference.mkdir()
    assert run_job(Job(0, song, os.fspath(reference / "take0.wav"), options)).ok
    for i in range(2):
        assert (out / f"take{i}.wav").read_bytes() == (reference / "take0.wav").read_bytes()


def test_resume_renders_only_the_rows_missing_or_changed_since_the_interruption(cluster, tmp_path, capsys):
    local, _ = cluster
    songs = [_song(tmp_path / f"s{i}.mid", 0.3 + 0.1 * i, 60 + i) for i in range(4)]
    jobs = _jobs_file(tmp_path, [{"source": os.path.basename(s)} for s in songs])
    out = tmp_path / "out"
    command = ["render", "--jobs-file", jobs, "-o", os.fspath(out), "--rate", RATE, "--dask",
               local.scheduler_address]
    assert main([*command, "--quiet"]) == 0
    lines = (out / "manifest.jsonl").read_text().splitlines()
    # An interruption after two rows: their lines appended, the third's file never finished.
    (out / "manifest.jsonl").write_text("\n".join(lines[:2]) + "\n" + lines[2][:40])
    (out / "s2.wav").unlink()
    (out / "s3.wav").write_bytes(b"RIFF and nothing more")  # a file that is not what the manifest says
    before = {name: os.stat(out / name).st_mtime_ns for name in ("s0.wav", "s1.wav")}
    capsys.readouterr()
    assert main([*command, "--resume"]) == 0
    said = capsys.readouterr().out.splitlines()
    assert sorted(line.split(":")[0] for line in said[:-2]) == [f"wrote {out / 's2.wav'}", f"wrote {out / 's3.wav'}"]
    assert said[-2:] == ["skipped 2 rows written before with the checksum the manifest records",
                         f"rendered 4 inputs to {out}"]
    assert {name: os.stat(out / name).st_mtime_ns for name in ("s0.wav", "s1.wav")} == before
    rows = _manifest(out)
    assert [row["output"] for row in rows] == ["s0.wav", "s1.wav", "s2.wav", "s3.wav"]
    import hashlib

    for row in rows:
        assert row["sha256"] == hashlib.sha256((out / row["output"]).read_bytes()).hexdigest()


def test_a_batch_stopped_half_way_leaves_whole_files_and_resume_renders_the_rest(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    songs = tmp_path / "songs"
    songs.mkdir()
    for i in range(6):
        _song(songs / f"p{i}.mid", 150.0, 50 + i)  # 2.5 minutes each: the batch takes a few seconds
    out = tmp_path / "out"
    command = [sys.executable, "-m", "synth", "render", os.fspath(songs), "-o", os.fspath(out), "--rate", RATE,
               "--dask", "local:2", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "manifest.jsonl").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)  # as a scheduler's job ends, or a shell's kill
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert err.strip().splitlines()[-1] == "liquidsky: terminated"
    assert _temps(out) == []  # the renders under way when it stopped left nothing half-written
    done = [row["output"] for row in _manifest(out)]
    assert 1 <= len(done) < 6
    # every file there is whole; a worker may have finished one whose result never came back to be recorded
    import soundfile as sf

    written = [name for name in os.listdir(out) if name.endswith(".wav")]
    assert set(done) <= set(written)
    assert all(sf.info(out / name).frames > 150 * int(RATE) for name in written)

    resumed = subprocess.run([*command[:-1], "--resume"], capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    said = resumed.stdout.splitlines()
    wrote = sorted(line.split(":")[0].rsplit("/", 1)[-1] for line in said if line.startswith("wrote "))
    assert wrote == sorted(f"p{i}.wav" for i in range(6) if f"p{i}.wav" not in done)  # only the missing rows
    plural = "" if len(done) == 1 else "s"
    assert said[-2] == f"skipped {len(done)} row{plural} written before with the checksum the manifest records"
    assert [row["output"] for row in _manifest(out)] == [f"p{i}.wav" for i in range(6)]
