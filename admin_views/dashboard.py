"""The "Tableau de bord": the seeds' counters, each linking to the list it counts."""

from datetime import date

import sqlalchemy as sa
from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from models import Action, SessionFormation, db
from sofi import permissions
from sofi.offer_queries import ACTION_PRESETS, SESSION_PRESETS


def _count(model, clause) -> int:
    query = sa.select(sa.func.count()).select_from(model).where(clause)
    return db.session.scalar(permissions.scoped(query, model, current_user))


class DashboardView(AdminIndexView):
    def is_accessible(self) -> bool:
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path))

    @expose("/")
    def index(self):
        today = date.today()
        session_counters = [(preset, _count(SessionFormation, preset.clause(today))) for preset in SESSION_PRESETS]
        action_counters = [(preset, _count(Action, preset.clause(today))) for preset in ACTION_PRESETS]
        return self.render(
            "admin/dashboard.html",
            session_counters=session_counters,
            action_counters=action_counters,
            organisation=permissions.current_organisation(current_user),
        )
