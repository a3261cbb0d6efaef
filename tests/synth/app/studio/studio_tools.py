"""Helpers of the studio's tests: driving the pages, screenshots, and measuring what they played."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

SHOTS_ENV = "LIQUIDSKY_STUDIO_SHOTS"  # a folder to keep the screenshots in (default: pytest's tmp folder)


def shot(page, name: str, tmp_path: Path) -> Path:
    folder = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"studio-page-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def lit_pixels(page, selector: str) -> int:
    """How many pixels of a canvas are drawn in (green above black)."""
    return page.evaluate(
        """(sel) => { const c = document.querySelector(sel);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 1; i < d.length; i += 4) if (d[i] > 60) n++; return n; }""",
        selector,
    )


def wait_status(page, text: str) -> None:
    page.wait_for_function("(t) => document.getElementById('status').textContent.includes(t)", arg=text,
                           timeout=10_000)


def show(page, key: str) -> None:
    page.locator("#area").focus()  # no field has the focus: the page's key chooses it, as on the CMI
    page.keyboard.press(key.lower())
    page.wait_for_function("(k) => studio.page === k", arg=key)


def mono(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float64)
    return a.mean(axis=1) if a.ndim == 2 else a


def level_db_at(audio: np.ndarray, rate_hz: int, freq_hz: float, width: float = 0.03) -> float:
    """The strongest line within +-width (relative) of freq_hz, in dB of full scale (Hann window)."""
    x = mono(audio)
    window = np.hanning(len(x))
    spectrum = np.abs(np.fft.rfft(x * window)) * 2 / window.sum()
    freqs = np.fft.rfftfreq(len(x), 1 / rate_hz)
    band = (freqs > freq_hz * (1 - width)) & (freqs < freq_hz * (1 + width))
    return float(20 * np.log10(max(spectrum[band].max(), 1e-12)))


def peak_hz(audio: np.ndarray, rate_hz: int, low_hz: float = 50.0, high_hz: float = 4000.0) -> float:
    x = mono(audio)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / rate_hz)
    band = (freqs > low_hz) & (freqs < high_hz)
    return float(freqs[band][np.argmax(spectrum[band])])


def onsets(audio: np.ndarray, rate_hz: int, threshold_db: float = -40.0, min_gap_s: float = 0.05) -> list[int]:
    """Frames where the level (1 ms windows) rises through threshold_db after at least min_gap_s below it."""
    x = np.abs(mono(audio))
    hop = max(1, rate_hz // 1000)
    n = len(x) // hop
    env = x[: n * hop].reshape(n, hop).max(axis=1)
    level = 20 * np.log10(np.maximum(env, 1e-9))
    found, quiet = [], int(min_gap_s * 1000)
    below = quiet
    for i, v in enumerate(level):
        if v >= threshold_db:
            if below >= quiet:
                found.append(i * hop)
            below = 0
        else:
            below += 1
    return found
