"""Reading the published offer for public pages and the API: formations, sessions, organisations.

Everything comes from the published snapshots (``PublishedAction.data``) and their search
rows; a formation is public when at least one of its actions is published. Sessions that
have ended are left out of what is shown.
"""

from datetime import date

import sqlalchemy as sa

from models import PublishedAction, PublishedSession, db


def _upcoming(sessions: list[dict], today: date) -> list[dict]:
    current = [s for s in sessions if s.get("date_fin") and date.fromisoformat(s["date_fin"]) >= today]
    return sorted(current, key=lambda s: (s["date_debut"], s["id"]))


def _action_view(published: PublishedAction, today: date) -> dict:
    data = published.data
    return {
        "action_id": published.action_id,
        "version": published.version,
        "published_at": published.published_at,
        **data["action"],
        "sessions": _upcoming(data.get("sessions", []), today),
    }


def formation_view(formation_id: int, today: date | None = None) -> dict | None:
    """The published formation with its published actions and their upcoming sessions."""
    today = today or date.today()
    actions = db.session.scalars(
        sa.select(PublishedAction)
        .where(PublishedAction.formation_id == formation_id)
        .order_by(PublishedAction.published_at.desc(), PublishedAction.action_id)
    ).all()
    if not actions:
        return None
    return {
        "id": formation_id,
        "formation": actions[0].data["formation"],  # the most recently approved content
        "published_at": actions[0].published_at,
        "actions": sorted((_action_view(a, today) for a in actions), key=lambda a: a["action_id"]),
    }


def session_view(fas_code: str) -> dict | None:
    """One published session (by FAS code) with the formation and action it belongs to."""
    published = db.session.scalar(sa.select(PublishedSession).where(PublishedSession.fas_code == fas_code))
    if published is None:
        return None
    action = published.published_action
    data = action.data
    snapshot = next((s for s in data["sessions"] if s["id"] == published.session_id), None)
    if snapshot is None:
        return None
    return {
        "session": snapshot,
        "action_id": action.action_id,
        "formation_id": action.formation_id,
        "intitule": action.intitule,
        "formation": data["formation"],
        "action": {key: value for key, value in data["action"].items() if key != "sessions"},
    }


def organisation_view(siret: str, today: date | None = None) -> dict | None:
    """A training organisation (establishment) and its published offer."""
    today = today or date.today()
    actions = db.session.scalars(
        sa.select(PublishedAction)
        .where(PublishedAction.organisation_siret == siret)
        .order_by(PublishedAction.published_at.desc(), PublishedAction.action_id)
    ).all()
    if not actions:
        return None
    offer = []
    for published in sorted(actions, key=lambda a: (a.intitule.lower(), a.action_id)):
        sessions = _upcoming(published.data.get("sessions", []), today)
        offer.append(
            {
                "action_id": published.action_id,
                "formation_id": published.formation_id,
                "intitule": published.intitule,
                "certifiante": published.certifiante,
                "niveau_sortie": published.niveau_sortie,
                "sessions": sessions,
            }
        )
    return {"organisation": actions[0].data["action"]["organisation"], "offer": offer}
