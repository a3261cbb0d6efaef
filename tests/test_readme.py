"""The README's first screen and its Python snippet stay true."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_first_screen_gives_the_install_and_test_commands() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README.read_text(), re.S).group(1)
    lines = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert lines == [
        "pip install . && liquidsky render sonnerie --style ominous -o sonnerie.wav",
        'pip install ".[test]" && python -m pytest',
    ]


def test_readme_python_snippet_runs_and_renders_sound() -> None:
    snippet = re.search(r"## From Python\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    scope: dict = {}
    exec(compile(snippet, "README.md", "exec"), scope)
    audio, block, tail = scope["audio"], scope["block"], scope["tail"]
    assert scope["rate_hz"] == 44100
    assert audio.dtype == np.float32 and audio.shape[1] == 2 and len(audio) > 30 * 44100
    assert block.shape == (24000, 2) and np.abs(block).max() > 0.01
    assert np.abs(tail[-100:]).max() == 0.0  # the bell has rung out within the second
