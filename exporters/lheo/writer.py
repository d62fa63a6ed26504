"""Published versions → LHÉO 2.3, streamed.

Only published versions are read (``PublishedAction``, the approved F-A-S-D tree): drafts,
actions waiting for validation and archived ones never leak out. Each published action carries
its LHÉO rendering (``fragment``: its ``<action>`` elements per organisme responsable), written
with its snapshot; the export streams those fragments with one server-side cursor (``yield_per``)
ordered by formation and action, and builds only the envelope of each LHÉO ``<formation>``
(formation × SIRET: header, organisme, extras) around them. A row whose fragment was written by
another version of the renderer (or by none) is rendered from its snapshot instead: same output,
slower. Memory stays flat whatever the volume. ``exporters.lheo.files`` writes the document to a
file; ``exporters.lheo.parts`` splits a large export between two processes.

Element order follows the XSD sequences (LHEO-GUIDE §2), see ``mapping.MAPPING``.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from itertools import groupby

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from exporters.lheo import NS23, fragment
from exporters.lheo import mapping as m
from exporters.lheo.blocks import add_extras
from exporters.lheo.xmlstring import Element, add, attributes
from models import Formacode, PublishedAction, PublishedSession, db


@dataclass
class ExportStats:
    formations: int = 0
    actions: int = 0
    sessions: int = 0
    published_actions: int = 0
    skipped: list[str] = field(default_factory=list)

    def add(self, other: "ExportStats") -> None:
        """Count what ``other`` counted too (the other process of an export in two parts)."""
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    def as_dict(self) -> dict:
        return {
            "formations": self.formations,
            "actions": self.actions,
            "sessions": self.sessions,
            "actions_publiees": self.published_actions,
        }


@dataclass
class Published:
    """One published action as read from the database: its stored fragment, or its snapshot to render."""

    action_id: int
    formation_id: int
    published_at: datetime
    data: dict | None = None
    lheo: dict | None = None

    def rendered(self) -> dict:
        return self.lheo if self.lheo is not None else fragment.render(self.data)


class FormacodeVersions:
    """Edition of each Formacode (for ``ref``), read once per export (through ``session``, the app's by default)."""

    def __init__(self, versions: dict[str, str] | None = None, session: Session | None = None):
        self._versions = versions
        self._session = session

    def __call__(self, code: str) -> str:
        if self._versions is None:
            session = self._session or db.session
            self._versions = dict(session.execute(sa.select(Formacode.code, Formacode.version)).tuples().all())
        return m.formacode_ref(self._versions.get(code))


class FormationBuilder:
    """Builds the LHÉO ``<formation>`` elements of one SOFI formation around its actions' fragments."""

    def __init__(self, formacode_ref: Callable[[str], str], stats: ExportStats):
        self.formacode_ref = formacode_ref
        self.stats = stats

    def build(self, published: list[Published]) -> Iterator[str]:
        # groups by organisme responsable, keeping the order of actions and of their groups
        by_siret: dict[str, list[tuple[Published, dict, dict]]] = {}
        for item in published:
            self.stats.published_actions += 1
            rendered = item.rendered()
            if not rendered["groupes"]:
                self.stats.skipped.append(f"Action {item.action_id} publiée sans session : non exportée.")
                continue
            for group in rendered["groupes"]:
                by_siret.setdefault(group["siret"], []).append((item, rendered, group))
        for siret, items in by_siret.items():
            yield self.formation(siret, items)

    def formation(self, siret: str, items: list[tuple[Published, dict, dict]]) -> str:
        """One serialised ``<formation>``: the latest published formation, the first action's texts and organisme."""
        latest_item, latest, _group = max(items, key=lambda item: item[0].published_at)
        formation = latest["formation"]
        _item, first, first_group = items[0]
        first_action = first["action"]
        element = Element(
            "formation",
            attributes(
                {
                    "xmlns": NS23,
                    "numero": f"{formation['id']}-{siret}",
                    "datemaj": m.lheo_datetime_attr(latest_item.published_at),
                }
            ),
        )
        self._domaine(element, formation)
        add(element, "intitule-formation", m.required(formation["intitule"], m.LIMITS["intitule-formation"]))
        from_action = []
        for name, field_name, action_field in (
            ("objectif-formation", "objectifs", "objectifs"),
            ("resultats-attendus", "resultats", "resultats_attendus"),
            ("contenu-formation", "programme", "complement_programme"),
        ):
            value = m.fit(formation.get(field_name), m.LIMITS[name], rich=True)
            if value is None:
                value = m.fit(first_action.get(action_field), m.LIMITS[name], rich=True)
                if value is not None:
                    from_action.append(field_name)
            add(element, name, value or m.EMPTY_TEXT)
        add(element, "certifiante", m.bool01(formation["certifiante"]))
        element.append(first_group["contact"])
        add(element, "parcours-de-formation", first_group["parcours"] or "1")
        add(element, "code-niveau-entree", first_action.get("niveau_entree") or "0")
        if formation.get("objectif_general"):
            add(element, "objectif-general-formation", formation["objectif_general"])
        self._certification(element, formation)
        if formation.get("niveau_sortie"):
            add(element, "code-niveau-sortie", formation["niveau_sortie"])
        blocs = self._blocs(formation)
        for item, _rendered, group in items:
            datemaj = m.lheo_datetime_attr(item.published_at)
            element.append(group["xml"].replace(fragment.BLOCS, blocs).replace(fragment.DATEMAJ, datemaj))
            self.stats.actions += group["actions"]
            self.stats.sessions += group["sessions"]
        element.append(first_group["organisme"])
        add_extras(
            element,
            m.X_FORMATION,
            [
                ("identifiant", formation["id"]),
                ("type-certification", formation.get("type_certification")),
                ("individualisation-blocs", formation.get("individualisation_blocs")),
                ("validation-blocs", formation.get("validation_blocs")),
                ("code-NSF", formation.get("nsf_code") if len(formation.get("nsf_code") or "") != 3 else None),
                ("textes-action", from_action),
            ],
        )
        self.stats.formations += 1
        return element.tostring()

    def _domaine(self, element, formation: dict):
        domaine = add(element, "domaine-formation")
        codes = [f["code"] for f in formation.get("formacodes") or []]
        principal = formation.get("formacode_principal")
        if principal in codes:
            codes.remove(principal)
            codes.insert(0, principal)
        for index, code in enumerate(codes[:5]):
            add(domaine, "code-FORMACODE", code, ref=self.formacode_ref(code), tag="principal" if index == 0 else None)
        nsf = formation.get("nsf_code")
        if nsf and len(nsf) >= 3:
            add(domaine, "code-NSF", nsf[:3])
        for code in [c for c in formation.get("rome_codes") or [] if len(c) == 5][:5]:
            add(domaine, "code-ROME", code)

    @staticmethod
    def _certification_codes(formation: dict) -> tuple[str | None, str | None]:
        numero = (formation.get("certification") or {}).get("numero_fiche") or ""
        rncp = numero if numero.startswith("RNCP") and len(numero) <= 10 else None
        rs = numero if numero.startswith("RS") and 3 <= len(numero) <= 10 else None
        return rncp, rs

    def _certification(self, element, formation: dict):
        if not formation.get("certifiante"):
            return
        rncp, rs = self._certification_codes(formation)
        certifinfo = formation.get("certifinfo_code")
        if not (rncp or rs or certifinfo):
            return
        certification = add(element, "certification")
        if rncp:
            add(certification, "code-RNCP", rncp)
        if certifinfo:
            add(certification, "code-CERTIFINFO", str(certifinfo))
        if rs:
            add(certification, "code-RS", rs)

    def _blocs(self, formation: dict) -> str:
        """The ``blocs-competences`` element every session of the formation holds ("" when it has none)."""
        holder = Element("holder")
        self._blocs_into(holder, formation)
        return holder.inner()

    def _blocs_into(self, element, formation: dict):
        blocs = [b for b in formation.get("blocs") or [] if 8 <= len(b["code"]) <= 40]
        rncp, rs = self._certification_codes(formation)
        if not blocs or not (rncp or rs):
            return
        validation = formation.get("validation_blocs") or ("0" if formation.get("individualisation_blocs") else "1")
        element_blocs = add(element, "blocs-competences")
        add(element_blocs, "validation-blocs", validation)
        reference = add(element_blocs, "reference-certification")
        if rncp:
            add(reference, "reference-code-RNCP", rncp)
        else:
            add(reference, "reference-code-RS", rs)
        for bloc in blocs:
            bloc_element = add(element_blocs, "bloc-competences")
            add(bloc_element, "libelle-bloc", m.required(bloc["libelle"], m.LIMITS["libelle-bloc"]))
            add(bloc_element, "code-bloc", bloc["code"])


# --- reading the published versions -------------------------------------------------------------


def published_actions(
    since: datetime | None = None,
    siret: str | None = None,
    formation_id: int | None = None,
    batch_size: int = 500,
    formations: tuple[int | None, int | None] = (None, None),
    session: Session | None = None,
) -> Iterator[list[Published]]:
    """Published actions grouped by formation, streamed in batches (``yield_per``: a server-side cursor).

    The stored fragment is read when the current renderer wrote it, else the snapshot (as text;
    the other column reads NULL, so only one of them crosses the wire); both are decoded with
    orjson. The query count is constant (one), whatever the volume. ``formations``: the range
    of formation ids to read (from, before), for an export written in parts (``parts``);
    ``session``: the one to read through (the app's by default).
    """
    current = PublishedAction.lheo_version == fragment.VERSION
    query = sa.select(
        PublishedAction.formation_id,
        PublishedAction.action_id,
        PublishedAction.published_at,
        sa.case((current, PublishedAction.lheo), else_=sa.null()).label("lheo"),
        sa.case((current, sa.null()), else_=sa.cast(PublishedAction.data, sa.Text)).label("data"),
    ).order_by(PublishedAction.formation_id, PublishedAction.action_id)
    if siret:
        query = query.where(PublishedAction.organisation_siret == siret)
    if formation_id is not None:
        query = query.where(PublishedAction.formation_id == formation_id)
    first, before = formations
    if first is not None:
        query = query.where(PublishedAction.formation_id >= first)
    if before is not None:
        query = query.where(PublishedAction.formation_id < before)
    if since is not None:
        # Two index scans (published_at, then the sessions' updated_at), not an OR over the whole table.
        changed = sa.union(
            sa.select(PublishedAction.formation_id).where(PublishedAction.published_at >= since),
            sa.select(PublishedAction.formation_id)
            .join(PublishedSession, PublishedSession.action_id == PublishedAction.action_id)
            .where(PublishedSession.updated_at >= since),
        )
        query = query.where(PublishedAction.formation_id.in_(changed))
    rows = (session or db.session).execute(query.execution_options(yield_per=batch_size))
    for _formation_id, group in groupby(rows, key=lambda row: row.formation_id):
        yield [
            Published(row.action_id, row.formation_id, row.published_at, lheo=orjson.loads(row.lheo))
            if row.lheo is not None
            else Published(row.action_id, row.formation_id, row.published_at, data=orjson.loads(row.data))
            for row in group
        ]


# --- the document --------------------------------------------------------------------------------


CHUNK_CHARS = 1 << 20  # serialised text gathered before a chunk is yielded (about 1 MB)
DOCUMENT_END = b"</offres></lheo>"


def document_start(exported_at: datetime | None = None) -> bytes:
    """The XML declaration and the opening ``<lheo><offres>`` (stamped with ``exported_at``, now by default)."""
    exported_at = exported_at or datetime.now(UTC)
    root = attributes({"xmlns": NS23, "horodatage-export": exported_at.replace(microsecond=0).isoformat()})
    return f"<?xml version='1.0' encoding='utf-8'?>\n<lheo{root}><offres>".encode()


def iter_formations(
    groups: Iterable[list[Published]], stats: ExportStats, formacode_ref: Callable[[str], str] | None = None
) -> Iterator[bytes]:
    """The serialised ``<formation>`` elements of ``groups`` (published actions by formation), about 1 MB at a time."""
    builder = FormationBuilder(formacode_ref or FormacodeVersions(), stats)
    out: list[str] = []
    size = 0
    for group in groups:
        for formation in builder.build(group):
            out.append(formation)
            size += len(formation)
        if size >= CHUNK_CHARS:
            yield "".join(out).encode()
            out.clear()
            size = 0
    if out:
        yield "".join(out).encode()


def iter_document(
    groups: Iterable[list[Published]],
    stats: ExportStats | None = None,
    formacode_ref: Callable[[str], str] | None = None,
    exported_at: datetime | None = None,
) -> Iterator[bytes]:
    """The LHÉO 2.3 document of ``groups`` (published actions by formation), chunk by chunk (UTF-8)."""
    yield document_start(exported_at)
    yield from iter_formations(groups, stats if stats is not None else ExportStats(), formacode_ref)
    yield DOCUMENT_END
