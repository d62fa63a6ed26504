"""Counting published sessions by the values of the public search's facets.

A facet counts published sessions by one value of their search row; the multi-valued ones by
their rows in the session-code tables or the elements of their JSON list of Formacode domains.
The counts are "disjunctive": those of one facet are computed with every other filter applied.
Used by the search (``engine``) and by the counts kept for the whole offer (``kept_counts``).
"""

import sqlalchemy as sa
from sqlalchemy.sql.util import ClauseAdapter

from models import Dispositif, PublishedSession, db, published_session_dispositif, published_session_public
from models.publication import FACET_COLUMNS
from sofi.text import search_key

CPF_LABEL_KEY = "compte personnel de formation"
OPEN_RECRUITMENT = "1"
PERMANENT_ENTRIES = "1"


def cpf_dispositif_codes(dispositifs: list[Dispositif]) -> list[int]:
    """The dispositifs that make a session CPF-eligible (the base Dispositif's CPF entry)."""
    return [d.code for d in dispositifs if CPF_LABEL_KEY in search_key(d.label)]


def all_dispositifs() -> list[Dispositif]:
    return list(db.session.scalars(sa.select(Dispositif)))


def is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


SIMPLE_FACETS = {
    "departement": "departement",
    "commune": "commune_code",
    "niveau": "niveau_sortie",
    "modalite": "modalite_enseignement",
}
# The multi-valued facets: a session's rows in the tables of its codes (one row per code: dispositifs,
# publics; the funders through the dispositifs), and the elements of its JSON list of Formacode domains.
LIST_FACETS = ("domaine", "dispositif", "financeur", "public")
BOOLEAN_FACETS = ("certifiante", "cpf", "entrees_permanentes", "recrutement_ouvert")
FACETS = (*SIMPLE_FACETS, *LIST_FACETS, *BOOLEAN_FACETS)
TOTAL = "_total"


def _elements(column):
    """The elements of a JSON list column, one row each (column ``value``, text)."""
    if is_postgresql():
        return sa.func.json_array_elements_text(column).table_valued("value")
    return sa.func.json_each(column).table_valued("value")


def _yes_no(condition):
    return sa.case((condition, "oui"), else_="non")


class _SessionDispositifs:
    """The (session, dispositif) pairs of a set of candidate rows, joined once for the three facets
    that read them (dispositif, financeur, CPF) when they count the same rows: three look-ups of
    each session's dispositifs cost a third of a broad keyword search's counting."""

    def __init__(self):
        self._pairs = {}

    def of(self, rows):
        if rows.name not in self._pairs:
            table = published_session_dispositif
            self._pairs[rows.name] = (
                sa.select(rows.c.session_id, table.c.dispositif_code)
                .join(table, table.c.session_id == rows.c.session_id)
                .cte(f"dispositifs_{rows.name}")
            )
        return self._pairs[rows.name]


def _branch(name: str, rows, cpf_codes: list[int], dispositifs: _SessionDispositifs):
    """(facet name, value, number of sessions) for each value of facet ``name`` among ``rows``."""
    source = rows
    count = sa.func.count()
    if name == TOTAL:
        value = sa.null()
    elif name in SIMPLE_FACETS:
        value = rows.c[SIMPLE_FACETS[name]]
    elif name == "domaine":  # the semantic fields of the session's Formacodes, each once
        elements = _elements(rows.c.domaines)
        source = source.join(elements, sa.true())
        value = elements.c.value
    elif name == "public":
        # a join on the session id: decoding each row's JSON list of codes cost twice as much
        table = published_session_public
        source = source.join(table, table.c.session_id == rows.c.session_id)
        value = table.c.public_code
    elif name in ("dispositif", "financeur"):
        source = pairs = dispositifs.of(rows)
        value = pairs.c.dispositif_code
        if name == "financeur":
            source = source.join(Dispositif, Dispositif.code == value)
            value = Dispositif.financeur_code
            # Two dispositifs of a session may have the same funder: each session once. A plain count
            # elsewhere (one row per session and value) lets the database hash its groups.
            count = sa.func.count(sa.distinct(pairs.c.session_id))
    else:
        value = _yes_no(
            {
                "certifiante": lambda: rows.c.certifiante.is_(True),
                "cpf": lambda: rows.c.session_id.in_(_with_dispositifs(dispositifs.of(rows), cpf_codes)),
                "entrees_permanentes": lambda: rows.c.entrees_sorties == PERMANENT_ENTRIES,
                "recrutement_ouvert": lambda: rows.c.etat_recrutement == OPEN_RECRUITMENT,
            }[name]()
        )
    value = sa.cast(value, sa.String)
    return (
        sa.select(sa.literal(name, sa.String).label("facet"), value.label("value"), count.label("n"))
        .select_from(source)
        .group_by(value)
    )


def _with_dispositifs(pairs, codes: list[int]):
    """The sessions among ``pairs`` with one of the dispositifs ``codes``."""
    return sa.select(pairs.c.session_id).where(pairs.c.dispositif_code.in_(codes))


def facet_counts(clauses: dict[str, list], names, cpf_codes: list[int]) -> dict[str, dict[str | None, int]]:
    """The total and the counts of the facets ``names`` (``facet_count_statement``)."""
    counts: dict[str, dict[str | None, int]] = {name: {} for name in (TOTAL, *names)}
    for name, value, count in db.session.execute(facet_count_statement(clauses, names, cpf_codes)):
        counts[name][value] = count
    return counts


def facet_count_statement(clauses: dict[str, list], names, cpf_codes: list[int]) -> sa.CompoundSelect:
    """(facet, value, n) of the total (facet ``TOTAL``) and of the facets ``names``, in one statement.

    The candidate sessions (those matching the filters that are not facets: dates, keywords)
    are read once through their indexes, with the narrow columns of their search rows only;
    the facet filters are then applied on them: all of them for the total and the facets
    without a filter of their own, all but its own for a facet whose filter is set.
    """
    columns = [PublishedSession.__table__.c[name] for name in FACET_COLUMNS]
    candidates = (
        sa.select(*columns)
        .select_from(PublishedSession)
        .where(*(c for name, filters in clauses.items() if name not in FACETS for c in filters))
        .cte("candidates")
        .prefix_with("MATERIALIZED")
    )
    adapter = ClauseAdapter(candidates)

    def rows(without: str | None):
        applied = [c for name, cs in clauses.items() if name in FACETS and name != without for c in cs]
        if not applied:
            return candidates  # not a second copy of every candidate (a search without facet filters)
        return sa.select(candidates).where(*(adapter.traverse(c) for c in applied)).cte(f"rows_{without or 'all'}")

    matching = rows(None)
    dispositifs = _SessionDispositifs()
    return sa.union_all(
        *(
            _branch(name, rows(name) if name in clauses else matching, cpf_codes, dispositifs)
            for name in (TOTAL, *names)
        )
    )
