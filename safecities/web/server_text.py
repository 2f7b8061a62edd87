"""Messages the server composes, translated for the pages with their values kept.

Import row reasons, plan-check violations, protocol validation problems (JSON Schema and the
protocol's own rules), planner and form errors are built in English from fixed templates with
values in them ("unit PB-007 works 13 h ...", "45 is greater than the maximum of 40"). Each fixed
template is a msgid here, with `%(name)s` placeholders; `translate(text, gettext)` finds the
template a message was made from, translates the template and puts the values back.

The templates of `patrols.check.MSG` and `cameras.service.register.MSG` are read from those
modules (one place for each message), the others are listed below. A value that is itself a
template's output (e.g. the "outside the Brussels-Capital Region" of "point ...") is translated
too. A message no template matches is shown as it is; tests/web/test_web_pages.py checks that the
messages of the test fixtures all match and that every template has its NL and FR translation.

Written here rather than with a library: gettext translates fixed strings only, and the messages
are composed before the language is known (the CLI prints the same English text).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from safecities.web.labels import N_

#: Fixed templates of messages composed outside the web layer (see the module docstring).
TEMPLATES = [
    # incident import (register/validate.py, register/tables.py)
    N_("missing id"),
    N_("in the future"),
    N_("unparseable time"),
    N_("not a number"),
    N_("coordinates out of range"),
    N_("point %(where)s"),
    N_("outside the Brussels-Capital Region"),
    N_("outside Belgium"),
    N_("outside the bounds %(bounds)s"),
    N_("unknown kind (one of %(kinds)s)"),
    N_("not a whole number"),
    N_("negative count"),
    N_("implausible count (> 50)"),
    N_("duplicate id (first at row %(row)s)"),
    N_("%(file)s: cannot be decoded as UTF-8 or Windows-1252 text"),
    N_("%(file)s: malformed CSV: %(detail)s"),
    N_("%(file)s: empty file (no header row)"),
    N_("%(file)s: header has empty or repeated column names: %(header)s"),
    N_("%(file)s: invalid JSON: %(detail)s at line %(line)s"),
    N_("%(file)s: expected a GeoJSON FeatureCollection"),
    N_("%(file)s: larger than %(n)s MB"),
    N_(
        "%(file)s: missing column(s) %(columns)s; found %(found)s (give a mapping file with --mapping)"  # noqa: E501
    ),
    N_("%(n)s problem(s), nothing imported; first: %(first)s"),
    # one row error as a line (domain.RowError.__str__): camera edit form, first import problem
    N_("%(where)s: field %(field)s: %(reason)s (value %(value)s)"),
    N_("%(where)s: field %(field)s: %(reason)s"),
    # camera import (cameras/schema.py, cameras/importers.py)
    N_("no column for this field (add a --mapping)"),
    N_("duplicate id (also row %(row)s)"),
    N_("out of range [%(lo)s, %(hi)s]"),
    N_("expected yes/no (ja/nee, oui/non)"),
    N_("unknown value; expected one of %(allowed)s"),
    N_("not a date (YYYY-MM-DD or DD/MM/YYYY)"),
    N_("unknown field"),
    N_("value is missing"),
    N_("position is outside Belgium"),
    N_("a direction needs an opening angle"),
    N_("identical to row %(row)s (the same camera twice in one file)"),
    N_("gives the same register id %(id)s as row %(row)s"),
    N_("register id %(id)s belongs to a camera added by hand"),
    N_("register id %(id)s is held by another camera"),
    N_("not an allowed id"),
    N_("another municipality's namespace"),
    # review methods (review/its.py, review/did.py), shown under each result
    N_("segmented %(family)s GLM, log link, trend + Fourier seasonality, level and slope change"),
    N_("two-way fixed effects OLS, unit-clustered covariance (one adoption date)"),
    N_("poisson"),
    N_("negative binomial"),
    # camera planner and hotspots forms
    N_("no candidate sites or no demand points to plan with"),
    N_("no incidents recorded for %(city)s: import some first"),
    N_("--end must be after --start"),
    N_("--start and --end are required"),
    N_("--methods: choose at least one"),
    N_("--methods: at most %(n)s per run"),
    N_("no events before --at %(at)s"),
    # protocol documents: JSON Schema (jsonschema's messages) and the protocol's own rules
    N_("%(name)s is a required property"),
    N_("%(value)s is greater than the maximum of %(max)s"),
    N_("%(value)s is less than the minimum of %(min)s"),
    N_("%(value)s is greater than or equal to the maximum of %(max)s"),
    N_("%(value)s is less than or equal to the minimum of %(min)s"),
    N_("%(value)s is not of type %(type)s"),
    N_("%(value)s is not one of %(options)s"),
    N_("%(value)s does not match %(pattern)s"),
    N_("%(value)s is not a %(format)s"),
    N_("%(value)s should be non-empty"),
    N_("%(value)s is too short"),
    N_("%(value)s is too long"),
    N_("Additional properties are not allowed (%(names)s was unexpected)"),
    N_("Additional properties are not allowed (%(names)s were unexpected)"),
    N_("unknown time zone %(tz)s"),
    N_("end %(end)s is not after start %(start)s"),
    N_("duplicate id %(id)s"),
    N_("unknown command post %(post)s"),
    N_("a zone closed to soldiers cannot require mixed patrols"),
    N_("unknown zone %(zone)s"),
    N_("%(day)s is outside the protocol period %(start)s - %(end)s"),
    N_("end %(end)s is not after start %(start)s (split a FIPA over midnight in two)"),
    N_("%(n)s soldiers exceed the cap of %(cap)s"),
    N_("%(lo)s h is more than shift_max_hours %(hi)s h"),
    N_("%(length)s h is outside [%(lo)s, %(hi)s] h"),
    N_("duplicate unit code %(code)s"),
    N_("unit code %(code)s already defined"),
    N_("no units: give `units` or `unit_series`"),
    # patrol page notices: "#3 antwerp: requested", a plan made
    N_("#%(id)s: %(status)s"),
    N_("#%(id)s %(city)s: %(status)s"),
    N_("%(name)s: %(rows)s / %(status)s / gap %(gap)s"),
    N_("from/to: YYYY-MM-DD"),
    N_("protocol %(id)s is %(status)s: no further decision possible"),
    N_("protocol %(id)s already has the %(role)s approval"),
    N_(
        "%(actor)s already decided as the other approver; a different user must approve as %(role)s"
    ),
    # protocol request builder (patrols/builder.py)
    N_("unknown station %(station)s for %(city)s"),
    N_("a GeoJSON FeatureCollection is expected"),
    N_("a Feature with a Polygon geometry is expected"),
    N_("a Polygon or MultiPolygon is expected"),
    N_("the outline crosses itself"),
    N_("not a valid geometry (%(detail)s)"),
    N_("%(value)s is not a date (YYYY-MM-DD)"),
    N_("the file is larger than 5 MB"),
    # re-planning a saved plan (patrols/replan.py parse_changes, service/saved.py, the plan page)
    N_("%(source)s: %(n)s problem(s)"),
    N_("the request cannot be met inside the protocol"),
    N_("%(where)s: %(value)s is not in the protocol"),
    N_("%(where)s: %(value)s is not a unit of the protocol"),
    N_("%(where)s: not an ISO 8601 time"),
    N_("%(where)s: not after from"),
    N_("%(where)s: a number of soldiers >= 0"),
    N_(
        "%(where)s: %(value)s is above the protocol's cap %(cap)s (only a lower cap is a change; a higher one is a protocol amendment)"  # noqa: E501
    ),
    N_("from: re-plan from a day of the plan (%(first)s to %(last)s), not %(day)s"),
    N_("changes: give a zone closed, a unit unavailable or a lower cap"),
    N_(
        "%(name)s: re-planned from %(day)s; %(changed)s of %(shifts)s shifts and %(vchanged)s of %(visits)s visits changed; gap %(gap)s"  # noqa: E501
    ),
    N_(
        "%(name)s: re-planned from %(day)s; %(changed)s of %(shifts)s shifts and %(vchanged)s of %(visits)s visits changed; gap %(gap)s; keeping the old plan failed: planned afresh from that day"  # noqa: E501
    ),
    # plan check: times without or with a wrong UTC offset
    N_("has no UTC offset (write e.g. 2026-04-06T22:00:00+02:00)"),
    N_("has offset %(written)s, but %(tz)s is at %(want)s at that instant"),
]

#: The conjunction between phrases listed in one value (see `translate`), spaces included.
AND = N_("conjunction| and ")

#: Statuses and decisions shown in tables (msgids carry a context prefix where the English word
#: is shared with another meaning: a camera is "active" (FR "active"), a protocol "active" is in
#: force (FR "en vigueur")).
PROTOCOL_STATUS_LABELS = {
    "requested": N_("protocol status|requested"),
    "active": N_("protocol status|active"),
    "refused": N_("protocol status|refused"),
    "expired": N_("protocol status|expired"),
    "superseded": N_("protocol status|superseded"),
}
DECISION_LABELS = {"approve": N_("decision|approved"), "refuse": N_("decision|refused")}
#: Solver outcomes (HiGHS for cameras, CP-SAT for patrols), lower-cased.
SOLVER_STATUS_LABELS = {
    "optimal": N_("solver|optimal"),
    "feasible": N_("solver|feasible"),
    "time_limit_reached": N_("solver|time limit reached"),
    "infeasible": N_("solver|infeasible"),
    "unknown": N_("solver|unknown"),
}
#: Rules of the independent plan check (patrols.check.MSG keys), in the violations table.
RULE_LABELS = {
    "soldier_cap": N_("rule|soldier cap"),
    "soldier_cap_liaisons": N_("rule|soldier cap"),  # the message when liaisons count
    "mixed_police_min": N_("rule|police in a mixed patrol"),
    "soldiers_max": N_("rule|soldiers per patrol"),
    "police_only_min": N_("rule|police-only patrol"),
    "approved_area": N_("rule|approved area"),
    "period": N_("rule|protocol period"),
    "zone": N_("rule|zone"),
    "command_post": N_("rule|command post"),
    "fipa_unknown": N_("rule|unknown FIPA"),
    "fipa_soldiers": N_("rule|FIPA soldiers"),
    "fipa_police": N_("rule|FIPA police"),
    "zone_min_mixed": N_("rule|mixed patrols per zone"),
    "liaison": N_("rule|Defence liaison"),
    "liaison_double": N_("rule|liaison in two places"),
    "liaison_working_time": N_("rule|liaison without rest"),
    "liaison_weekly_hours": N_("rule|liaison weekly hours"),
    "unit_unknown": N_("rule|unknown unit"),
    "unit_count": N_("rule|unit count"),
    "unit_double_booked": N_("rule|unit booked twice"),
    "shift_length": N_("rule|shift length"),
    "rest": N_("rule|rest between shifts"),
    "weekly_hours": N_("rule|weekly hours"),
    "format": N_("rule|file format"),
    "continuity": N_("rule|continuity with the previous plan"),
    "consecutive_days": N_("rule|days in a row"),
    "consecutive_nights": N_("rule|nights in a row"),
    "zone_closed": N_("rule|closed zone"),
    "handover": N_("rule|handover"),
    "travel": N_("rule|travel between zones"),
}
LABELS = {"protocol_status": PROTOCOL_STATUS_LABELS, "decision": DECISION_LABELS,
          "solver": SOLVER_STATUS_LABELS, "rule": RULE_LABELS}  # fmt: skip


def label(kind: str, value: object, gettext: Callable[[str], str]) -> str:
    """The translated word for a status or decision `value` of `kind`; unknown values as they
    are (never an error on a new status)."""
    key = str(value).lower() if kind == "solver" else str(value)
    msgid = LABELS[kind].get(key)
    return gettext(msgid) if msgid else str(value)


_FIELD = re.compile(r"\{(\w+)(?:![rs])?(?::[^}]*)?\}")


def _from_format(template: str) -> str:
    """A str.format template ("unit {unit} works {hours:g} h") as a msgid ("%(unit)s ...")."""
    return _FIELD.sub(lambda m: f"%({m.group(1)})s", template.replace("%", "%%"))


def module_templates() -> list[str]:
    """The message templates other modules keep in their own MSG tables."""
    out: list[str] = []
    try:
        from safecities.patrols.check import MSG as CHECK
    except ImportError:  # capability not installed: nothing of it to translate
        CHECK = {}
    try:
        from safecities.cameras.service.register import MSG as CAMERAS
    except ImportError:
        CAMERAS = {}
    try:
        from safecities.patrols.explain import MSG as EXPLAIN
    except ImportError:
        EXPLAIN = {}
    for table in (CHECK, CAMERAS, EXPLAIN):
        out += [_from_format(t) for t in table.values()]
    return out


def part_templates() -> list[str]:
    """Phrases that are only ever values inside a message ("the railway zones (...)"): matched
    in values, never as a whole message (a short phrase would swallow a longer message)."""
    try:
        from safecities.patrols.explain import PART
    except ImportError:
        return []
    return [_from_format(t) for t in PART.values()]


def all_templates() -> list[str]:
    return list(dict.fromkeys(TEMPLATES + module_templates() + part_templates()))


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _pattern(template: str) -> re.Pattern[str]:
    parts, names, pos = [], set(), 0
    for m in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[pos : m.start()].replace("%%", "%")))
        name = m.group(1)
        # a value may be empty (" less 2 liaisons on duty" or nothing)
        parts.append(f"(?P={name})" if name in names else f"(?P<{name}>.*?)")
        names.add(name)
        pos = m.end()
    parts.append(re.escape(template[pos:].replace("%%", "%")))
    return re.compile("".join(parts), re.S)


@lru_cache(maxsize=2)
def _compiled(parts: bool) -> list[tuple[str, re.Pattern[str]]]:
    # most literal text first, so "end X is not after start Y (split ...)" wins over the shorter
    phrases = set(part_templates())
    pats = [(t, _pattern(t)) for t in all_templates() if parts or t not in phrases]
    return sorted(pats, key=lambda tp: -len(_PLACEHOLDER.sub("", tp[0])))


def match(text: str, *, value: bool = False) -> tuple[str, dict[str, str]] | None:
    """(template, values) of the template `text` was made from, or None; `value`: `text` is a
    value inside a message, which may also be one of the phrases (`part_templates`)."""
    for template, pat in _compiled(value):
        m = pat.fullmatch(text)
        if m:
            return template, m.groupdict()
    return None


def translate(text: object, gettext: Callable[[str], str], _depth: int = 0) -> str:
    """`text` in the reader's language when it was made from a known template (values kept, a
    value that is itself a known message translated too); otherwise unchanged."""
    if text is None:
        return ""
    s = str(text)
    if not s:
        return s
    if _depth and " and " in s:
        # a value listing phrases ("the patrol minimum in ... and FIPA f1"): each one translated
        return gettext(AND).join(translate(x, gettext, _depth) for x in s.split(" and "))
    found = match(s, value=_depth > 0) if _depth < 3 else None
    if found is None:
        return s
    template, values = found
    values = {k: translate(v, gettext, _depth + 1) for k, v in values.items()}
    if "status" in values:  # "#3: requested": the status word of a protocol or a plan
        v = values["status"]
        values["status"] = label("protocol_status", v, gettext) if v in PROTOCOL_STATUS_LABELS \
            else label("solver", v, gettext)  # fmt: skip
    try:
        return gettext(template) % values
    except (KeyError, ValueError, TypeError):  # a broken translation never hides the message
        return s
