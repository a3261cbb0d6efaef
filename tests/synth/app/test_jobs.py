"""Jobs files: rows checked field by field, defaults from the command line, outputs named by the row."""

from __future__ import annotations

import io
import json
import os

import pytest

from synth.app.cli.main import main
from synth.app.jobs import JobsFileError, RenderJob, derived_output_name, plan_output_names, read_jobs, read_jobs_file


def _read(text: str, csv_format: bool = False, defaults: RenderJob | None = None) -> list[RenderJob]:
    return read_jobs(io.StringIO(text), "jobs.csv" if csv_format else "jobs.jsonl", defaults, csv_format=csv_format)


def test_a_jsonl_row_and_a_csv_row_give_the_same_job():
    from_json = _read('{"source": "demo", "voice": ["piano", "2=flute"], "seed": 4, "style": "ominous", '
                      '"rate_hz": 22050, "normalize": true}\n')
    from_csv = _read("source,voice,seed,style,rate_hz,normalize\ndemo,piano;2=flute,4,ominous,22050,yes\n",
                     csv_format=True)
    assert from_json == from_csv
    [job] = from_json
    assert (job.voice, job.seed, job.rate_hz, job.normalize) == (("piano", "2=flute"), 4, 22050, True)
    assert job.where == "jobs.jsonl:1" and from_csv[0].where == "jobs.csv:2"


def test_fields_a_row_leaves_out_come_from_the_defaults_and_empty_csv_cells_too():
    defaults = RenderJob(source="", model="iii", rate_hz=48000, bits=24)
    [a, b] = _read("source,model,rate_hz\ndemo,,\nlaurel,ii,8000\n", csv_format=True, defaults=defaults)
    assert (a.model, a.rate_hz, a.bits) == ("iii", 48000, 24)
    assert (b.model, b.rate_hz, b.bits) == ("ii", 8000, 24)


@pytest.mark.parametrize(("text", "message"), [
    ('{"source": "demo"}\n\n{"source": "demo", "rate_hz": 4000}\n',
     "jobs.jsonl:3: rate_hz: 4000 is outside 8000-192000 Hz"),
    ('{"source": "demo", "modle": "iii"}\n', "jobs.jsonl:1: modle: not a field of a job (did you mean model?)"),
    ('{"source": "demo", "model": "cmi"}\n', "jobs.jsonl:1: model: 'cmi' is not one of i, ii, iix, iii"),
    ('{"source": "demo", "bits": 8}\n', "jobs.jsonl:1: bits: 8 is not one of 16, 24"),
    ('{"source": "demo", "seed": 1.5}\n', "jobs.jsonl:1: seed: 1.5 is not a whole number"),
    ('{"source": "demo", "style": "grim"}\n', "jobs.jsonl:1: style: "),
    ('{"source": "demo", "voice": "nosuchvoice"}\n', "jobs.jsonl:1: voice: unknown voice 'nosuchvoice'"),
    ('{"source": "demo", "voice": "10=piano"}\n', "jobs.jsonl:1: voice: --voice 10=piano: channel 10 plays drums"),
    ('{"source": "demo", "output": "../up.wav"}\n', "jobs.jsonl:1: output: ../up.wav: an output is a name inside"),
    ('{"source": "demo", "output": "a.mp3"}\n', "jobs.jsonl:1: output: a.mp3: not a .wav or .flac file name"),
    ('{"model": "iii"}\n', "jobs.jsonl:1: source: missing"),
    ('["demo"]\n', "jobs.jsonl:1: a row is a JSON object"),
    ('{"source": "demo"\n', "jobs.jsonl:1: not JSON"),
    ("", "jobs.jsonl: no jobs in the file"),
])
def test_a_bad_row_is_refused_in_one_line_naming_the_file_the_line_and_the_field(text, message):
    with pytest.raises(JobsFileError) as info:
        _read(text)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_a_csv_row_with_more_cells_than_the_header_is_refused():
    with pytest.raises(JobsFileError, match=r"^jobs.csv:3: more cells than the header names$"):
        _read("source,seed\ndemo,1\ndemo,2,3\n", csv_format=True)


def test_relative_sources_and_maps_are_taken_from_the_jobs_files_folder(tmp_path):
    (tmp_path / "midi").mkdir()
    (tmp_path / "map.toml").write_text('[programs]\n1 = "piano"\n')
    path = tmp_path / "jobs.jsonl"
    path.write_text('{"source": "midi/a.mid", "program_map": "map.toml"}\n{"source": "demo"}\n')
    a, demo = read_jobs_file(path)
    assert a.source == os.path.join(tmp_path, "midi", "a.mid")
    assert a.program_map == os.path.join(tmp_path, "map.toml")
    assert demo.source == "demo"  # a built-in name stays a name


def test_derived_names_say_the_variation_and_two_rows_never_share_a_file():
    rows = _read('{"source": "a/song.mid"}\n{"source": "b/song.mid", "style": "march", "seed": 2}\n'
                 '{"source": "a/song.mid", "format": "flac", "bits": 24, "voice": ["3=flute"]}\n')
    assert plan_output_names(rows) == ["song.wav", "song-march-seed2.wav", "song-3_flute-24bit.flac"]
    assert derived_output_name(RenderJob("demo", tempo_scale=0.5, n_voices=4)) == "demo-x0.5-4v.wav"
    twice = _read('{"source": "a/song.mid"}\n{"source": "b/song.mid"}\n')
    with pytest.raises(JobsFileError, match=r"^jobs.jsonl:2: output: song.wav is written by jobs.jsonl:1 already"):
        plan_output_names(twice)


def test_a_seed_makes_a_row_reproducible_byte_for_byte(tmp_path, capsys):
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("\ufeffsource,style,seed,tempo_scale,output\n"  # as a spreadsheet saves it, with a BOM
                    "laurel,dissonant,5,8,five.wav\nlaurel,dissonant,5,8,again.wav\nlaurel,dissonant,6,8,sub/six.wav\n",
                    encoding="utf-8")
    assert main(["render", "--jobs-file", os.fspath(jobs), "-o", os.fspath(tmp_path / "out"), "--rate", "8000",
                 "--quiet"]) == 0
    out = tmp_path / "out"
    assert (out / "five.wav").read_bytes() == (out / "again.wav").read_bytes()
    assert (out / "five.wav").read_bytes() != (out / "sub" / "six.wav").read_bytes()
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["output"] for r in rows] == ["five.wav", "again.wav", "sub/six.wav"]
    assert rows[0]["options"]["seed"] == 5 and rows[0]["options"]["style"] == "dissonant"
    assert rows[0]["sha256"] == rows[1]["sha256"] != rows[2]["sha256"]


def test_a_bad_jobs_file_stops_before_anything_is_written(tmp_path, capsys):
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"source": "demo"}\n{"source": "demo", "rate_hz": "fast"}\n')
    assert main(["render", "--jobs-file", os.fspath(jobs), "-o", os.fspath(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"liquidsky: error: {jobs}:2: rate_hz: 'fast' is not a whole number\n"
    assert not (tmp_path / "out").exists()


def test_sources_beside_a_jobs_file_are_refused_in_one_line(tmp_path, capsys):
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"source": "demo"}\n')
    assert main(["render", "demo", "--jobs-file", os.fspath(jobs), "-o", os.fspath(tmp_path / "out")]) == 2
    assert "the sources are the file's rows" in capsys.readouterr().err


def test_outputs_go_to_an_fsspec_url_atomically_with_the_manifest_beside_them(tmp_path, capsys):
    pytest.importorskip("fsspec")
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"source": "demo"}\n{"source": "demo", "model": "iii"}\n')
    url = f"file://{tmp_path}/bucket/renders"
    assert main(["render", "--jobs-file", os.fspath(jobs), "-o", url, "--rate", "8000", "--quiet"]) == 0
    folder = tmp_path / "bucket" / "renders"
    assert sorted(os.listdir(folder)) == ["demo-iii.wav", "demo.wav", "manifest.jsonl"]
    local = tmp_path / "local"
    assert main(["render", "--jobs-file", os.fspath(jobs), "-o", os.fspath(local), "--rate", "8000", "--quiet"]) == 0
    for name in ("demo.wav", "demo-iii.wav", "manifest.jsonl"):
        assert (folder / name).read_bytes() == (local / name).read_bytes(), name
    # and --resume reads the manifest back from the URL
    assert main(["render", "--jobs-file", os.fspath(jobs), "-o", url, "--rate", "8000", "--resume"]) == 0
    assert "skipped 2 rows" in capsys.readouterr().out


def test_a_missing_distributed_is_one_line_saying_what_to_install(tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    assert main(["render", "demo", "-o", os.fspath(tmp_path / "out"), "--dask", "local:2"]) == 2
    assert capsys.readouterr().err == ("liquidsky: error: --dask needs the distributed package: "
                                       "pip install 'liquidsky[dask]'\n")
    assert not (tmp_path / "out").exists()


def test_the_readme_jobs_file_examples_read_and_name_their_outputs_as_it_says():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    jsonl = re.search(r"```jsonl\n(.*?)```", readme, re.S).group(1)
    csv_text = re.search(r"```csv\n(.*?)```", readme, re.S).group(1)
    rows = _read(jsonl)
    assert plan_output_names(rows) == ["fugue.wav", "fugue-iii-48000hz-24bit.wav", "sonnerie-dread.flac",
                                       "laurel-march-x1.2-brass.flac"]
    assert len(_read(csv_text, csv_format=True)) == 2
    for name in plan_output_names(rows)[1:2] + plan_output_names(rows)[3:]:
        assert f"`{name}`" in readme


def test_a_jobs_file_renders_page_r_songs_as_the_python_api_does(tmp_path, capsys):
    import numpy as np
    import soundfile as sf

    import synth

    from test_api import SONG

    (tmp_path / "song.toml").write_text(SONG)
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"source": "song.toml", "bits": 24}\n')
    assert main(["render", "--jobs-file", os.fspath(jobs), "-o", os.fspath(tmp_path / "out"), "--rate", "8000",
                 "--quiet"]) == 0
    written, rate_hz = sf.read(tmp_path / "out" / "song-24bit.wav", dtype="float32")
    audio, _ = synth.render(tmp_path / "song.toml", rate_hz=8000)
    assert rate_hz == 8000 and len(written) == len(audio)
    assert np.abs(written - audio).max() <= 1 / 2**23
