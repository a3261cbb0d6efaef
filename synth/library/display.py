"""A picture of a voice in the spirit of the CMI's waveform pages: its segments in 3-D, its spectrum, its RAM."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from synth import hardware as hw
from synth.library.page4 import cycle_harmonics
from synth.units import amplitude_db, note_name
from synth.voice import Voice

SEG = hw.SEGMENT_SAMPLES
FORMATS = (".png", ".svg", ".pdf")

# The CMI's monitor drew green on black; the loop is picked out in amber (a choice).
BACKGROUND = "#050a06"
PANEL = "#08120a"
GREEN = "#46f08a"
DIM_GREEN = "#1d6b3c"
AMBER = "#ffb347"
GRID = "#163822"
TEXT = "#b8f5cf"
SUBTITLE = "#7fcf9f"
SPECTRUM_FLOOR_DB = -90.0
SUBTITLE_MAX_CHARS = 150  # what fits across the picture in the subtitle's type


class DisplayError(ValueError):
    """A picture that cannot be drawn or written."""


def used_samples(voice: Voice) -> int:
    """How much of the RAM the voice plays: 32 segments in Mode 1; in Mode 4, up to the last
    sample that is not 0 or the loop's end, whichever is later."""
    if voice.mode == 1:
        return hw.MODE1_SEGMENTS * SEG
    nonzero = np.flatnonzero(voice.wave)
    end = int(nonzero[-1]) + 1 if nonzero.size else 0
    if voice.looped:
        end = max(end, (voice.loop_end_segment + 1) * SEG)
    return end


def _title(voice: Voice) -> str:
    parts = [voice.name, f"Mode {voice.mode}", f"{voice.bits}-bit"]
    if voice.mode == 4:
        parts += [f"root {note_name(voice.root_key)} ({voice.root_key})", f"{voice.recording_rate_hz:,.0f} Hz"]
    else:
        parts.append(f"{voice.segment_time_s * 1000:.0f} ms per segment")
    if voice.looped:
        parts.append(f"loop segments {voice.loop_start_segment + 1}-{voice.loop_end_segment + 1}")
    else:
        parts.append("no loop")
    return "   ".join(parts)


def _style(ax) -> None:
    ax.set_facecolor(PANEL)
    ax.tick_params(colors=TEXT, labelsize=8)
    for spine in ax.spines.values():
        spine.set_color(DIM_GREEN)
    ax.xaxis.label.set_color(TEXT)
    ax.yaxis.label.set_color(TEXT)
    ax.title.set_color(TEXT)
    ax.grid(True, color=GRID, linewidth=0.6)


# At most this many segment lines in the 3-D stack; longer sounds show every k-th (a choice: more
# lines than this merge into a grey block at the picture's size).
MAX_STACK_LINES = 48


def _stack(fig, spec, voice: Voice) -> None:
    """The segments as a 3-D stack of lines, each hiding what lies behind it, as the CMI drew them."""
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    ax = fig.add_subplot(spec, projection="3d")
    full = 2 ** (voice.bits - 1)
    n_segments = hw.MODE1_SEGMENTS if voice.mode == 1 else hw.N_SEGMENTS
    segments = voice.segments()[:n_segments] / full
    n_show = n_segments
    if voice.mode == 4:
        # Silent segments past the sound add nothing but clutter: stop a little after it.
        n_show = min(n_segments, max(8, -(-used_samples(voice) // SEG)))
    step = -(-n_show // MAX_STACK_LINES)
    shown = list(range(0, n_show, step))
    x = np.arange(SEG)
    floor = -1.0
    polygons, edges = [], []
    for s in shown:
        z = segments[s]
        # A closed outline down to the floor, filled with the background: the hidden-line look.
        verts = [(0, s + 1, floor), *zip(x, np.full(SEG, s + 1), z, strict=True), (SEG - 1, s + 1, floor)]
        polygons.append(verts)
        looped = voice.looped and voice.loop_start_segment <= s <= voice.loop_end_segment
        edges.append(AMBER if looped else GREEN)
    faces = Poly3DCollection(polygons, facecolors=PANEL, edgecolors=edges, linewidths=0.8, alpha=1.0)
    ax.add_collection3d(faces)
    ax.set_xlim(0, SEG - 1)
    ax.set_ylim(1, max(n_show, 2))
    ax.set_zlim(floor, 1)
    ax.set_xlabel("sample in segment", color=TEXT, fontsize=8, labelpad=2)
    ax.set_ylabel("segment", color=TEXT, fontsize=8, labelpad=2)
    ax.set_zlabel("level", color=TEXT, fontsize=8, labelpad=0)
    ax.view_init(elev=30, azim=-58)
    ax.set_box_aspect((1.0, 1.5, 0.6))
    ax.set_facecolor(BACKGROUND)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_pane_color((0.03, 0.07, 0.04, 1.0))
        axis._axinfo["grid"]["color"] = GRID
        axis._axinfo["grid"]["linewidth"] = 0.5
        axis.line.set_color(DIM_GREEN)
    ax.tick_params(colors=TEXT, labelsize=7)
    if voice.mode == 1:
        what = "32 cycles (Mode 1)"
    else:
        what = f"segments 1-{n_show} of 128 (Mode 4)" + (f", every {step}" if step > 1 else "")
    ax.set_title(f"wave RAM: {what}", color=TEXT, fontsize=10, pad=0)


def _phosphor():
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("phosphor", [PANEL, DIM_GREEN, GREEN, "#eafff1"])


def _harmonic_profile(fig, spec, voice: Voice) -> None:
    """Mode 1: each cycle's harmonics, 1-32, over the 32 segments (Page 4's view)."""
    ax = fig.add_subplot(spec)
    full = 2 ** (voice.bits - 1)
    cycles = voice.segments()[: hw.MODE1_SEGMENTS] / full
    levels = amplitude_db(cycle_harmonics(cycles)[:, :32])
    levels = np.maximum(levels, -60.0)
    image = ax.imshow(levels.T, origin="lower", aspect="auto", cmap=_phosphor(),
                      extent=(0.5, hw.MODE1_SEGMENTS + 0.5, 0.5, 32.5), vmin=-60.0, vmax=0.0)
    _style(ax)
    ax.grid(False)
    ax.set_xlabel("segment")
    ax.set_ylabel("harmonic")
    ax.set_title("harmonic profile (dB of full scale)", fontsize=10)
    bar = fig.colorbar(image, ax=ax, pad=0.02, fraction=0.05)
    bar.ax.tick_params(colors=TEXT, labelsize=7)
    bar.outline.set_edgecolor(DIM_GREEN)


def _spectrum(fig, spec, voice: Voice) -> None:
    """Mode 4: the spectrum of the RAM the voice plays, at its recording rate."""
    ax = fig.add_subplot(spec)
    full = 2 ** (voice.bits - 1)
    n = max(used_samples(voice), SEG)
    x = voice.wave[:n] / full
    window = np.hanning(n)
    spectrum = np.fft.rfft(x * window) / (np.sum(window) / 2)
    freqs = np.fft.rfftfreq(n, 1.0 / voice.recording_rate_hz)
    db = np.maximum(amplitude_db(spectrum), SPECTRUM_FLOOR_DB)
    ax.fill_between(freqs[1:], SPECTRUM_FLOOR_DB, db[1:], color=DIM_GREEN, alpha=0.6, linewidth=0)
    ax.plot(freqs[1:], db[1:], color=GREEN, linewidth=0.7)
    ax.set_xscale("log")
    ax.set_xlim(max(freqs[1], 20.0), voice.recording_rate_hz / 2)
    ax.set_ylim(SPECTRUM_FLOOR_DB, max(0.0, float(db.max()) + 3))
    _style(ax)
    ax.set_xlabel("frequency at the recording rate (Hz)")
    ax.set_ylabel("dB of full scale")
    ax.set_title(f"spectrum of the {n:,} samples played", fontsize=10)


def _ram_strip(fig, spec, voice: Voice) -> None:
    """The whole RAM as one waveform, segment lines every 16, the loop shaded."""
    ax = fig.add_subplot(spec)
    full = 2 ** (voice.bits - 1)
    levels = voice.wave / full
    seg_axis = np.arange(hw.WAVE_RAM_SAMPLES) / SEG
    if voice.looped:
        ax.axvspan(voice.loop_start_segment, voice.loop_end_segment + 1, color=AMBER, alpha=0.18, linewidth=0)
    if voice.mode == 1:
        ax.axvspan(hw.MODE1_SEGMENTS, hw.N_SEGMENTS, color="#000000", alpha=0.45, linewidth=0)
    ax.plot(seg_axis, levels, color=GREEN, linewidth=0.4)
    ax.set_xlim(0, hw.N_SEGMENTS)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xticks(np.arange(0, hw.N_SEGMENTS + 1, 16))
    _style(ax)
    ax.set_xlabel("segment (128 samples each)")
    ax.set_ylabel("level")
    bits = voice.bits
    used = used_samples(voice)
    ax.set_title(f"wave RAM, {used * bits // 8:,} of {hw.WAVE_RAM_SAMPLES * bits // 8:,} bytes used", fontsize=10)


def draw_voice(voice: Voice, out_path: str | os.PathLike, dpi: int = 110) -> Path:
    """Draw the voice's page to out_path (.png, .svg or .pdf), written atomically."""
    out_path = Path(out_path)
    if out_path.suffix.lower() not in FORMATS:
        raise DisplayError(f"{out_path}: unsupported picture format (use {', '.join(FORMATS)})")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.gridspec import GridSpec

    fig = plt.figure(figsize=(13.0, 7.2), facecolor=BACKGROUND)
    try:
        grid = GridSpec(2, 2, figure=fig, width_ratios=(1.15, 1.0), height_ratios=(1.25, 1.0),
                        left=0.02, right=0.97, top=0.85, bottom=0.09, wspace=0.12, hspace=0.42)
        _stack(fig, grid[:, 0], voice)
        if voice.mode == 1:
            _harmonic_profile(fig, grid[0, 1], voice)
        else:
            _spectrum(fig, grid[0, 1], voice)
        _ram_strip(fig, grid[1, 1], voice)
        fig.suptitle(_title(voice), color=TEXT, fontsize=13, fontfamily="monospace", x=0.5, y=0.965)
        subtitle = " - ".join(part for part in (voice.role, voice.source) if part)
        if len(subtitle) > SUBTITLE_MAX_CHARS:
            subtitle = subtitle[: SUBTITLE_MAX_CHARS - 3] + "..."
        if subtitle:
            fig.text(0.5, 0.92, subtitle, color=SUBTITLE, fontsize=9,
                     ha="center", fontfamily="monospace")
        tmp = out_path.with_name(f".{out_path.name}.partial-{os.getpid()}{out_path.suffix}")
        try:
            fig.savefig(tmp, dpi=dpi, facecolor=BACKGROUND, format=out_path.suffix[1:].lower())
            os.replace(tmp, out_path)
        finally:
            if tmp.exists():
                tmp.unlink()
    finally:
        plt.close(fig)
    return out_path
