"""The reference lives in docs/: every CLI command and every API route and page is documented
there, and the README stays a short front door."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))


def _commands() -> list[str]:
    from safecities.cli import build_app

    found: list[str] = []

    def walk(cmd, prefix: list[str]) -> None:  # typer vendors its own click: duck-type groups
        if hasattr(cmd, "commands"):
            for name, sub in sorted(cmd.commands.items()):
                walk(sub, [*prefix, name])
        else:
            found.append(" ".join(prefix))

    walk(typer.main.get_command(build_app()), [])
    return found


def _norm_path(path: str) -> str:
    # `/api/cameras/{camera_id}` in code and `/api/cameras/{id}` in the docs are the same route.
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/")) or "/"


def _routes(routes, prefix: str = "") -> list[tuple[str, str]]:
    """(method, path) of every endpoint, API and pages, through included routers."""
    out = []
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI >= 0.16x wraps routers
        if included is not None:
            out += _routes(included.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "routes") and hasattr(route, "path"):
            out += _routes(route.routes, prefix + route.path)
        elif getattr(route, "methods", None):
            out += [(m, prefix + route.path) for m in sorted(route.methods - {"HEAD", "OPTIONS"})]
    return out


def test_readme_is_a_short_front_door() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 250
    first = "\n".join(readme.splitlines()[:6])
    assert "make demo" in first and "make test" in first
    for page in ("register", "hotspots", "patrols", "cameras", "review", "web", "security"):
        assert f"docs/{page}.md" in readme, page
        assert (DOCS / f"{page}.md").is_file()


@pytest.mark.parametrize("command", _commands())
def test_every_cli_command_is_documented(command: str) -> None:
    text = _docs_text()
    assert re.search(rf"safecities {re.escape(command)}\b", text), (
        f"`safecities {command}` is not documented in docs/*.md"
    )


def test_every_route_is_documented(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SAFECITIES_VAR_DIR", str(tmp_path))
    from safecities.api.app import create_app

    text = _norm_path(_docs_text())
    documented = {_norm_path(m) for m in re.findall(r"(/(?:api/)?[A-Za-z0-9_.{}/\-]*)", text)}
    missing = [
        f"{method} {path}"
        for method, path in _routes(create_app().routes)
        if _norm_path(path) not in documented and not path.startswith(("/static", "/docs"))
    ]
    assert not missing, "routes not documented in docs/*.md: " + ", ".join(missing)
