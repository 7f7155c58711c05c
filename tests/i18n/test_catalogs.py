"""The translation catalogs are complete and current: every entry of locale/zh_Hans and
locale/ru is translated (every plural form), none is fuzzy or obsolete, placeholders match,
the committed .mo files are the .po files compiled, and every string marked in the code and
templates is in the catalogs (a stale catalog fails here, not in front of an operator)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LANGUAGES = {"zh_Hans": 1, "ru": 4}  # nplurals: Chinese has one form, Russian four (Django's)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]|%%")


def catalog(language: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))


def key(entry: polib.POEntry) -> tuple[str | None, str, str | None]:
    return entry.msgctxt, entry.msgid, entry.msgid_plural or None


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy_or_obsolete(language):
    po = catalog(language)
    assert len(po) > 500, "the catalog lost most of its entries"
    assert not po.metadata_is_fuzzy, "the header is marked fuzzy"
    problems = [f"untranslated: {e.msgid!r}" for e in po.untranslated_entries()]
    problems += [f"fuzzy: {e.msgid!r}" for e in po.fuzzy_entries()]
    problems += [f"obsolete: {e.msgid!r}" for e in po.obsolete_entries()]
    assert f"nplurals={LANGUAGES[language]};" in po.metadata["Plural-Forms"].replace(" ", "")
    for entry in po:
        if entry.msgid_plural:
            forms = [entry.msgstr_plural.get(i, "") for i in range(LANGUAGES[language])]
            if not all(form.strip() for form in forms):
                problems.append(f"a plural form missing: {entry.msgid!r}")
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_and_markup_survive_translation(language):
    problems = []
    for entry in catalog(language):
        wanted = sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        if entry.msgid_plural:
            texts = list(entry.msgstr_plural.values())
            # One Chinese form serves both numbers: the plural's placeholders.
        else:
            texts = [entry.msgstr]
        for text in texts:
            if sorted(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"placeholders differ: {entry.msgid!r} -> {text!r}")
            for tag in ("strong", "code", "em"):
                if entry.msgid.count(f"<{tag}>") != text.count(f"<{tag}>"):
                    problems.append(f"<{tag}> lost: {entry.msgid!r} -> {text!r}")
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_mo_files_are_the_catalogs_compiled(language):
    po = catalog(language)
    mo = polib.mofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.mo"))
    compiled = {key(e): (e.msgstr, dict(e.msgstr_plural)) for e in mo if e.msgid}
    written = {
        key(e): (e.msgstr, {i: s for i, s in e.msgstr_plural.items()})
        for e in po.translated_entries()
    }
    assert compiled == written, "run `make messages` and commit locale/*/LC_MESSAGES/django.mo"


def test_every_marked_string_is_in_the_catalogs(tmp_path):
    """Extract the strings again in a copy of the tree (scripts/messages.py, as `make messages`
    does) and compare: a string marked since the catalogs were written, or one that changed,
    fails here until the catalogs are regenerated and translated."""
    if not (shutil.which("xgettext") and shutil.which("msgmerge")):
        pytest.fail("GNU gettext is needed to extract messages: apt-get install gettext")
    copy = tmp_path / "tree"
    copy.mkdir()
    for name in ("energydash", "templates", "locale"):
        shutil.copytree(
            ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    shutil.copy2(ROOT / "manage.py", copy / "manage.py")
    shutil.copytree(ROOT / "scripts", copy / "scripts")
    subprocess.run(
        [sys.executable, str(copy / "scripts" / "messages.py"), "--root", str(copy)],
        check=True,
        timeout=300,
    )
    for language in LANGUAGES:
        committed = {key(e) for e in catalog(language) if not e.obsolete}
        fresh_po = polib.pofile(str(copy / "locale" / language / "LC_MESSAGES" / "django.po"))
        fresh = {key(e) for e in fresh_po if not e.obsolete}
        missing = sorted(map(str, fresh - committed))
        stale = sorted(map(str, committed - fresh))
        assert missing == [], f"{language}: marked but not in the catalog: {missing}"
        assert stale == [], f"{language}: in the catalog but no longer marked: {stale}"
        # The fresh extraction merged the committed translations: none may be left untranslated.
        untranslated = [e.msgid for e in fresh_po.untranslated_entries()]
        fuzzy = [e.msgid for e in fresh_po.fuzzy_entries()]
        assert untranslated == [] and fuzzy == [], f"{language}: run `make messages`"
