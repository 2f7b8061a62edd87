"""The `safecities` command: a thin shell that mounts each capability's commands.

Every failure ends with a non-zero exit code and a one-line reason on stderr.
"""

from __future__ import annotations

import os
import sys

import typer

from safecities.errors import SafecitiesError


def build_app() -> typer.Typer:
    from safecities import demo as demo_cli
    from safecities.api import cli as api_cli
    from safecities.cameras import cli as cameras_cli
    from safecities.hotspots import cli as hotspots_cli
    from safecities.patrols import cli as patrols_cli
    from safecities.register import cli as register_cli
    from safecities.review import cli as review_cli

    app = typer.Typer(
        help="safecities: incident register, hotspots, joint patrols, CCTV register and review.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    register_cli.mount(app)
    hotspots_cli.mount(app)
    patrols_cli.mount(app)
    cameras_cli.mount(app)
    review_cli.mount(app)
    api_cli.mount(app)
    demo_cli.mount(app)
    return app


def main() -> None:
    try:
        build_app()(prog_name="safecities")
    except SafecitiesError as exc:
        print(f"safecities: error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("safecities: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, no traceback
        if os.environ.get("SAFECITIES_DEBUG"):
            raise
        from safecities.store.db import is_busy

        if is_busy(exc):  # a write outside the write lock met another writer: nothing written
            print("safecities: error: the store is busy (another write holds it); nothing was "
                  "written, try again", file=sys.stderr)  # fmt: skip
            sys.exit(1)
        print(f"safecities: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
