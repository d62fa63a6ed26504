"""Stored LHÉO renderings (``PublishedAction.lheo``): never stale, and the export reads them.

Each test compares the stored rendering with a fresh rendering of the stored snapshot, and the
export written from stored renderings with the export rendered from the snapshots.
"""

import re

import sqlalchemy as sa

from exporters.lheo import fragment
from models import Action, ActionStatus, PublishedAction, PublishedSession, SessionFormation, db
from sofi.services import publication
from sofi.services.recruitment import update_recruitment


def _stale_fragments() -> list[int]:
    """Published actions whose stored rendering is not the rendering of their snapshot."""
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(PublishedAction.action_id, PublishedAction.data, PublishedAction.lheo, PublishedAction.lheo_version)
    ).all()
    assert rows
    return [a for a, data, lheo, version in rows if version != fragment.VERSION or lheo != fragment.dumps(data)]


def _export(cli, path) -> str:
    result = cli("sofi", "export-lheo", "--output", str(path))
    assert result.exit_code == 0, result.output
    return re.sub(r'horodatage-export="[^"]*"', "", path.read_text(encoding="utf-8"))


def test_edits_approval_and_recruitment_updates_rewrite_the_stored_rendering(demo, session):
    assert _stale_fragments() == []
    action = session.scalars(sa.select(Action).where(Action.status == ActionStatus.PUBLIEE).order_by(Action.id)).first()
    before = session.get(PublishedAction, action.id).lheo
    action.objectifs = "<p>Objectifs revus & <em>précisés</em></p>"
    action.formation.intitule = "Intitulé revu pour la publication"
    action.sessions[0].commentaire_duree = "Nouveau rythme : 3 jours par semaine"
    publication.publish(action)  # what the approval of the revision does
    session.commit()
    assert _stale_fragments() == []
    stored = session.get(PublishedAction, action.id).lheo
    assert stored != before and "Nouveau rythme : 3 jours par semaine" in stored

    published_session = session.scalars(
        sa.select(SessionFormation).join(PublishedSession, PublishedSession.session_id == SessionFormation.id)
    ).first()
    dispositif = published_session.dispositifs[0]
    assert update_recruitment(None, published_session, "2", {dispositif.dispositif_code: 3}) is True
    assert _stale_fragments() == []
    rendered = fragment.render(session.get(PublishedAction, published_session.action_id).data)
    assert any(f'numero="{dispositif.dispositif_code}">3</extra>' in g["xml"] for g in rendered["groupes"])


def test_missing_renderings_are_rendered_by_the_export_then_stored_by_the_command(demo, cli, session, tmp_path):
    from_stored = _export(cli, tmp_path / "stored.xml")
    session.execute(sa.update(PublishedAction).values(lheo=None, lheo_version=None))
    session.commit()
    assert _export(cli, tmp_path / "snapshots.xml") == from_stored  # same document, rendered on the fly

    result = cli("sofi", "lheo-fragments")
    assert result.exit_code == 0, result.output
    count = session.scalar(sa.select(sa.func.count()).select_from(PublishedAction))
    assert f"Rendu LHÉO mis à jour : {count} action(s) publiée(s)." in result.output
    assert _stale_fragments() == []
    assert _export(cli, tmp_path / "again.xml") == from_stored
    assert "Rendu LHÉO mis à jour : 0 action(s)" in cli("sofi", "lheo-fragments").output


def test_generated_published_actions_carry_their_rendering(cli, session, tmp_path):
    result = cli(
        "sofi", "generate", "--organisations", "2", "--formations", "4", "--actions-per-formation", "2",
        "--sessions-per-action", "3", "--published-ratio", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _stale_fragments() == []
