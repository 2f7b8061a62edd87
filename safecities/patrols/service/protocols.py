# ruff: noqa: E501  (messages are kept on one line)
"""Protocol verbs: validate, request, approve, refuse, list (governance in patrols.governance)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from safecities.errors import InputError
from safecities.manifest import RunManifest


@dataclass
class ValidateResult:
    """`protocol validate --json` without the manifest."""

    file: str
    doc: dict[str, Any]
    errors: list[dict[str, Any]]
    manifest: RunManifest | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        version = self.doc.get("version")
        return {
            "file": self.file,
            "valid": self.valid,
            "city": self.doc.get("city"),
            "version": None if version is None else str(version),
            "errors": self.errors,
        }


def validate(path: Path, *, name: str | None = None) -> ValidateResult:
    """Every schema and cross-reference error of a protocol document, with its JSON path; `name`
    is the file name shown (an upload's own name rather than its temporary path)."""
    from safecities.patrols.protocol import read_document, validate_document

    shown = name or str(path)
    try:
        doc, _ = read_document(path)
    except InputError as exc:
        raise InputError(str(exc).replace(str(path), shown)) from None
    manifest = RunManifest(command="protocol validate", parameters={"file": shown})
    manifest.add_input_file("protocol", path)
    return ValidateResult(shown, doc, [i.to_dict() for i in validate_document(doc)], manifest)


def _uploaded(data: bytes, filename: str, tmp: str) -> tuple[Path, str]:
    name = Path(filename or "protocol.yaml").name or "protocol.yaml"
    if Path(name).suffix.lower() not in (".yaml", ".yml", ".json"):
        name += ".yaml"
    path = Path(tmp) / name
    path.write_bytes(data)
    return path, name


def validate_upload(data: bytes, filename: str) -> ValidateResult:
    """`protocol validate` on an uploaded document."""
    with tempfile.TemporaryDirectory() as tmp:
        path, name = _uploaded(data, filename, tmp)
        return validate(path, name=name)


def request(
    session: Session, path: Path, *, reason: str, actor: str, name: str | None = None
) -> dict[str, Any]:
    """A city requests joint patrols: the protocol version is registered, pending both approvals."""
    from safecities.patrols.governance import request_protocol

    try:
        return request_protocol(session, path, reason=reason, actor=actor)
    except InputError as exc:
        if name is None:
            raise
        raise InputError(str(exc).replace(str(path), name)) from None


def request_upload(
    session: Session, data: bytes, filename: str, *, reason: str, actor: str
) -> dict[str, Any]:
    """`protocol request` with an uploaded document (e.g. Antwerp's): awaits both approvals."""
    with tempfile.TemporaryDirectory() as tmp:
        path, name = _uploaded(data, filename, tmp)
        return request(session, path, reason=reason, actor=actor, name=name)


def decide(
    session: Session,
    protocol_id: int,
    *,
    actor: str,
    role: str,
    approve: bool,
    reason: str | None = None,
) -> dict[str, Any]:
    """Approve or refuse (with a reason) a protocol request as Interior or Defence (audited)."""
    from safecities.patrols import governance

    if approve:
        return governance.approve(session, protocol_id, actor=actor, role=role, comment=reason)
    return governance.refuse(session, protocol_id, actor=actor, role=role, reason=reason or "")


def list_protocols(session: Session, city: str | None = None) -> list[dict[str, Any]]:
    """Protocol requests with their status and each approver's decision."""
    from safecities.patrols.governance import list_protocols as _list

    return _list(session, city)


# --- Issue 14: what approvers see, and the request builder -------------------------------------


def show(session: Session, protocol_id: int, today=None) -> dict[str, Any]:
    """`protocol show ID --json` and `GET /api/patrols/protocols/{id}`: the request in full."""
    from safecities.patrols.governance import protocol_detail

    return protocol_detail(session, protocol_id, today)


def zones(session: Session, protocol_id: int) -> dict[str, Any]:
    """The request's zones as GeoJSON, with whether (and why) soldiers are admitted."""
    from safecities.patrols.governance import zones_geojson

    return zones_geojson(session, protocol_id)


def pending(session: Session, role: str) -> list[dict[str, Any]]:
    """Requests waiting for this approver role's decision."""
    from safecities.patrols.governance import pending_for

    return pending_for(session, role)


@dataclass
class DraftResult:
    """The request builder's answer: the document, its YAML and every problem with its path."""

    document: dict[str, Any]
    errors: list[dict[str, str]]
    note: str | None

    @property
    def valid(self) -> bool:
        return not self.errors

    def yaml(self) -> str:
        from safecities.patrols.builder import to_yaml

        return to_yaml(self.document)

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "city": self.document.get("city"),
            "version": self.document.get("version"),
            "errors": self.errors,
            "note": self.note,
            "document": self.document,
            "yaml": self.yaml(),
        }


def draft(d) -> DraftResult:
    """Compose a protocol request from the builder's form (`builder.RequestDraft`)."""
    from safecities.patrols.builder import BOUNDARY_NOTE, build_document

    doc, issues = build_document(d)
    return DraftResult(doc, [i.to_dict() for i in issues], BOUNDARY_NOTE.get(d.city))


def request_draft(session: Session, d, *, reason: str, actor: str) -> dict[str, Any]:
    """Submit the builder's request: stored only when every check passes."""
    from safecities.patrols.governance import request_document

    result = draft(d)
    if not result.valid:
        first = result.errors[0]
        raise InputError(
            f"request for {d.city}: {len(result.errors)} problems; first: "
            f"{first['path']}: {first['message']}"
        )
    return request_document(session, result.document, reason=reason, actor=actor, source=d.city)


def stations(city: str) -> list[dict[str, Any]]:
    """Stations the builder proposes as zones for `city` (main station first)."""
    from safecities.patrols.builder import proposed_stations

    return proposed_stations(city)
