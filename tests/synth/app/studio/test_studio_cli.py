"""`liquidsky studio` as a user starts it: the URL with its token on the first line, the extra it needs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest


def test_liquidsky_studio_prints_its_url_with_the_token_first_and_stops_on_ctrl_c(tmp_path):
    httpx = pytest.importorskip("httpx2")
    pytest.importorskip("uvicorn", reason="the studio extra is not installed (pip install '.[studio]')")
    env = dict(os.environ, LIQUIDSKY_VOICE_DIR=str(tmp_path / "voices"))
    proc = subprocess.Popen([sys.executable, "-m", "synth", "studio", "--no-browser", "--port", "0"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and "/?token=" in url
        base, token = url.split("/?token=")
        assert len(token) >= 32
        with httpx.Client() as client:
            assert client.get(f"{base}/api/state").status_code == 403
            assert client.get(url.replace(token, token[:-1] + "x")).status_code == 403
            r = client.get(url, follow_redirects=True)  # the cookie set on the first load carries it on
            assert r.status_code == 200 and "LIQUIDSKY STUDIO" in r.text
            assert client.get(f"{base}/api/state").json()["model"] == "iix"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "stopped" in err


def test_without_the_studio_extra_the_command_says_what_to_install(monkeypatch, capsys):
    from synth.app.cli.main import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn now raises ImportError
    assert main(["studio", "--no-browser"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "liquidsky: error: liquidsky studio needs the studio extra: pip install 'liquidsky[studio]'"


def test_a_port_in_use_is_one_line_and_status_2(capsys):
    import socket

    pytest.importorskip("uvicorn", reason="the studio extra is not installed (pip install '.[studio]')")
    from synth.app.cli.main import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["studio", "--no-browser", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"liquidsky: error: cannot listen on 127.0.0.1 port {port}: in use (try --port N)"
