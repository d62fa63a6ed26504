"""The "Tableau de bord": the seeds' counters, each linking to the list it counts."""

from datetime import date

import sqlalchemy as sa
from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from models import Action, SessionFormation, db
from sofi import permissions
from sofi.offer_queries import ACTION_PRESETS, SESSION_PRESETS, count_sessions


def _action_counts(today) -> list[int]:
    """Every action counter in one pass over the user's actions (``count(*) FILTER (WHERE …)``)."""
    query = sa.select(*(sa.func.count().filter(preset.clause(today)) for preset in ACTION_PRESETS)).select_from(Action)
    return list(db.session.execute(permissions.scoped(query, Action, current_user)).one())


def _session_counts(today) -> list[int]:
    scope = lambda query: permissions.scoped(query, SessionFormation, current_user)  # noqa: E731
    return count_sessions(SESSION_PRESETS, scope, today)


class DashboardView(AdminIndexView):
    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path))

    @expose("/")
    def index(self):
        today = date.today()
        session_counters = list(zip(SESSION_PRESETS, _session_counts(today), strict=True))
        action_counters = list(zip(ACTION_PRESETS, _action_counts(today), strict=True))
        return self.render(
            "admin/dashboard.html",
            session_counters=session_counters,
            action_counters=action_counters,
            organisation=permissions.current_organisation(current_user),
        )
