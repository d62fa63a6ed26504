"""Benchmark of the LHÉO 2.3 export: throughput and peak memory at volume (not part of ``make test``).

    .venv/bin/python bench/lheo_export.py [--sessions 100000] [--sessions-per-action 5]
                                          [--database URL] [--keep] [--validate]

Builds a database (SQLite file in a temporary directory by default, or ``--database`` — e.g.
``postgresql://postgres@127.0.0.1:5432/sofi_bench``, which must exist and be empty) with the
reference data and the demo, then bulk-inserts published actions (the demo's DEAS snapshot
replicated with new ids, dates and FAS codes) until ``--sessions`` published sessions exist.
The export then runs in a fresh process (so that generating the data does not count) and
prints one JSON line: sessions/s and the peak RSS of that process (``resource.getrusage``).
"""

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 500


def _app(url: str):
    from sofi import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url})


def generate(url: str, sessions: int, per_action: int) -> dict:
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from models import Action, ActionStatus, Formation, PublishedAction, PublishedSession, db
    from sofi import MIGRATIONS_DIR
    from sofi.services.demo import load_demo
    from sofi.services.referentials.shipped import load_referentials

    app = _app(url)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="heads")
        load_referentials()
        load_demo()
        template = db.session.scalar(
            sa.select(PublishedAction)
            .join(Formation, Formation.id == PublishedAction.formation_id)
            .where(Formation.certifinfo_code == 111669)
        )
        base_action = db.session.get(Action, template.action_id)
        organisation_id, site_id = base_action.organisation_id, base_action.site_id
        data = template.data
        first_id = 10_000_000
        now = datetime.now(UTC)
        actions = sessions // per_action
        action_ids = range(first_id, first_id + actions)
        for start in range(0, actions, BATCH):
            chunk = action_ids[start : start + BATCH]
            formations, action_rows, published, published_sessions = [], [], [], []
            for action_id in chunk:
                formation_id = first_id + (action_id - first_id) // 2  # two actions per formation
                if (action_id - first_id) % 2 == 0:
                    formations.append(
                        {
                            "id": formation_id,
                            "organisation_id": organisation_id,
                            "intitule": f"Formation de charge {formation_id}",
                            "objectif_general": "6",
                            "certifiante": False,
                            "rome_codes": [],
                        }
                    )
                action_rows.append(
                    {
                        "id": action_id,
                        "formation_id": formation_id,
                        "organisation_id": organisation_id,
                        "site_id": site_id,
                        "status": ActionStatus.PUBLIEE,
                        "prerequis": [],
                    }
                )
                snapshot = copy.deepcopy(data)
                snapshot["formation"]["id"] = formation_id
                snapshot["formation"]["intitule"] = f"Formation de charge {formation_id}"
                snapshot["action"]["id"] = action_id
                session_template = data["sessions"][0]
                snapshot["sessions"] = []
                for index in range(per_action):
                    session_id = (action_id - first_id) * per_action + index + first_id
                    debut = date(2027, 1, 4) + timedelta(days=7 * index)
                    item = copy.deepcopy(session_template)
                    item.update(
                        id=session_id,
                        fas_code=f"{formation_id}-{action_id}-{session_id}",
                        date_debut=debut.isoformat(),
                        date_fin=(debut + timedelta(days=200)).isoformat(),
                    )
                    snapshot["sessions"].append(item)
                    published_sessions.append(
                        {
                            "session_id": session_id,
                            "action_id": action_id,
                            "fas_code": item["fas_code"],
                            "date_debut": debut,
                            "date_fin": debut + timedelta(days=200),
                            "etat_recrutement": "1",
                            "modalite_enseignement": "0",
                            "entrees_sorties": "0",
                        }
                    )
                published.append(
                    {
                        "action_id": action_id,
                        "formation_id": formation_id,
                        "organisation_id": organisation_id,
                        "organisation_siret": template.organisation_siret,
                        "version": 1,
                        "published_at": now,
                        "intitule": f"Formation de charge {formation_id}",
                        "search_text": "formation de charge",
                        "certifiante": False,
                        "data": snapshot,
                    }
                )
            if formations:
                db.session.execute(sa.insert(Formation), formations)
            db.session.execute(sa.insert(Action), action_rows)
            db.session.execute(sa.insert(PublishedAction), published)
            db.session.execute(sa.insert(PublishedSession), published_sessions)
            db.session.commit()
        total = db.session.scalar(sa.select(sa.func.count()).select_from(PublishedSession))
    return {"published_sessions": total}


def export(url: str, output: str, validate: bool) -> dict:
    """Runs in a fresh process: the export only."""
    from exporters.lheo.files import write_file

    app = _app(url)
    with app.app_context():
        started = time.perf_counter()
        written = write_file(output)
        seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "database": url.split(":", 1)[0],
        "sessions": written.stats.sessions,
        "actions": written.stats.actions,
        "formations": written.stats.formations,
        "seconds": round(seconds, 1),
        "sessions_per_second": round(written.stats.sessions / seconds),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "file_mb": round(written.size / 1048576, 1),
    }
    if validate:
        from exporters.lheo.reader import inspect

        info = inspect(output, max_bytes=1 << 62)
        result["schema_errors"] = info.error_count
        result["peak_rss_mb_with_validation"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--sessions-per-action", type=int, default=5)
    parser.add_argument("--database", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite database and the file")
    parser.add_argument("--validate", action="store_true", help="also validate the written file (streamed)")
    parser.add_argument("--export-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--output", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.export_only:
        print(json.dumps(export(args.database, args.output, args.validate)))
        return
    workdir = Path(tempfile.mkdtemp(prefix="sofi-bench-lheo-"))
    url = args.database or f"sqlite:///{workdir / 'bench.db'}"
    started = time.perf_counter()
    generated = generate(url, args.sessions, args.sessions_per_action)
    print(
        f"# {generated['published_sessions']} published sessions generated in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    output = workdir / "offre-lheo.xml"
    command = [sys.executable, __file__, "--export-only", "--database", url, "--output", str(output)]
    if args.validate:
        command.append("--validate")
    subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if not args.keep:
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()


if __name__ == "__main__":
    main()
