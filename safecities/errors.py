"""Exceptions that the CLI and the API turn into a one-line reason (never a traceback)."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path
from typing import IO, Any

from safecities.domain import RowError
from safecities.safeio import safe_row

#: Problems kept in memory by default (the web pages list 200; the API answers the first 50).
KEPT_PROBLEMS = 200
#: Distinct (field, reason) pairs counted; further kinds go to one ("*", "other reasons") line.
_MAX_KINDS = 500
_DIGITS = re.compile(r"\d+")
REPORT_COLUMNS = ("file", "row", "field", "reason", "value")


class SafecitiesError(Exception):
    """Base class: the message is shown to the user as is, on one line."""


class InputError(SafecitiesError):
    """Bad input file or argument; carries every row-level problem found."""

    def __init__(
        self, message: str, errors: list[RowError] | None = None, *, total: int | None = None,
        counts: list[dict[str, Any]] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.errors = errors or []
        #: How many problems there were: `errors` may hold only the first ones (ProblemLog).
        self.errors_total = len(self.errors) if total is None else total
        self.counts = counts if counts is not None else count_problems(self.errors)


def _kind(e: RowError) -> tuple[str, str]:
    # Row numbers inside reasons ("duplicate id (first at row 17)") would make every problem
    # its own kind: counted with the digits masked.
    return e.field, _DIGITS.sub("#", e.reason)


def _counts(counter: Counter) -> list[dict[str, Any]]:
    return [{"field": f, "reason": r, "count": n} for (f, r), n in counter.most_common()]


def count_problems(errors: list[RowError]) -> list[dict[str, Any]]:
    """`[{field, reason, count}]`, most frequent first (digits in reasons shown as #)."""
    return _counts(Counter(_kind(e) for e in errors))


class ProblemLog:
    """Row problems of one import, in bounded memory (issue 18, item 3: a million bad rows
    used to be a million objects, then a 139 MB error body).

    Keeps the first `keep` problems, exact counts per (field, reason), and writes every
    problem to `report` (the `--report errors.csv` file or the API's `?report=csv` download)
    as it is found, cells neutralised against formula injection. Use it as a context manager
    so the report file is closed; `error(message)` builds the InputError to raise."""

    def __init__(self, report: str | Path | None = None, keep: int | None = KEPT_PROBLEMS,
                 file_name: str | None = None) -> None:  # fmt: skip
        self.keep = keep
        self.kept: list[RowError] = []
        self.total = 0
        self._kinds: Counter = Counter()
        self._file_name = file_name  # the name written in the report (an upload's own name)
        self._fh: IO[str] | None = None
        self._writer: Any = None
        if report is not None:
            # Open for the log's whole life (closed by close() / the with block).
            self._fh = Path(report).open("w", newline="", encoding="utf-8")  # noqa: SIM115
            self._writer = csv.writer(self._fh)
            self._writer.writerow(REPORT_COLUMNS)

    def __enter__(self) -> ProblemLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __len__(self) -> int:
        return self.total

    def __bool__(self) -> bool:
        return self.total > 0

    def add(self, e: RowError) -> None:
        self.total += 1
        kind = _kind(e)
        if kind in self._kinds or len(self._kinds) < _MAX_KINDS:
            self._kinds[kind] += 1
        else:
            self._kinds[("*", "other reasons")] += 1
        if self.keep is None or len(self.kept) < self.keep:
            self.kept.append(e)
        if self._writer is not None:
            file = self._file_name or e.file
            self._writer.writerow(safe_row([file, e.row, e.field, e.reason, e.value or ""]))

    def extend(self, errors: list[RowError]) -> None:
        for e in errors:
            self.add(e)

    def counts(self) -> list[dict[str, Any]]:
        """`[{field, reason, count}]` over every problem, most frequent first."""
        return _counts(self._kinds)

    def error(self, message: str) -> InputError:
        """The InputError to raise: the kept problems, the total and the counts."""
        return InputError(message, list(self.kept), total=self.total, counts=self.counts())


class PermissionDenied(SafecitiesError):
    """The caller's role or municipality does not allow this action."""


class NotFound(SafecitiesError):
    pass


class CapabilityUnavailable(SafecitiesError):
    """A capability's library is not installed here (the API answers 503)."""

    def __init__(self, capability: str) -> None:
        super().__init__(f"{capability} is not available yet in this installation")
        self.capability = capability


class StoreBusy(SafecitiesError):
    """Another writer held the store longer than this write may wait (API: 503 + Retry-After)."""
