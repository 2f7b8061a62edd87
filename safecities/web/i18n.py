"""NL / FR / EN through gettext catalogues (Babel .po files in locale/, compiled to .mo).

One catalogue per domain: `messages.po` for what every page shares, and one per capability
(`hotspots.po`, `cameras.po`, ...) so each page module keeps its strings beside it. A lookup tries
`messages` first, then the capability catalogues.

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


def _po(lang: str, domain: str = DOMAIN) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def catalogue_files(lang: str) -> list[Path]:
    """The .po files of `lang`: `messages.po` first, then the capability domains by name."""
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    others = sorted(p for p in folder.glob("*.po") if p.stem != DOMAIN)
    main = _po(lang)
    return ([main] if main.exists() else []) + others


def compile_catalogues() -> list[Path]:
    """Compile every stale .po to .mo next to it; returns the .mo files written."""
    written = []
    for po in (po for lang in LANGUAGES for po in catalogue_files(lang)):
        lang = po.parents[1].name
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


def _load(po: Path, lang: str) -> gettext.GNUTranslations:
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


@lru_cache(maxsize=8)
def translations(lang: str) -> gettext.NullTranslations:
    """Every domain of `lang` chained (messages first); unknown languages get English."""
    if lang not in LANGUAGES:
        lang = DEFAULT
    files = catalogue_files(lang)
    if not files:
        return gettext.NullTranslations()
    first, *rest = (_load(po, lang) for po in files)
    for t in rest:
        first.add_fallback(t)
    return first


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
    """Every msgid used by the templates (`_("...")`), labels.py and the page modules
    (`N_("...")`), in order."""
    import re

    here = Path(__file__).parent
    ids: list[str] = []
    pattern = re.compile(r"""(?:\bN_|\b_)\(\s*(["'])(.*?)\1\s*\)""")
    sources = sorted((here / "templates").glob("*.html")) + [here / "labels.py"]
    sources += sorted((here / "pages").glob("*.py"))
    sources += [here / "server_text.py"]
    for f in sources:
        ids += [m.group(2) for m in pattern.finditer(f.read_text(encoding="utf-8"))]
    return list(dict.fromkeys(ids))


def catalogue(lang: str) -> dict[str, str]:
    """msgid -> translation over every domain of `lang` (for tests and tooling)."""
    out: dict[str, str] = {}
    for po in reversed(catalogue_files(lang)):  # messages.po wins, as in translations()
        with po.open("rb") as fh:
            out |= {m.id: m.string for m in read_po(fh, locale=lang) if m.id}
    return out


def write_catalogues(
    translations_by_lang: dict[str, dict[str, str]],
    domain: str = DOMAIN,
    msgids: list[str] | None = None,
) -> None:
    """Regenerate locale/<lang>/LC_MESSAGES/<domain>.po with `msgids` (default: every extracted
    msgid) and the given translations (used when adding new strings)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    for lang in LANGUAGES:
        cat = Catalog(locale=lang, project="safecities", domain=domain, charset="utf-8")
        table = translations_by_lang.get(lang, {})
        for msgid in extract_messages() if msgids is None else msgids:
            cat.add(msgid, table.get(msgid, msgid if lang == "en" else ""))
        po = _po(lang, domain)
        po.parent.mkdir(parents=True, exist_ok=True)
        with po.open("wb") as fh:
            write_po(fh, cat, width=100, omit_header=False)
