"""User-facing labels of the web pages, in one place (English msgids; see locale/*.po)."""

from __future__ import annotations

from safecities.api.permissions import Action


def N_(s: str) -> str:  # noqa: N802 - gettext convention: marks a string for translation
    return s


#: (href, label, action) of the main menu; an entry shows only to roles allowed the action.
NAV = [
    ("/", N_("Dashboard"), Action.REFERENCE_READ),
    ("/incidents", N_("Incidents"), Action.INCIDENTS_READ),
    ("/hotspots", N_("Hotspots"), Action.HOTSPOTS_READ),
    ("/patrols", N_("Patrols"), Action.PATROLS_READ),
    ("/cameras", N_("Cameras"), Action.CAMERAS_READ),
    ("/review", N_("Review"), Action.REVIEW_READ),
    ("/audit", N_("Audit trail"), Action.AUDIT_READ),
    ("/users", N_("Accounts"), Action.USERS_READ),
]

ROLE_LABELS = {
    "admin": N_("administrator"),
    "analyst": N_("analyst"),
    "planner": N_("planner"),
    "police_commander": N_("police commander"),
    "defence_liaison": N_("Defence liaison"),
    "interior_approver": N_("Interior approver"),
    "defence_approver": N_("Defence approver"),
    "camera_operator": N_("municipal camera operator"),
    "auditor": N_("auditor"),
    "ministerial_staff": N_("ministerial staff"),
}

KIND_LABELS = {
    "shooting": N_("shooting"),
    "shots_fired": N_("shots fired without victim"),
    "armed_threat": N_("armed threat"),
    "other": N_("other"),
}

MAP_LABELS = {
    "municipalities": N_("Municipalities"),
    "metro_lines": N_("Metro lines"),
    "stations": N_("Stations"),
    "zones": N_("Named zones"),
    "incidents": N_("Incidents"),
    "all": N_("all"),
    "cameras": N_("Cameras"),
    "forecast": N_("Forecast risk"),
    "patrols": N_("Patrol plan"),
    "mixed": N_("mixed"),
    "police_only": N_("police only"),
    "police": N_("police"),
    "soldiers": N_("soldiers"),
    "outside_plan": N_("outside the plan's days"),
    # legend, units, tooltips, search (map.js fills {placeholders})
    "legend": N_("Legend"),
    "legend_municipality": N_("municipality boundary"),
    "legend_metro_line": N_("metro line (schematic)"),
    "legend_zone_hotspot": N_("hotspot zone"),
    "legend_zone_railway": N_("railway priority terrain"),
    "legend_zone_patrol": N_("approved patrol area"),
    "metro_station": N_("metro station"),
    "railway_station": N_("railway station"),
    "metro_line": N_("metro line {line}"),
    "legend_camera": N_("camera (register)"),
    "legend_incident": N_("incident (up to the slider's date)"),
    "forecast_units": N_("Expected incidents per day in a cell of {size} m"),
    "forecast_cell": N_("{risk} expected incidents per day (rank {rank})"),
    "forecast_not_drawn": N_("{n} cells of no risk are not drawn"),
    "legend_patrols_units": N_("Teams present in the chosen 15 minutes"),
    "legend_patrols_soldiers": N_("zone with soldiers present"),
    "legend_patrols_police": N_("zone with police teams only"),
    "legend_patrols_none": N_("zone without a team"),
    "plan_zone": N_("Plan patrols for {zone}"),
    "search": N_("Find a place"),
    "search_go": N_("Go"),
    "search_none": N_("No station, zone, municipality or camera of that name"),
    "place_municipalities": N_("municipality"),
    "place_zones": N_("zone"),
    "place_cameras": N_("camera"),
}

METHOD_LABELS = {
    "naive": N_("naive (recent counts)"),
    "kde": N_("kernel density"),
    "prospective": N_("prospective (near repeat)"),
    "sepp": N_("self-exciting point process"),
    "learned": N_("learned (Poisson boosting)"),
}

CAMERA_STATUS_LABELS = {
    "planned": N_("planned"),
    "active": N_("active"),
    "out_of_service": N_("out of service"),
    "removed": N_("removed"),
}

CAPABILITY_PAGES = {
    "hotspots": (N_("Hotspots"), Action.HOTSPOTS_READ),
    "patrols": (N_("Patrols"), Action.PATROLS_READ),
    "cameras": (N_("Cameras"), Action.CAMERAS_READ),
    "review": (N_("Review"), Action.REVIEW_READ),
}

MESSAGES = [
    N_("Wrong user name or password."),
    N_("Too many failed sign-ins; try again later."),
    N_("Not allowed"),
    N_("Your role does not allow this page."),
    N_("Not available yet"),
    N_("This part of the application is not available yet in this installation."),
    N_("Monthly incidents"),
    N_("Page not found"),
    N_("There is no such page."),
    N_("Invalid request"),
    N_("Observed incidents and the counterfactual"),
    N_("The form was not filled in correctly."),
]


def map_label_ids() -> dict[str, str]:
    """Every label map.js reads: MAP_LABELS plus incident kinds and camera statuses."""
    return (
        MAP_LABELS
        | {f"kind_{k}": v for k, v in KIND_LABELS.items()}
        | {f"status_{k}": v for k, v in CAMERA_STATUS_LABELS.items()}
    )


#: Words of the protocol pages (statuses and decisions: server_text.LABELS).
PERIOD_LABELS = {"future": N_("not started"), "current": N_("current"), "expired": N_("ended")}
FORCE_LABELS = {"police": N_("police"), "defence": N_("Defence")}
CHANGE_LABELS = {"added": N_("added"), "removed": N_("removed"), "changed": N_("changed")}
SOLDIERS_WHY = (
    N_("railway police priority terrain (decision of 20 March 2026)"),
    N_("admitted by this protocol version"),
)
