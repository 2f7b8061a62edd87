"""The daily briefing of a command post as a printable PDF (matplotlib's PdfPages).

matplotlib is already a dependency and needs no system libraries, unlike HTML-to-PDF engines
(WeasyPrint needs Pango): so the PDF works on a closed network with nothing installed by hand.
Content is the same as the HTML briefing (`export.briefing_data`): the post's zones on a map, the
Defence liaison on duty, presence per hour and zone, and the teams with their composition.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safecities.patrols.protocol import Protocol

TEAMS_PER_PAGE = 38


def briefing_pdf(b: dict[str, Any], protocol: Protocol, plan_name: str, path: str | Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from safecities.patrols.export import TEXT

    with PdfPages(path, metadata={"Title": f"{TEXT['title']} {b['post']} {b['day']}"}) as pdf:
        fig = plt.figure(figsize=(8.27, 11.69))  # A4 portrait
        fig.text(0.06, 0.96, TEXT["title"], fontsize=16, weight="bold")
        fig.text(
            0.06,
            0.935,
            f"{TEXT['post']}: {b['post_name']} ({b['post']})    {TEXT['day']}: {b['day']}",
            fontsize=10,
        )
        liaison = (
            "; ".join(f"{c}: {lo:%H:%M}-{hi:%H:%M} (+15 min)" for c, lo, hi in b["liaisons"])
            or TEXT["none"]
        )
        fig.text(0.06, 0.91, f"{TEXT['liaison']}: {liaison}", fontsize=9, wrap=True)
        ax = fig.add_axes([0.06, 0.56, 0.88, 0.32])
        _zone_map(ax, b["zone_ids"], protocol)
        ax.set_title(TEXT["map"], fontsize=10, loc="left")
        tab = fig.add_axes([0.06, 0.05, 0.88, 0.47])
        tab.axis("off")
        tab.set_title(TEXT["presence"], fontsize=10, loc="left")
        if b["presence"]:
            cells = [
                [f"{m} / {p}" if m or p else "" for m, p in counts] for _h, counts in b["presence"]
            ]
            t = tab.table(
                cellText=cells,
                rowLabels=[f"{h:02d}:00" for h, _ in b["presence"]],
                colLabels=b["zone_ids"],
                loc="upper center",
                cellLoc="center",
            )
            t.auto_set_font_size(False)
            t.set_fontsize(6)
        fig.text(
            0.06,
            0.02,
            TEXT["footer"].format(plan=plan_name, city=protocol.city, version=protocol.version),
            fontsize=6,
        )
        pdf.savefig(fig)
        plt.close(fig)
        teams = b["teams"]
        for i in range(0, max(len(teams), 1), TEAMS_PER_PAGE):
            fig = plt.figure(figsize=(8.27, 11.69))
            ax = fig.add_axes([0.05, 0.05, 0.9, 0.88])
            ax.axis("off")
            ax.set_title(TEXT["teams"], fontsize=12, loc="left")
            # One monospaced text block per page, not a matplotlib table: a table draws every
            # cell as its own artist, which made a busy post's briefing take seconds.
            head = f"{'patrol':<12}{'kind':<8}{'time':<13}{'police':>6}{'soldiers':>9}  zones"
            rows = [
                f"{t['patrol']:<12}{t['kind']:<8}{t['start']:%H:%M}-{t['end']:%H:%M}  "
                f"{t['police']:>6}{t['soldiers']:>9}  {', '.join(t['zones'])[:60]}"
                for t in teams[i : i + TEAMS_PER_PAGE]
            ]
            if rows:
                ax.text(
                    0.0,
                    0.98,
                    "\n".join([head, "-" * len(head), *rows]),
                    family="monospace",
                    fontsize=7.5,
                    va="top",
                    linespacing=1.6,
                    transform=ax.transAxes,
                )
            pdf.savefig(fig)
            plt.close(fig)


def _zone_map(ax, zone_ids: list[str], protocol: Protocol) -> None:
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    try:
        from safecities.register.reference import zones as reference_zones

        gdf = reference_zones(protocol.city)
    except Exception:  # noqa: BLE001 - no bundled zones for this city: the page says so
        gdf = None
    gdf = None if gdf is None else gdf[gdf["id"].isin(zone_ids)]
    if gdf is None or gdf.empty:
        ax.text(0.5, 0.5, "(no zone geometry available)", ha="center", transform=ax.transAxes)
        return
    gdf = gdf.to_crs("EPSG:3812")
    gdf.plot(ax=ax, color="#9ecae1", edgecolor="#08519c", alpha=0.7)
    for r in gdf.itertuples():
        c = r.geometry.representative_point()
        ax.annotate(r.id, (c.x, c.y), fontsize=7, ha="center")
