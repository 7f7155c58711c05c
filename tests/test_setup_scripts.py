"""The two commands' set-up scripts: what `make test` does about Chromium, what `make run` says
about a taken port. Every system command is a fake on PATH: nothing here touches the machine."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENSURE = ROOT / "scripts" / "ensure-chromium"


def fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


APT_INSTALLS = "installs"
APT_FAILS = "fails"


@pytest.fixture
def machine(tmp_path: Path):
    """A PATH holding only our fakes, and the Chromium path the script checks."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    chromium = tmp_path / "chromium"
    log = tmp_path / "calls.log"

    def run(*, uid: int, apt: str | None) -> subprocess.CompletedProcess[str]:
        fake(bin_dir, "id", f'[ "$1" = -u ] && echo {uid}\n')
        (bin_dir / "apt-get").unlink(missing_ok=True)
        if apt == APT_INSTALLS:
            # Debian's package drops the binary where the script looks for it.
            fake(
                bin_dir,
                "apt-get",
                f'echo "apt-get $*" >> "{log}"\n'
                f'case "$*" in *install*) printf "#!/bin/sh\\n" > "{chromium}"; '
                f'/bin/chmod +x "{chromium}";; esac\n',
            )
        elif apt == APT_FAILS:
            fake(
                bin_dir,
                "apt-get",
                f'echo "apt-get $*" >> "{log}"\n'
                'echo "E: Unable to locate package chromium" >&2; exit 100\n',
            )
        env = {"PATH": str(bin_dir), "ENERGYDASH_CHROMIUM": str(chromium), "HOME": str(tmp_path)}
        return subprocess.run(
            ["/bin/sh", str(ENSURE)], env=env, capture_output=True, text=True, timeout=60
        )

    return run, chromium, log


def test_chromium_present_needs_nothing(machine):
    run, chromium, log = machine
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    done = run(uid=0, apt=APT_INSTALLS)
    assert done.returncode == 0
    assert done.stdout == done.stderr == ""
    assert not log.exists()  # apt-get was never called


def test_chromium_missing_as_root_with_apt_is_installed_quietly_once(machine):
    run, chromium, log = machine
    first = run(uid=0, apt=APT_INSTALLS)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines() == [
        "Installing Debian's chromium for the browser tests (apt-get install chromium)..."
    ]
    assert first.stderr == ""
    assert os.access(chromium, os.X_OK)
    assert log.read_text().splitlines() == ["apt-get update -qq", "apt-get install -y -qq chromium"]
    again = run(uid=0, apt=APT_INSTALLS)
    assert again.returncode == 0 and again.stdout == ""
    assert len(log.read_text().splitlines()) == 2  # nothing installed the second time


@pytest.mark.parametrize(
    ("uid", "apt"), [(1000, APT_INSTALLS), (0, None)], ids=["not-root", "no-apt-get"]
)
def test_chromium_not_installable_stops_with_one_line_saying_what_to_install(machine, uid, apt):
    run, chromium, log = machine
    done = run(uid=uid, apt=apt)
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert "sudo apt-get install chromium" in line and str(chromium) in line
    assert not log.exists() and not chromium.exists()


def test_a_failed_install_says_so_in_one_line_and_stops(machine):
    run, chromium, log = machine
    done = run(uid=0, apt=APT_FAILS)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()  # apt-get's own chatter is kept quiet
    assert line.startswith("Could not install chromium with apt-get")
    assert not chromium.exists()


def test_make_test_checks_chromium_before_anything_else():
    recipe = (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in recipe.splitlines() if line.strip()]
    assert lines[0] == "@scripts/ensure-chromium"
    assert lines[1] == "@scripts/ensure-promtool"  # the alert-rule tests run promtool
    assert lines[2] == "@scripts/ensure-gettext"  # the catalog tests re-extract with xgettext
    assert "lint" in lines[3] and "test-unit" in lines[3] and "test-browser" in lines[3]


def test_make_run_on_a_taken_port_says_so_in_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "PORT": str(port)}
        done = subprocess.run(
            [str(ROOT / "scripts" / "run")], env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"Port {port} is already in use (another make run?); pick another: PORT={port + 1} make run"
    )
    assert "Traceback" not in done.stdout + done.stderr


def _soak_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("soak", ROOT / "scripts" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


GOOD_SOAK = {
    "orders_placed": 200,
    "duplicates": 0,
    "lost": 0,
    "not_final_not_in_review": 0,
    "mismatch_sun": {"itrx": 0, "netts": 0, "tronzap": 0},
    "unexpected_errors": 0,
    "double_submit_answers_differed": 0,
}


@pytest.mark.parametrize(
    "bad",
    [
        {"duplicates": 1},
        {"lost": 1},
        {"not_final_not_in_review": 3},
        {"mismatch_sun": {"itrx": 0, "netts": 0, "tronzap": -65_000}},
        {"unexpected_errors": 1},
        {"double_submit_answers_differed": 1},
        {"orders_placed": 0},
    ],
)
def test_the_soak_fails_on_any_doubled_lost_unsettled_or_mismatched_order(bad):
    soak = _soak_module()
    assert soak.passed(GOOD_SOAK)
    assert not soak.passed(GOOD_SOAK | bad)


def test_the_soak_refuses_a_database_name_it_would_not_dare_drop():
    soak = _soak_module()
    with pytest.raises(SystemExit, match="unusable database name"):
        soak.recreate_database("postgres://postgres@127.0.0.1:1/x;drop")
