"""Every dashboard counter matches the list it links to (on the demo data)."""

import csv
import io
import re
from datetime import date

import pytest
import sqlalchemy as sa

from models import Action, ActionStatus, Organisation, SessionFormation, db
from sofi.offer_queries import ACTION_PRESETS, SESSION_PRESETS
from tests.web import login, logout, text


def _counters(page: str) -> dict[str, int]:
    pairs = re.findall(r'href="/admin/(sessions|actions)/\?preset=([a-z-]+)"[^>]*>(\d+)</a>', page)
    return {f"{kind}:{key}": int(count) for kind, key, count in pairs}


def _exported_rows(client, kind: str, key: str) -> int:
    response = client.get(f"/admin/{kind}/export/csv/?preset={key}")
    assert response.status_code == 200
    return len(list(csv.DictReader(io.StringIO(response.get_data(as_text=True)))))


@pytest.mark.parametrize("email", ["cariforef@demo.sofi.fr", "atlantique@demo.sofi.fr", "maine@demo.sofi.fr"])
def test_each_counter_matches_its_list(client, demo, email):
    login(client, email)
    counters = _counters(text(client.get("/admin/")))
    assert len(counters) == len(SESSION_PRESETS) + len(ACTION_PRESETS)
    for name, count in counters.items():
        kind, key = name.split(":")
        assert _exported_rows(client, kind, key) == count, name
        listing = text(client.get(f"/admin/{kind}/?preset={key}"))
        assert ("aucun élément" in listing) == (count == 0), name


def test_counters_agree_with_an_independent_count(client, demo):
    login(client, "cariforef@demo.sofi.fr")
    counters = _counters(text(client.get("/admin/")))
    cariforef = db.session.scalar(sa.select(Organisation).where(Organisation.siret == "13000511900032"))
    sessions = db.session.scalars(
        sa.select(SessionFormation).join(Action).where(Action.organisation_id == cariforef.id)
    ).all()
    today = date.today()
    active = [s for s in sessions if s.date_fin >= today and s.action.status is not ActionStatus.ARCHIVEE]
    assert counters["sessions:actives"] == len(active) > 0
    assert counters["sessions:inactives"] == len(sessions) - len(active)
    regional = [s for s in active if any(d.dispositif.programme_regional for d in s.dispositifs)]
    assert counters["sessions:programme-region"] == len(regional) > 0
    drafts = [a for a in {s.action for s in sessions} if a.status is ActionStatus.EN_COURS_DE_SAISIE]
    assert counters["actions:en-cours-de-saisie"] == len(drafts)
    waiting = [a for a in {s.action for s in sessions} if a.status is ActionStatus.EN_ATTENTE_VALIDATION]
    assert counters["actions:en-attente-validation"] == len(waiting) > 0


def test_counters_only_count_the_current_establishment(client, demo):
    login(client, "maine@demo.sofi.fr")
    counters = _counters(text(client.get("/admin/")))
    assert counters["actions:certifinfo-remplace"] == 1
    logout(client)
    login(client, "cariforef@demo.sofi.fr")
    assert _counters(text(client.get("/admin/")))["actions:certifinfo-remplace"] == 0
