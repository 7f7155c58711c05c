#!/usr/bin/env python3
"""`make messages`: the console's marked strings into locale/<language>/LC_MESSAGES/django.po
(Django's makemessages, which needs GNU gettext's xgettext), then, with --compile, the .mo files
the console loads (committed, so a fresh clone needs no gettext to run).

--root DIR extracts in a copy of the tree (tests/i18n uses it to find a stale catalog).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

LANGUAGES = ("zh_Hans", "ru")
# What is not the console: tooling, tests, and the provider sandbox (a simulator, English only).
IGNORE = (
    ".venv",
    "var",
    "build",
    "tests",
    "scripts",
    "docs",
    "deploy",
    "static",
    "energydash/sandbox/*",
)


def run(root: Path, compile_too: bool) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "energydash.settings",
        "DEBUG": "1",
        "ENERGYDASH_FIELD_KEYS": os.environ.get("ENERGYDASH_FIELD_KEYS", "unused-for-messages"),
        "ENERGYDASH_VAR_DIR": str(root / "var"),
        "PYTHONPATH": str(root),
    }
    manage = [sys.executable, str(root / "manage.py")]
    extract = [*manage, "makemessages", "--no-obsolete", "--no-location", "--no-wrap"]
    extract += [f"--locale={language}" for language in LANGUAGES]
    extract += [f"--ignore={pattern}" for pattern in IGNORE]
    subprocess.run(extract, cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)
    if compile_too:
        compile_ = [*manage, "compilemessages", "--ignore=.venv", "--ignore=var"]
        subprocess.run(compile_, cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--compile", action="store_true", help="also compile the .mo files")
    args = parser.parse_args()
    run(args.root.resolve(), args.compile)


if __name__ == "__main__":
    main()
