"""Numbers, percentages, dates and times in the reader's language (Babel), as Jinja filters.

`{{ x | number }}`, `{{ share | percent }}`, `{{ day | date }}`, `{{ moment | datetime }}` read
the page's language from the template context (`lang`, set by pages.core.render), so a template
never formats a figure itself: 1234.5 is "1.234,5" in NL and "1 234,5" in FR, a date "3 mrt 2025".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import InvalidOperation
from typing import Any

from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent
from jinja2 import pass_context

from safecities.domain import BRUSSELS_TZ

#: Babel locales of the interface languages (Belgian variants: separators as in Belgium).
LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "en": "en_GB"}


def locale_of(lang: str | None) -> str:
    return LOCALES.get(lang or "en", LOCALES["en"])


def number(
    value: Any, lang: str | None = None, digits: int | None = None, signed: bool = False
) -> str:
    """A number in the language's notation; `digits` fixes the decimals (default: as given,
    at most 3); `signed` writes + before a positive number (effects). None or a non-number is
    returned as text."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if x != x:  # NaN: no figure to show
        return "–"
    fmt = "#,##0" if digits == 0 else (f"#,##0.{'0' * digits}" if digits else "#,##0.###")
    if signed:
        fmt = f"+{fmt};-{fmt}"
    try:
        return format_decimal(value, format=fmt, locale=locale_of(lang))
    except (InvalidOperation, ValueError, OverflowError):  # e.g. 1e300: too many digits to round
        return f"{x:.6g}"


def percent(value: Any, lang: str | None = None, digits: int = 1) -> str:
    """A share (0.25) as a percentage ("25,0 %" in NL/FR, "25.0%" in EN); None as a dash."""
    if value is None:
        return "–"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if x != x:
        return "–"
    # NL and FR write a (no-break) space before %, English none
    sign = "%" if lang in (None, "en") else "\u00a0%"
    fmt = "#,##0" + (f".{'0' * digits}" if digits else "") + sign
    try:
        return format_percent(x, format=fmt, locale=locale_of(lang))
    except (InvalidOperation, ValueError, OverflowError):
        return f"{x * 100:.6g}{sign}"


def _as_moment(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            try:
                return date.fromisoformat(value)
            except ValueError:
                return value
    return value


def day(value: Any, lang: str | None = None, form: str = "medium") -> str:
    """A date (or an aware datetime, read in Brussels time) as "3 mrt 2025" / "3 mars 2025"."""
    v = _as_moment(value)
    if isinstance(v, datetime):
        v = v.astimezone(BRUSSELS_TZ).date() if v.tzinfo else v.date()
    if not isinstance(v, date):
        return "" if v is None else str(v)
    return format_date(v, format=form, locale=locale_of(lang))


def moment(value: Any, lang: str | None = None) -> str:
    """An instant in Brussels time to the minute, e.g. "3 mrt 2025 22:02" / "3 mars 2025 22:02"
    (the date as `day`, so a table reads the same in every column)."""
    v = _as_moment(value)
    if not isinstance(v, datetime):
        return day(v, lang) if isinstance(v, date) else ("" if v is None else str(v))
    if v.tzinfo is not None:
        v = v.astimezone(BRUSSELS_TZ)
    return f"{day(v, lang)} {format_time(v, 'HH:mm', locale=locale_of(lang))}"


def place_name(props: dict[str, Any], lang: str | None = None) -> str:
    """A place's name in the reader's language where the data has both (`name_nl`, `name_fr`:
    municipalities, stations): NL or FR alone, "FR / NL" in English (both are official in
    Brussels); otherwise the data's `name` as it is (zones have one name)."""
    nl, fr = props.get("name_nl"), props.get("name_fr")
    if nl and fr:
        return nl if lang == "nl" else fr if lang == "fr" else (fr if fr == nl else f"{fr} / {nl}")
    return str(props.get("name") or nl or fr or props.get("id") or "")


def _with_lang(fn):
    @pass_context
    def filt(ctx, value, *args, **kw):
        return fn(value, ctx.get("lang"), *args, **kw)

    filt.__name__ = fn.__name__
    return filt


#: Jinja filters (pages.core registers them on its environment).
FILTERS = {
    "number": _with_lang(number),
    "percent": _with_lang(percent),
    "date": _with_lang(day),
    "datetime": _with_lang(moment),
    "place": _with_lang(place_name),
}
