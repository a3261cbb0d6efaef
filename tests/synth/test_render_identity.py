"""Renders stay sample for sample what they were: the engine's code may be reorganised, its sound may not."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STORED = ROOT / "tests" / "data" / "render_sha256.json"


def load_identity():
    spec = importlib.util.spec_from_file_location("identity", ROOT / "benchmarks" / "identity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_fingerprinted_render_is_byte_identical_to_the_stored_one():
    stored = json.loads(STORED.read_text())
    found = load_identity().fingerprints()
    assert set(found) == set(stored)
    assert {name: found[name] for name in stored} == stored
