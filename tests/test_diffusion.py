"""``flask sofi diffuse``: archiving, full and incremental LHÉO exports and their manifest."""

import hashlib
import json
from datetime import date

import sqlalchemy as sa

from models import Action, ActionStatus, db
from sofi.services import publication
from tests.lheo_support import NS, assert_valid, counts, parse


def _cycle(cli, directory, today="2026-12-01"):
    result = cli("sofi", "diffuse", "--output-dir", str(directory), "--today", today)
    assert result.exit_code == 0, result.stderr
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))


def _check_files(directory, manifest):
    for item in manifest["fichiers"]:
        if item["fichier"] is None:
            continue
        path = directory / item["fichier"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == item["sha256"]
        assert path.stat().st_size == item["octets"]
        root = parse(path)
        assert_valid(root)
        assert counts(root) == {k: item[k + "s"] for k in ("formation", "action", "session")}


def test_daily_cycle_archives_exports_and_keeps_previous_files(demo, cli, session, tmp_path):
    directory = tmp_path / "diffusion"
    published_before = set(db.session.scalars(sa.select(Action.id).where(Action.status == ActionStatus.PUBLIEE)))
    first = _cycle(cli, directory)
    _check_files(directory, first)
    assert first["date"] == "2026-12-01"
    db.session.rollback()
    archived = set(db.session.scalars(sa.select(Action.id).where(Action.status == ActionStatus.ARCHIVEE)))
    assert set(first["archivage"]["actions"]) == archived & published_before and first["archivage"]["actions"]
    full = next(i for i in first["fichiers"] if i["type"] == "complet")
    exported = {s.get("numero") for s in parse(directory / full["fichier"]).iter(f"{{{NS}}}session")}
    online = db.session.scalars(sa.select(Action).where(Action.status == ActionStatus.PUBLIEE)).all()
    assert exported == {s.fas_code for a in online for s in a.sessions}
    increment = next(i for i in first["fichiers"] if i["type"] == "incrémental")
    assert increment["formations"] == full["formations"]  # everything was published within the day

    # the next day: one action is published again; only its formation is in the increment
    republished = online[0]
    publication.publish(republished)
    db.session.commit()
    files_before = {p.name: p.read_bytes() for p in directory.iterdir() if p.name != "manifest.json"}
    second = _cycle(cli, directory, today=str(date(2026, 12, 2)))
    _check_files(directory, second)
    for name, content in files_before.items():
        assert (directory / name).read_bytes() == content  # previous files are kept unchanged
    assert second["manifeste_precedent"] == first["manifeste"]
    increment = next(i for i in second["fichiers"] if i["type"] == "incrémental")
    assert increment["depuis"] == first["genere_le"]
    root = parse(directory / increment["fichier"])
    assert {f.get("numero").split("-")[0] for f in root.iter(f"{{{NS}}}formation")} == {str(republished.formation_id)}

    # nothing new: no incremental file (LHÉO needs at least one formation), the manifest says so
    third = _cycle(cli, directory, today=str(date(2026, 12, 2)))
    increment = next(i for i in third["fichiers"] if i["type"] == "incrémental")
    assert increment["fichier"] is None and increment["formations"] == 0
    assert len(list(directory.glob("manifest-*.json"))) == 3


def test_diffuse_refuses_an_unusable_directory(cli, tmp_path):
    blocker = tmp_path / "fichier"
    blocker.write_text("x")
    result = cli("sofi", "diffuse", "--output-dir", str(blocker / "sous-dossier"))
    assert result.exit_code == 1 and "inutilisable" in result.stderr
