"""`make run` points the chain reader at the sandbox's chain, unless told otherwise.

scripts/run is copied beside a fake .venv/bin/python that prints what it was given and stops the
script (as a taken port does), so nothing is started."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def chain_url_seen_by_make_run(tmp_path: Path, **env: str) -> str:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "run", tmp_path / "scripts" / "run")
    fake = tmp_path / ".venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text('#!/bin/sh\necho "url=${ENERGYDASH_TRON_API_URL-<unset>}" >&2\nexit 1\n')
    fake.chmod(0o755)
    base = {k: v for k, v in os.environ.items() if not k.startswith("ENERGYDASH_")}
    base.update(env, PORT="8123")
    done = subprocess.run(
        [str(tmp_path / "scripts" / "run")], env=base, capture_output=True, text=True, timeout=60
    )
    return done.stderr.splitlines()[0]


@pytest.mark.parametrize(
    ("env", "seen"),
    [
        ({}, "url=http://127.0.0.1:8123/sandbox/chain"),
        ({"ENERGYDASH_SANDBOX": "On"}, "url=http://127.0.0.1:8123/sandbox/chain"),
        ({"ENERGYDASH_TRON_API_URL": ""}, "url="),
        ({"ENERGYDASH_TRON_API_URL": "http://10.0.0.5:8090"}, "url=http://10.0.0.5:8090"),
        ({"ENERGYDASH_SANDBOX": "0"}, "url=<unset>"),
    ],
)
def test_make_run_points_the_reader_at_the_sandbox_chain(tmp_path, env, seen):
    assert chain_url_seen_by_make_run(tmp_path, **env) == seen
