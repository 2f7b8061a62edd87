"""Sign-in that resists abuse (issue 18, finding M4): password policy and login throttling.

Throttling is per (account, client address): the first `FREE_FAILURES` wrong passwords cost
nothing, then each further attempt must wait twice as long as the previous one (1 s, 2 s, 4 s ...
up to 15 minutes) after the last failure. A stranger guessing from their own address slows only
themselves; the account's owner signing in from elsewhere is never locked out. One client is also
capped over all names (`CLIENT_MAX_FAILURES` per window) so it cannot spray many accounts.

Atomic: the attempt is counted (a `LoginAttempt` row, committed) *before* the slow password
check, under a process-wide lock, so parallel guesses each see the earlier ones (24 parallel
wrong passwords used to have 17 evaluated against a limit of 5). Several worker processes each
hold their own lock; the rows are still written before the check, so the overshoot is at most one
attempt per worker.

Password policy after NIST SP 800-63B section 5.1.1.2: at least 12 characters, not only
repeated characters, not the account name, not a common password (the bundled list of the
10,000 most frequent ones, also with digits or symbols appended).
"""

from __future__ import annotations

import math
import string
import threading
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecities.errors import InputError
from safecities.store.models import LoginAttempt

WINDOW = timedelta(minutes=15)
FREE_FAILURES = 3
MAX_DELAY_S = 900
CLIENT_MAX_FAILURES = 20
MIN_PASSWORD_LENGTH = 12

#: Held only while counting and recording an attempt (milliseconds), never while hashing.
LOCK = threading.Lock()


def delay_after(failures: int) -> int:
    """Seconds to wait after the last failure, given the failures in a row so far."""
    if failures < FREE_FAILURES:
        return 0
    return min(2 ** (failures - FREE_FAILURES), MAX_DELAY_S)


def wait_seconds(session: Session, name: str, client: str, now: datetime) -> int:
    """How long (name, client) must still wait before its next attempt (0: go ahead)."""
    since = now - WINDOW
    last_ok = session.execute(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.name == name, LoginAttempt.client == client, LoginAttempt.success
        )
    ).scalar_one()
    if last_ok is not None and last_ok > since:
        since = last_ok
    fails = session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            LoginAttempt.name == name,
            LoginAttempt.client == client,
            LoginAttempt.success.is_(False),
            LoginAttempt.at > since,
        )
    ).one()
    n, last = fails
    if n and last is not None:
        remaining = (last + timedelta(seconds=delay_after(n)) - now).total_seconds()
        if remaining > 0:
            return max(1, math.ceil(remaining))
    client_fails = session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(
            LoginAttempt.client == client,
            LoginAttempt.success.is_(False),
            LoginAttempt.at > now - WINDOW,
        )
    ).one()
    if client_fails[0] >= CLIENT_MAX_FAILURES:
        return max(1, math.ceil((client_fails[1] + WINDOW - now).total_seconds()))
    return 0


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = (resources.files("safecities") / "data" / "common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


_TAIL = string.digits + string.punctuation + " "


def password_problem(password: str, name: str) -> str | None:
    """Why `password` is refused for account `name` (None when it is acceptable)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"at least {MIN_PASSWORD_LENGTH} characters"
    if len(set(password)) < 4:
        return "not only a few repeated characters"
    low = password.lower().strip()
    who = (name or "").lower()
    if who and (low == who or (len(who) >= 4 and who in low)):
        return "must not contain the user name"
    common = common_passwords()
    if low in common or low.rstrip(_TAIL) in common or low.replace(" ", "") in common:
        return "too common (it is on the list of the most used passwords)"
    return None


def check_password(password: str, name: str) -> None:
    problem = password_problem(password, name)
    if problem:
        raise InputError(f"password: {problem}")
