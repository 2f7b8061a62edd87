"""Peak memory of refusing an import whose every row is bad (issue 18, item 3).

    python benchmarks/import_errors_memory.py --rows 1000000 [--kind incidents|cameras]
        [--path api|cli] [--tree DIR] [--json]

Writes a SYNTHETIC all-bad file under a temporary folder (incidents: every row has an
unparseable time; cameras: every latitude is not a number; one problem per row), then refuses
it in a fresh child process on a scratch SQLite store and reports the child's peak RSS
(`ru_maxrss` from `os.wait4`, so nothing else is counted), the wall time, how many problems the
error kept and counted, and the size of the full errors.csv:
- `--path api`: as `POST /api/incidents/import` (`/api/cameras/import`) does it: the upload
  bytes in memory, the service call, the 50-problem JSON body;
- `--path cli`: as `safecities incidents import FILE --report errors.csv` does it.
A baseline child (a one-row file) gives the interpreter + libraries share, reported as
`baseline_rss_mb`. `--tree DIR` runs another checkout (e.g. the code before the change:
`git archive <commit> | tar -x -C DIR`) to compare. Report `uptime` with the figures: the box
is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import inspect, json, sys, tempfile
from pathlib import Path
kind, path, file, report = sys.argv[1:5]
from safecities.errors import InputError
from safecities.store.db import make_engine, upgrade
tmp = tempfile.mkdtemp()
engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
upgrade(engine)
out = {"kept": 0, "total": 0, "body_bytes": 0}
if kind == "incidents":
    from safecities.register import service as svc
    if path == "api":
        data = Path(file).read_bytes()
        new = "keep" in inspect.signature(svc.import_upload).parameters
        kw = {"keep": 50, "report": report} if new else {}
        res = svc.import_upload(engine, Path(file).name, data, actor="bench", **kw)
        body = res.to_dict()
        total = body.get("errors_total") or len(body["errors"])
        if not kw and report:  # the code before: the whole list, then written as errors.csv
            from safecities import exports
            cols = ["file", "row", "field", "reason", "value"]
            Path(report).write_bytes(exports.to_csv(body["errors"], cols))
        body["errors"], body["errors_total"] = body["errors"][:50], total
        out.update(kept=len(body["errors"]), total=total, body_bytes=len(json.dumps(body)))
    else:
        try:
            svc.import_incidents(engine, file, actor="bench", report=report)
        except InputError as exc:
            out.update(kept=len(exc.errors), total=getattr(exc, "errors_total", len(exc.errors)))
else:
    from safecities.cameras.service import verbs
    from safecities.cameras.service import Caller
    from safecities.store.db import session_scope
    caller = Caller.of("bench", "admin")
    fields = verbs.ImportRequest.__dataclass_fields__
    with session_scope(engine) as s:
        try:
            if path == "api":
                data = Path(file).read_bytes()
                kw = {"keep": 50, "report": Path(report)} if "keep" in fields else {}
                verbs.import_upload(s, caller, Path(file).name, data, "21001", **kw)
            else:
                kw = {"report": Path(report)} if "report" in fields else {}
                req = verbs.ImportRequest(Path(file), "21001", **kw)
                verbs.import_file(s, caller, req)
        except InputError as exc:
            if "report" not in fields:  # the code before: the whole list, then written
                req = verbs.ImportRequest(Path(file), "21001")
                rows = verbs.import_error(req, exc).to_dict()["errors"]
                verbs.write_error_report(rows, Path(report))
            out.update(kept=len(exc.errors), total=getattr(exc, "errors_total", len(exc.errors)))
print(json.dumps(out))
"""


def write_file(kind: str, rows: int, path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        if kind == "incidents":
            fh.write("id,occurred_at,lat,lon,kind\n")
            for i in range(rows):
                fh.write(f"t-{i},not-a-date-{i},50.85,4.35,shooting\n")
        else:
            fh.write("cameranummer;breedtegraad;lengtegraad;soort plaats;type camera;status\n")
            for i in range(rows):
                fh.write(f"A-{i};noord;4,3093;niet-besloten plaats;vast;actief\n")


def child(kind: str, path: str, file: Path, report: Path, tree: Path) -> dict:
    # cwd=tree as well: `python -c` puts the working directory before PYTHONPATH.
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, kind, path, str(file), str(report)],
                                env=env, stdout=out, stderr=err, cwd=tree)  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (peak RSS)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(stderr.decode()[-2000:])
    res = json.loads(stdout.decode().strip().splitlines()[-1])
    res["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # Linux: kilobytes
    res["seconds"] = round(time.perf_counter() - t0, 1)
    return res


def run(kind: str, rows: int, path: str, tree: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / ("all_bad.csv" if kind == "incidents" else "inventaris.csv")
        one = Path(tmp) / ("one_bad.csv" if kind == "incidents" else "een.csv")
        write_file(kind, rows, f)
        write_file(kind, 1, one)
        report = Path(tmp) / "errors.csv"
        base = child(kind, path, one, Path(tmp) / "base.csv", tree)
        res = child(kind, path, f, report, tree)
        lines = sum(1 for _ in report.open(encoding="utf-8")) - 1 if report.exists() else 0
        mb = round(f.stat().st_size / 2**20, 1)
        return {"kind": kind, "path": path, "rows": rows, "file_mb": mb, "tree": str(tree),
                **res, "baseline_rss_mb": base["peak_rss_mb"], "report_rows": lines}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--kind", choices=["incidents", "cameras"], default="incidents")
    ap.add_argument("--path", choices=["api", "cli"], default="cli")
    ap.add_argument("--tree", type=Path, default=ROOT, help="checkout to run (default: this one)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    res = run(a.kind, a.rows, a.path, a.tree.resolve())
    res["load"] = os.getloadavg()
    print(json.dumps(res) if a.json else "\n".join(f"{k}: {v}" for k, v in res.items()))


if __name__ == "__main__":
    main()
