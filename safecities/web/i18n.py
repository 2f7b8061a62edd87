"""NL / FR / EN through gettext catalogues (Babel .po files in locale/, compiled to .mo).

The .mo files are compiled from the .po files at startup when missing or older (no manual step);
if the package folder is read-only the catalogue is compiled in memory instead.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"nl": "Nederlands", "fr": "Français", "en": "English"}
DEFAULT = "en"
DOMAIN = "messages"


def _po(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalogues() -> list[Path]:
    """Compile every stale .po to .mo next to it; returns the .mo files written."""
    written = []
    for lang in LANGUAGES:
        po = _po(lang)
        mo = po.with_suffix(".mo")
        if not po.exists() or (mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime):
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        try:
            with mo.open("wb") as out:
                write_mo(out, catalog)
            written.append(mo)
        except OSError:
            pass
    return written


@lru_cache(maxsize=8)
def translations(lang: str) -> gettext.NullTranslations:
    if lang not in LANGUAGES:
        lang = DEFAULT
    po, mo = _po(lang), _po(lang).with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    if po.exists():
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        return gettext.GNUTranslations(buf)
    return gettext.NullTranslations()


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The language from the `lang` cookie, else the browser's Accept-Language, else English."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


def extract_messages() -> list[str]:
    """Every msgid used by the templates (`_("...")`) and labels.py (`N_("...")`), in order."""
    import re

    here = Path(__file__).parent
    ids: list[str] = []
    pattern = re.compile(r"""_\(\s*(["'])(.*?)\1\s*\)""")
    for f in sorted((here / "templates").glob("*.html")):
        ids += [m.group(2) for m in pattern.finditer(f.read_text(encoding="utf-8"))]
    ids += [m.group(2) for m in pattern.finditer((here / "labels.py").read_text(encoding="utf-8"))]
    return list(dict.fromkeys(ids))


def write_catalogues(translations_by_lang: dict[str, dict[str, str]]) -> None:
    """Regenerate locale/<lang>/LC_MESSAGES/messages.po (used when adding new strings)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    for lang in LANGUAGES:
        cat = Catalog(locale=lang, project="safecities", domain=DOMAIN, charset="utf-8")
        table = translations_by_lang.get(lang, {})
        for msgid in extract_messages():
            cat.add(msgid, table.get(msgid, msgid if lang == "en" else ""))
        po = _po(lang)
        po.parent.mkdir(parents=True, exist_ok=True)
        with po.open("wb") as fh:
            write_po(fh, cat, width=100, omit_header=False)
