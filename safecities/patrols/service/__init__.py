"""The patrols service: every verb the CLI, the API routes and the web pages call.

- `protocols`: validate, request, approve/refuse (`decide`), list;
- `plans`: make (`plan make`, re-planning included), check, export;
- `saved`: plans kept under <var_dir>/plans/ for the API and the web (make, list, check,
  calendar, map layer, iCalendar, briefings).
"""

from safecities.patrols.service.plans import (
    CheckResult,
    ExportOptions,
    ExportResult,
    MakeOptions,
    MakeResult,
    PlanRejected,
    check,
    check_upload,
    export,
    infeasible_dict,
    make,
    make_plan,
    parse_day,
    planned_chunks,
)
from safecities.patrols.service.protocols import (
    DraftResult,
    ValidateResult,
    decide,
    draft,
    list_protocols,
    pending,
    request,
    request_draft,
    request_upload,
    show,
    stations,
    validate,
    validate_upload,
    zones,
)
from safecities.patrols.service.saved import SavedPlanOptions, make_saved

__all__ = [
    "CheckResult",
    "DraftResult",
    "ExportOptions",
    "ExportResult",
    "MakeOptions",
    "MakeResult",
    "PlanRejected",
    "SavedPlanOptions",
    "ValidateResult",
    "check",
    "check_upload",
    "decide",
    "draft",
    "export",
    "infeasible_dict",
    "list_protocols",
    "make",
    "make_plan",
    "make_saved",
    "parse_day",
    "pending",
    "planned_chunks",
    "request",
    "request_draft",
    "request_upload",
    "show",
    "stations",
    "validate",
    "validate_upload",
    "zones",
]
