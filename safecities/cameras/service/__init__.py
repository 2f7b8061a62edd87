"""The camera capability's one service layer: the CLI (`safecities cameras ...`), the API routes
(`safecities.api.routes.cameras`) and the web pages (`safecities.web.pages.cameras`) all call
these functions and nothing else.

* `register`: access rules (who may read or change which municipality's cameras) and the
  register's reads and writes, each write with its history row and audit event;
* `verbs` (`from safecities.cameras.service import verbs`): one function per command (add,
  edit, list, counts, show, history, import, duplicates, coverage, plan) taking a typed
  request and returning a result whose `to_dict()` is the command's `--json` document.
"""

from safecities.cameras.service.register import (  # noqa: F401 - the package's public names
    BORDER_TOLERANCE_M,
    COLUMNS,
    DEFAULTS,
    HISTORY_ALL,
    ID_PATTERN,
    MSG,
    READ_ALL,
    WRITE_ALL,
    Caller,
    _can_read_positions,
    _check_history,
    _check_read,
    _check_write,
    _other,
    counts,
    create_camera,
    get_camera,
    history,
    list_cameras,
    manual_id,
    municipality_names,
    outside_municipality,
    position_error,
    resolve_municipality,
    snapshot,
    state_at,
    update_camera,
)
