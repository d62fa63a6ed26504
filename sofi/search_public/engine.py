"""The public search over published sessions: filters, facets, sorts and cursors.

Only the published versions are read (``PublishedSession``, ``PublishedAction`` and their
search tables) plus reference lists; the live offer tables never are. A result is a
published session that has not ended yet. Facet counts are "disjunctive": the counts of
one filter are computed with every other filter applied, so that they tell what ticking
a value would give.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache, partial

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from models import (
    Commune,
    Dispositif,
    Formacode,
    Public,
    PublishedAction,
    PublishedFormacode,
    PublishedSession,
    db,
    published_session_dispositif,
    published_session_public,
)
from models.codelists import codelist
from models.public_search import FTS_CONFIG, SQLITE_FTS_TABLE
from sofi.search_public import cache, kept_counts
from sofi.search_public.counting import (
    FACETS,
    OPEN_RECRUITMENT,
    PERMANENT_ENTRIES,
    TOTAL,
    all_dispositifs,
    cpf_dispositif_codes,
    facet_counts,
    is_postgresql,
)
from sofi.search_public.geo import bounding_box, commune_position, distance_m
from sofi.search_public.params import ParamError, SearchParams
from sofi.text import search_key

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
TOP_COMMUNES = 30
TITLE_KEYS_KEPT = 100_000  # search keys of published titles kept per process (≈ 20 MB at most)
# Words too common to search on with LIKE (PostgreSQL drops them itself).
STOP_WORDS = {
    "a", "au", "aux", "avec", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "ou", "par", "pour",
    "sur", "un", "une",
}  # fmt: skip
SQLITE_FTS = sa.table(SQLITE_FTS_TABLE, sa.column("rowid", sa.Integer), sa.column("search_text", sa.Text))


class SearchError(Exception):
    def __init__(self, errors: list[ParamError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass
class SearchResult:
    params: SearchParams
    sort: str
    total: int
    items: list[dict]
    facets: dict[str, list[FacetValue]]
    next_cursor: str | None
    origin: tuple[float, float] | None = None
    warnings: list[ParamError] = field(default_factory=list)


def niveau_label(code: str | None) -> str:
    """Short label of a ``dict-niveaux`` code: "Niveau 4" rather than the whole European definition."""
    text = codelist("dict-niveaux").get(code or "", code or "")
    return text.split(".", 1)[0] if text.startswith("Niveau ") else text


def keywords(query: str) -> list[str]:
    """Accent-free lower-case words of ``query`` worth searching on."""
    return [w for w in re.findall(r"[a-z0-9]+", search_key(query)) if w not in STOP_WORDS and len(w) > 1]


def _tsquery(words: list[str]):
    """French stemmed query, each word also matching as a prefix ("infirm" finds "infirmier")."""
    return sa.func.to_tsquery(sa.literal_column(f"'{FTS_CONFIG}'"), " & ".join(f"{w}:*" for w in words))


def _tsvector():
    # Written exactly as the expression of the GIN index ix_published_action_fts, so that it is used.
    return sa.func.to_tsvector(sa.literal_column(f"'{FTS_CONFIG}'"), PublishedAction.search_text)


def _matching_actions(words: list[str], *, scored: bool) -> dict[int, int]:
    """The published actions whose text has every word, with their relevance (``_title_score``)
    when ``scored``, else 0.

    Resolved before the search's statements, from the text index of each database: PostgreSQL's
    French full-text index, SQLite's FTS5 trigram index (``LIKE`` on it reads the index and
    matches what ``LIKE`` on ``published_action`` would). Only the short title is read with
    them: the long search text (stored out of line) is left to the index.
    """
    if is_postgresql():
        matching = _tsvector().op("@@")(_tsquery(words))
    else:
        fts = SQLITE_FTS.alias("fts")
        texts = sa.select(fts.c.rowid).where(*(fts.c.search_text.like(f"%{_light_stem(w)}%") for w in words))
        matching = PublishedAction.action_id.in_(texts)
    # Read on the session's connection, without the ORM's row handling: a broad keyword matches thousands.
    rows = db.session.connection().execute(
        sa.select(PublishedAction.action_id, PublishedAction.intitule).where(matching)
    )
    if not scored:
        return dict.fromkeys(rows.scalars(), 0)
    stems = [_light_stem(word) for word in words]
    # scored once per title: the actions of a formation share theirs
    score = lru_cache(maxsize=None)(lambda title: _title_score(stems, title))
    return {action_id: score(title) for action_id, title in rows.all()}


def _id_list(action_ids):
    """``action_ids`` as one bound value: an array on PostgreSQL, a JSON list read by ``json_each`` on SQLite.

    One value, however many ids: the planner of PostgreSQL reads their sessions through the
    ``action_id`` index, and SQLite has no limit on the number of bound values to fear.
    """
    ids = sorted(action_ids)
    if is_postgresql():
        # sent as the text of an array: psycopg adapts a list element by element, in Python (6,400 ids:
        # 2.4 ms a statement, against 0.6 ms as text)
        text = "{" + ",".join(map(str, ids)) + "}"
        return sa.any_(sa.cast(sa.bindparam(None, text, type_=sa.String), ARRAY(sa.Integer)))
    return sa.select(sa.func.json_each(sa.bindparam(None, json.dumps(ids))).table_valued("value").c.value)


def _keyword_clause(action_ids) -> sa.ColumnElement[bool]:
    """Sessions of the actions ``action_ids`` (those matching the keywords)."""
    if is_postgresql():
        return PublishedSession.action_id == _id_list(action_ids)
    return PublishedSession.action_id.in_(_id_list(action_ids))


def _light_stem(word: str) -> str:
    """SQLite has no stemmer: a plural ending is dropped so that "formations" finds "formation"."""
    return word[:-1] if len(word) > 4 and word[-1] in "sx" else word


def _title_score(stems: list[str], title: str) -> int:
    """Relevance of an action as an integer (a keyset sort key), the same on both databases: 10 per
    word found in its title, 1 per word found elsewhere in its text."""
    title = _title_key(title)
    return sum(10 if stem in title else 1 for stem in stems)


@lru_cache(maxsize=TITLE_KEYS_KEPT)
def _title_key(title: str) -> str:
    """The search key of a published title, kept: a broad keyword scores thousands of titles, and
    a publication, which empties the search cache, leaves almost all of them as they were."""
    return search_key(title)


def _score_groups(scores: dict[int, int]) -> list[tuple[int, list[int]]]:
    """The matching actions grouped by relevance, best first (a few groups: one per number of words in the title)."""
    groups: dict[int, list[int]] = {}
    for action_id, score in scores.items():
        groups.setdefault(score, []).append(action_id)
    return sorted(groups.items(), reverse=True)


def formacode_descendants(code: str) -> list[str]:
    """``code`` and every Formacode under it in the tree (``parent_code``)."""
    tree = sa.select(Formacode.code).where(Formacode.code == code).cte("tree", recursive=True)
    tree = tree.union_all(sa.select(Formacode.code).where(Formacode.parent_code == tree.c.code))
    return list(db.session.scalars(sa.select(tree.c.code))) or [code]


def _domain_clause(code: str):
    """Sessions of actions with a Formacode in the domain ``code`` (a field root ``xxx54`` covers its field)."""
    formacode = db.session.get(Formacode, code)
    if formacode is not None and formacode.parent_code is None and code.endswith("54"):
        matching = sa.select(PublishedFormacode.action_id).where(PublishedFormacode.formacode_code.like(f"{code[:3]}%"))
    else:
        matching = sa.select(PublishedFormacode.action_id).where(
            PublishedFormacode.formacode_code.in_(formacode_descendants(code))
        )
    return PublishedSession.action_id.in_(matching)


def _sessions_with_dispositifs(codes):
    return PublishedSession.session_id.in_(
        sa.select(published_session_dispositif.c.session_id).where(
            published_session_dispositif.c.dispositif_code.in_(codes)
        )
    )


def _sessions_with_financeurs(codes):
    schemes = sa.select(Dispositif.code).where(Dispositif.financeur_code.in_(codes))
    return _sessions_with_dispositifs(schemes)


@dataclass
class _Plan:
    """The filters of a search, by facet dimension (a facet ignores its own filter)."""

    clauses: dict[str, list] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)
    scores: dict[int, int] = field(default_factory=dict)  # action id → relevance, of the actions matching the words
    origin: tuple[float, float] | None = None
    warnings: list[ParamError] = field(default_factory=list)

    def where(self, *, without: str | None = None) -> list:
        return [clause for name, clauses in self.clauses.items() if name != without for clause in clauses]


def _plan(params: SearchParams, today: date, sequence: int | None) -> _Plan:
    """The filters of ``params``; ``sequence`` (``cache.current``) keys the matching actions kept between requests."""
    plan = _Plan()
    add = lambda name, clause: plan.clauses.setdefault(name, []).append(clause)  # noqa: E731
    add("_base", PublishedSession.date_fin >= today)
    plan.words = keywords(params.q)
    if plan.words:
        scored = params.effective_sort() == "pertinence"
        plan.scores = cache.remember(
            sequence, ("actions", tuple(plan.words), scored), lambda: _matching_actions(plan.words, scored=scored)
        )
        add("q", _keyword_clause(plan.scores))
    broad = _not_an_index_choice if plan.words and not is_postgresql() else lambda column: column
    if params.domaine:
        add("domaine", _domain_clause(params.domaine))
    if params.commune:
        if params.rayon or params.tri == "distance":
            plan.origin = commune_position(params.commune)
            if plan.origin is None:
                plan.warnings.append(
                    ParamError("rayon", "La position de cette commune est inconnue : recherche limitée à la commune.")
                )
        if params.rayon and plan.origin is not None:
            latitude, longitude = plan.origin
            add("commune", bounding_box(latitude, longitude, params.rayon))
            add("commune", distance_m(latitude, longitude) <= params.rayon * 1000)
        else:
            add("commune", PublishedSession.commune_code == params.commune)
    if params.departement:
        add("departement", broad(PublishedSession.departement).in_(params.departement))
    if params.debut_apres:
        add("_dates", PublishedSession.date_debut >= params.debut_apres)
    if params.debut_avant:
        add("_dates", PublishedSession.date_debut <= params.debut_avant)
    if params.dispositif:
        add("dispositif", _sessions_with_dispositifs(params.dispositif))
    if params.financeur:
        add("financeur", _sessions_with_financeurs(params.financeur))
    if params.public:
        add(
            "public",
            PublishedSession.session_id.in_(
                sa.select(published_session_public.c.session_id).where(
                    published_session_public.c.public_code.in_(params.public)
                )
            ),
        )
    if params.certifiante is not None:
        add("certifiante", broad(PublishedSession.certifiante).is_(params.certifiante))
    if params.cpf is not None:
        clause = _sessions_with_dispositifs(cpf_dispositif_codes(all_dispositifs()))
        add("cpf", clause if params.cpf else sa.not_(clause))
    if params.niveau:
        add("niveau", broad(PublishedSession.niveau_sortie).in_(params.niveau))
    if params.modalite:
        add("modalite", broad(PublishedSession.modalite_enseignement).in_(params.modalite))
    if params.entrees_permanentes is not None:
        clause = broad(PublishedSession.entrees_sorties) == PERMANENT_ENTRIES
        add("entrees_permanentes", clause if params.entrees_permanentes else sa.not_(clause))
    if params.recrutement_ouvert is not None:
        clause = broad(PublishedSession.etat_recrutement) == OPEN_RECRUITMENT
        add("recrutement_ouvert", clause if params.recrutement_ouvert else sa.not_(clause))
    return plan


def _not_an_index_choice(column):
    """``column`` for SQLite's planner, in a filter beside the keywords: not a way in (unary ``+``).

    The sessions of the actions matching the keywords are best read through the ``action_id``
    index. Not knowing how many actions match (a JSON list), SQLite preferred the index of a
    broad filter column instead (modalité, département: most sessions share their value), and
    read tens of thousands of sessions to keep twenty: 26 ms a page at 100,000 sessions, 0.4 ms
    through the actions.
    """
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def _base(columns, where):
    """The published sessions matching ``where`` (their search rows only)."""
    return sa.select(*columns).select_from(PublishedSession).where(*where)


# Sorting and cursors ------------------------------------------------------------------------
def _sort_keys(sort: str, plan: _Plan) -> list[tuple[str, object, bool]]:
    """(name, expression, descending) of the sort, ending with the session id (a total order)."""
    keys = []
    if sort == "pertinence" and plan.words:
        keys.append(("score", None, True))  # an action's, read by group (``_page_by_relevance``)
    if sort == "distance" and plan.origin is not None:
        keys.append(("distance", sa.func.coalesce(distance_m(*plan.origin), 2_000_000_000), False))
    keys.append(("date_debut", PublishedSession.date_debut, False))
    keys.append(("id", PublishedSession.session_id, False))
    return keys


def encode_cursor(sort: str, values: list) -> str:
    raw = json.dumps({"tri": sort, "k": [v.isoformat() if isinstance(v, date) else v for v in values]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, keys) -> list:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = data["k"]
        if data["tri"] != sort or len(values) != len(keys):
            raise ValueError
        decoded = []
        for (name, _expression, _descending), value in zip(keys, values, strict=True):
            if name == "date_debut":
                decoded.append(date.fromisoformat(value))
            elif isinstance(value, int) and not isinstance(value, bool):
                decoded.append(value)
            else:
                raise ValueError
        return decoded
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SearchError(
            [ParamError("apres", "Ce curseur de pagination n'est pas valide pour cette recherche.")]
        ) from error


def _after(keys, values):
    """Keyset condition: rows strictly after ``values`` in the order of ``keys``."""
    conditions = []
    for position, ((_name, expression, descending), value) in enumerate(zip(keys, values, strict=True)):
        equal = [keys[i][1] == values[i] for i in range(position)]
        beyond = expression < value if descending else expression > value
        conditions.append(sa.and_(*equal, beyond))
    return sa.or_(*conditions)


def _labelled(counts: dict, labels: dict, selected, order=None) -> list[FacetValue]:
    selected = {str(s) for s in selected}
    values = [
        FacetValue(str(value), labels.get(str(value), str(value)), count, str(value) in selected)
        for value, count in counts.items()
        if value is not None
    ]
    for value in selected - {v.value for v in values}:  # a chosen value always stays visible
        values.append(FacetValue(value, labels.get(value, value), 0, True))
    if order is not None:
        return sorted(values, key=lambda v: order.index(v.value) if v.value in order else len(order))
    return sorted(values, key=lambda v: (-v.count, v.label))


def _boolean(counts: dict, chosen: bool | None) -> list[FacetValue]:
    return [
        FacetValue("oui", "Oui", counts.get("oui", 0), chosen is True),
        FacetValue("non", "Non", counts.get("non", 0), chosen is False),
    ]


def facets(params: SearchParams, counts: dict, dispositifs: list[Dispositif]) -> dict[str, list[FacetValue]]:
    """The facet blocks (values, labels, counts, chosen) from ``facet_counts``."""
    result: dict[str, list[FacetValue]] = {}
    domains = {code: count for code, count in counts["domaine"].items() if code}
    roots = {
        f.code[:3]: f.label
        for f in db.session.scalars(sa.select(Formacode).where(Formacode.code.in_([f"{c}54" for c in domains])))
    }
    result["domaine"] = sorted(
        (
            FacetValue(f"{code}54", (roots.get(code) or code).capitalize(), count, params.domaine == f"{code}54")
            for code, count in domains.items()
        ),
        key=lambda v: (-v.count, v.label),
    )
    departements = counts["departement"]
    result["departement"] = _labelled(departements, {}, params.departement, order=sorted(map(str, departements)))
    top = dict(sorted(counts["commune"].items(), key=lambda item: -item[1])[:TOP_COMMUNES])
    names = dict(
        db.session.execute(sa.select(Commune.code_insee, Commune.nom).where(Commune.code_insee.in_(list(top)))).all()
    )
    result["commune"] = _labelled(top, names, [params.commune] if params.commune else [])
    result["dispositif"] = _labelled(
        counts["dispositif"], {str(d.code): d.label for d in dispositifs}, params.dispositif
    )
    result["financeur"] = _labelled(counts["financeur"], codelist("dict-financeurs"), params.financeur)
    public_labels = {
        p.code: p.label for p in db.session.scalars(sa.select(Public).where(Public.code.in_(list(counts["public"]))))
    }
    result["public"] = _labelled(counts["public"], public_labels, params.public)
    result["certifiante"] = _boolean(counts["certifiante"], params.certifiante)
    result["cpf"] = _boolean(counts["cpf"], params.cpf)
    niveaux = {code: niveau_label(code) for code in codelist("dict-niveaux")}
    result["niveau"] = _labelled(counts["niveau"], niveaux, params.niveau, order=list(niveaux))
    modalites = codelist("dict-modalites-enseignement")
    result["modalite"] = _labelled(counts["modalite"], modalites, params.modalite, list(modalites))
    result["entrees_permanentes"] = _boolean(counts["entrees_permanentes"], params.entrees_permanentes)
    result["recrutement_ouvert"] = _boolean(counts["recrutement_ouvert"], params.recrutement_ouvert)
    return result


# The search -----------------------------------------------------------------------------------
def _page(where: list, keys, after: list | None, limit: int) -> list:
    """The first ``limit`` rows (sort key values) matching ``where`` after the cursor values ``after``."""
    if after is not None:
        where = [*where, _after(keys, after)]
    columns = [expression.label(f"k_{name}") for name, expression, _ in keys]
    order = [expression.desc() if descending else expression.asc() for _, expression, descending in keys]
    return db.session.execute(_base(columns, where).order_by(*order).limit(limit)).all()


def _page_by_relevance(plan: _Plan, keys, after: list | None, limit: int) -> list:
    """The page of the relevance sort: the sessions of the best-scored actions first, by date.

    One statement per group of actions of equal score, best first, until the page is full
    (usually the first: few actions have every word in their title), instead of one sort of
    every matching session by a score read from the actions.
    """
    rows = []
    others = plan.where(without="q")
    for score, action_ids in _score_groups(plan.scores):
        if after is not None and score > after[0]:
            continue  # already shown on the previous pages
        within = after[1:] if after is not None and score == after[0] else None
        found = _page([*others, _keyword_clause(action_ids)], keys[1:], within, limit - len(rows))
        rows += [(score, *row) for row in found]
        if len(rows) >= limit:
            break
    return rows


def _totals(
    params: SearchParams, plan: _Plan, today: date, with_facets: bool
) -> tuple[int, dict[str, list[FacetValue]]]:
    """The total and the facet blocks of a search (nothing of its page).

    Those of the whole offer (no filter at all) are read from the kept counts when they are kept.
    """
    dispositifs = all_dispositifs() if with_facets else []
    counts = kept_counts.read(today) if plan.clauses.keys() == {"_base"} else None
    if counts is None:
        counts = facet_counts(plan.clauses, FACETS if with_facets else (), cpf_dispositif_codes(dispositifs))
    return counts[TOTAL].get(None, 0), facets(params, counts, dispositifs) if with_facets else {}


def _counts_key(params: SearchParams, plan: _Plan, today: date, with_facets: bool) -> tuple:
    """What the total and the facets depend on: the filters (in any order, the query as its words), the day."""
    filters = tuple(sorted(pair for pair in params.to_query() if pair[0] not in ("q", "tri")))
    return with_facets, today, tuple(plan.words), filters


def search(
    params: SearchParams,
    *,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    today: date | None = None,
    with_facets: bool = True,
) -> SearchResult:
    """Run a search: one page of results (after ``cursor``), the total and the facets.

    The whole answer is kept until the published offer changes (``cache``): a catalogue under
    load answers its frequent searches without reading the sessions again. Its parts are kept
    apart too (the matching actions, the counts), for the other pages and sorts of a search.
    """
    today = today or date.today()
    limit = max(1, min(limit, MAX_LIMIT))
    sequence = cache.current()  # before any read of the published rows (see ``cache``)
    key = ("search", today, tuple(sorted(params.to_query())), cursor, limit, with_facets)
    compute = partial(_search, params, sequence, cursor=cursor, limit=limit, today=today, with_facets=with_facets)
    return cache.remember(sequence, key, compute)


def _search(
    params: SearchParams, sequence: int | None, *, cursor: str | None, limit: int, today: date, with_facets: bool
) -> SearchResult:
    plan = _plan(params, today, sequence)
    sort = params.effective_sort()
    if sort == "pertinence" and not plan.words:
        sort = "date"
    if sort == "distance" and plan.origin is None:
        sort = "date"
        if params.tri == "distance" and not any(w.field == "rayon" for w in plan.warnings):
            plan.warnings.append(ParamError("tri", "La position de cette commune est inconnue : tri par date."))
    keys = _sort_keys(sort, plan)
    after = decode_cursor(cursor, sort, keys) if cursor else None
    if sort == "pertinence":
        rows = _page_by_relevance(plan, keys, after, limit + 1)
    else:
        rows = _page(plan.where(), keys, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(sort, list(rows[-1])) if more and rows else None
    total, facet_blocks = cache.remember(
        sequence, _counts_key(params, plan, today, with_facets), lambda: _totals(params, plan, today, with_facets)
    )
    distances = {}
    if plan.origin is not None and rows:
        distances = dict(
            db.session.execute(
                sa.select(PublishedSession.session_id, distance_m(*plan.origin)).where(
                    PublishedSession.session_id.in_([row[-1] for row in rows])
                )
            ).all()
        )
    items = session_items([row[-1] for row in rows], distances)
    return SearchResult(
        params=params,
        sort=sort,
        total=total,
        items=items,
        facets=facet_blocks,
        next_cursor=next_cursor,
        origin=plan.origin,
        warnings=plan.warnings,
    )


def session_items(session_ids: list[int], distances: dict | None = None) -> list[dict]:
    """The public summary of published sessions, in the order of ``session_ids``, from the snapshots."""
    if not session_ids:
        return []
    distances = distances or {}
    sessions = {
        s.session_id: s
        for s in db.session.scalars(sa.select(PublishedSession).where(PublishedSession.session_id.in_(session_ids)))
    }
    actions = {
        a.action_id: a
        for a in db.session.scalars(
            sa.select(PublishedAction).where(PublishedAction.action_id.in_({s.action_id for s in sessions.values()}))
        )
    }
    items = []
    for session_id in session_ids:
        published = sessions[session_id]
        action = actions[published.action_id]
        data = action.data
        snapshot = next((s for s in data["sessions"] if s["id"] == session_id), {})
        organisation = data["action"]["organisation"]
        site = snapshot.get("site") or data["action"]["site"]
        distance = distances.get(session_id)
        items.append(
            {
                "session_id": session_id,
                "fas_code": published.fas_code,
                "action_id": action.action_id,
                "formation_id": action.formation_id,
                "intitule": action.intitule,
                "organisation": {
                    "siret": organisation["siret"],
                    "raison_sociale": organisation["raison_sociale"],
                    "nom_usuel": organisation.get("nom_usuel"),
                },
                "date_debut": published.date_debut.isoformat(),
                "date_fin": published.date_fin.isoformat(),
                "commune": (site.get("commune") or {}).get("nom"),
                "code_postal": site.get("code_postal"),
                "commune_code": published.commune_code,
                "departement": published.departement,
                "latitude": published.latitude,
                "longitude": published.longitude,
                "distance_km": round(distance / 1000, 1) if distance is not None else None,
                "etat_recrutement": published.etat_recrutement,
                "modalite_enseignement": published.modalite_enseignement,
                "entrees_sorties": published.entrees_sorties,
                "places_restantes": published.places_restantes,
                "certifiante": action.certifiante,
                "niveau_sortie": action.niveau_sortie,
                "dispositifs": [{"code": d["code"], "libelle": d["libelle"]} for d in snapshot.get("dispositifs", [])],
            }
        )
    return items
