"""The command line's collection options of render (--jobs-file, --dask, --resume) and the batch they run.

Every batch into a folder goes through `run_batch`: a folder of MIDI files, several inputs, or the rows
of a jobs file become RenderJobs (synth.app.jobs), then synth.app.batch.Jobs, rendered by local processes
(--jobs N) or on a Dask cluster (--dask), each row recorded in OUT/manifest.jsonl (synth.app.manifest).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence

from synth.app import outputs
from synth.app.batch import BatchError, Job, make_output_folder, plan_outputs
from synth.app.cli.options import EXIT_ERROR, EXIT_OK, PROG, voice_set_from_args
from synth.app.cli.reports import BatchProgress, batch_error, summary_line
from synth.app.cluster import import_distributed, parse_address
from synth.app.jobs import RenderJob, plan_output_names, read_jobs_file
from synth.app.limits import NORMALIZE_DBFS
from synth.app.manifest import MANIFEST_NAME, ManifestWriter, entry_for, is_done, read_manifest


def add_collection_options(parser: argparse.ArgumentParser) -> None:
    """--jobs-file, --dask and --resume for render."""
    group = parser.add_argument_group("collections")
    group.add_argument("--jobs-file", metavar="JOBS",
                       help="render every row of a JSONL or CSV jobs file (source, output, model, voice, "
                            "program_map, style, seed, rate_hz, bits, format, ...; see the README) into the "
                            "folder -o names; the other options are the rows' defaults")
    group.add_argument("--dask", metavar="ADDRESS",
                       help="render on a Dask cluster: a scheduler's address (tcp://HOST:8786), or local:N for "
                            "N worker processes on this machine (pip install 'liquidsky[dask]')")
    group.add_argument("--resume", action="store_true",
                       help="skip the rows OUT/manifest.jsonl records as written whose file is there with the "
                            "recorded checksum; render the rest")


def is_batch(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "jobs_file", None) or getattr(args, "dask", None) or getattr(args, "resume", False))


def defaults_from_args(args: argparse.Namespace, source: str = "") -> RenderJob:
    """The job the command line's options describe (a jobs file's rows start from it)."""
    return RenderJob(
        source=source, model=args.model, n_voices=args.voices, voice=tuple(args.voice or ()),
        program_map=args.program_map, style=args.style, seed=args.seed, tempo_scale=args.tempo_scale,
        rate_hz=args.rate, bits=args.bits, format=args.format or "wav", normalize=bool(args.normalize),
    )


def render_jobs_file(args: argparse.Namespace) -> int:
    if args.source:
        raise BatchError(f"--jobs-file {args.jobs_file}: the sources are the file's rows; "
                         f"give no SOURCE ({args.source[0]})")
    defaults = defaults_from_args(args)
    rows = read_jobs_file(args.jobs_file, defaults)
    names = plan_output_names(rows, defaults)
    return run_batch(args, rows, names, [])


def render_inputs(args: argparse.Namespace, inputs: Sequence[str], problems: list[tuple[str, str]]) -> int:
    """A batch of inputs (files, folders' files, names) played with the command line's options."""
    defaults = defaults_from_args(args)
    names = [os.path.basename(p) for p in plan_outputs(inputs, args.output, defaults.format)]
    rows = [dataclasses.replace(defaults, source=source) for source in inputs]
    return run_batch(args, rows, names, problems)


def _batch_jobs(args: argparse.Namespace, rows: Sequence[RenderJob], names: Sequence[str]):
    absolute = bool(args.dask)  # a worker elsewhere has a folder of its own: give it whole paths

    def local(path: str | None) -> str | None:
        if path is None or not absolute or outputs.is_url(path) or not os.path.exists(path):
            return path
        return os.path.abspath(path)

    out_dir = args.output if outputs.is_url(args.output) or not absolute else os.path.abspath(args.output)
    jobs = []
    for i, (row, name) in enumerate(zip(rows, names, strict=True)):
        options = {"rate_hz": row.rate_hz, "model": row.model, "n_voices": row.n_voices, "bits": row.bits,
                   "normalize_dbfs": NORMALIZE_DBFS if row.normalize else None,
                   "max_frames": round(args.max_duration * row.rate_hz)}
        stems = None if args.stems is None else os.path.join(args.stems, os.path.splitext(name)[0])
        if stems is not None and absolute:
            stems = os.path.abspath(stems)
        jobs.append(Job(i, local(row.source), outputs.join(out_dir, name), options, row.voice,
                        local(row.program_map), stems, row.style, row.seed, row.tempo_scale))
    return jobs


def run_batch(args: argparse.Namespace, rows: Sequence[RenderJob], names: Sequence[str],
              problems: list[tuple[str, str]]) -> int:
    """Render the rows into the folder (or URL) -o names, recording each in OUT/manifest.jsonl."""
    if args.dask:
        parse_address(args.dask)
        import_distributed()
    voice_set_from_args(args)  # a bad --voice or map is one error now, not one per input
    if outputs.is_url(args.output):
        if args.stems is not None:
            raise BatchError(f"--stems: stems are written to a local folder, not beside {args.output}")
        outputs.make_folder(args.output)
    else:
        make_output_folder(args.output)
    for sub in sorted({os.path.dirname(name) for name in names} - {""}):
        outputs.make_folder(outputs.join(args.output, sub))  # an output name may hold a folder: a/b.wav
    jobs = _batch_jobs(args, rows, names)
    manifest_path = outputs.join(args.output, MANIFEST_NAME)
    earlier = read_manifest(manifest_path)
    todo, skipped = [], []
    for job, row, name in zip(jobs, rows, names, strict=True):
        if args.resume and is_done(earlier.get(name), row.source, row.variation(), job.output):
            skipped.append(job)
        else:
            todo.append(job)
    writer = ManifestWriter(manifest_path, earlier)
    for job in skipped:
        writer.carry(earlier[names[job.index]])

    failed = [source for source, _ in problems]
    for _, line in problems:
        print(f"{PROG}: error: {line}", file=sys.stderr)
    try:
        with BatchProgress(len(jobs), enabled=not args.quiet and sys.stderr.isatty()) as bar:
            for job in skipped:
                bar.finish(job.index)

            def on_result(result) -> None:
                job, row = jobs[result.index], rows[result.index]
                bar.finish(result.index)
                writer.record(entry_for(row.source, row.variation(), names[result.index], result.report,
                                        result.sha256, result.error))
                if result.ok:
                    if not args.quiet:
                        shown = outputs.join(args.output, names[result.index])
                        bar.say(summary_line(shown, result.report, row.bits, job.stems_dir), sys.stdout)
                    return
                failed.append(job.source)
                if getattr(args, "debug", False) and result.traceback:
                    bar.say(result.traceback.rstrip(), sys.stderr)
                bar.say(f"{PROG}: error: {result.error}", sys.stderr)

            if args.dask:
                from synth.app.cluster import connect, run_jobs_dask

                with connect(args.dask) as client:
                    run_jobs_dask(todo, client, on_result, describe_error=batch_error)
            else:
                from synth.app.batch import run_jobs

                run_jobs(todo, args.jobs, on_result, on_progress=bar.update, describe_error=batch_error)
    finally:
        writer.close(order=list(names))
        for job in todo:
            outputs.remove_stale_temps(job.output)

    n_inputs = len(jobs) + len(problems)
    n_failed = len(failed)
    if skipped and not args.quiet:
        plural = "" if len(skipped) == 1 else "s"
        print(f"skipped {len(skipped)} row{plural} written before with the checksum the manifest records")
    if n_failed:
        shown = ", ".join(failed[:5]) + (f" and {n_failed - 5} more" if n_failed > 5 else "")
        print(f"{PROG}: error: {n_failed} of {n_inputs} inputs failed ({shown}); "
              f"{n_inputs - n_failed} written to {args.output}", file=sys.stderr)
        return EXIT_ERROR
    if not args.quiet:
        plural = "" if n_inputs == 1 else "s"
        print(f"rendered {n_inputs} input{plural} to {args.output}")
    return EXIT_OK
