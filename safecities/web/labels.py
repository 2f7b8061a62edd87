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
