"""Funder circuits (seeds/004): a scheme that requires a supporting document of its funding."""

from collections.abc import Iterator

import sqlalchemy as sa

from models import SessionDispositif, SupportingDocument
from models.codelists import label as code_label
from sofi.rules.base import Context, Problem, problem, rule


@rule("dispositif")
def justificatif(dispositif: SessionDispositif, ctx: Context) -> Iterator[Problem]:
    """A dispositif financed by the État must come with its supporting document (convention…)."""
    base = dispositif.dispositif
    if base is None or not base.requires_document or ctx.action.id is None:
        return
    session = sa.orm.object_session(ctx.action)
    has_document = session is not None and session.scalar(
        sa.select(sa.func.count()).select_from(SupportingDocument).where(SupportingDocument.action_id == ctx.action.id)
    )
    if not has_document:
        funder = code_label("dict-financeurs", base.financeur_code)
        yield problem(
            dispositif,
            "dispositif.justificatif.required",
            "dispositif",
            f"Dispositif « {base.label} » : joignez à l'action le justificatif du financement « {funder} » "
            "(convention, accord de subvention…) pour qu'elle puisse être publiée.",
        )
