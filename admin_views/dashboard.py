"""The "Tableau de bord": the seeds' counters, each linking to the list it counts."""

from datetime import date

import sqlalchemy as sa
from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from models import Action, SessionFormation, db
from sofi import permissions
from sofi.offer_queries import ACTION_PRESETS, SESSION_PRESETS


def _counts(model, presets, today) -> list[int]:
    """Every counter of ``model`` in one pass over the user's rows (``count(*) FILTER (WHERE …)``)."""
    query = sa.select(*(sa.func.count().filter(preset.clause(today)) for preset in presets)).select_from(model)
    return list(db.session.execute(permissions.scoped(query, model, current_user)).one())


class DashboardView(AdminIndexView):
    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path))

    @expose("/")
    def index(self):
        today = date.today()
        session_counters = list(zip(SESSION_PRESETS, _counts(SessionFormation, SESSION_PRESETS, today), strict=True))
        action_counters = list(zip(ACTION_PRESETS, _counts(Action, ACTION_PRESETS, today), strict=True))
        return self.render(
            "admin/dashboard.html",
            session_counters=session_counters,
            action_counters=action_counters,
            organisation=permissions.current_organisation(current_user),
        )
