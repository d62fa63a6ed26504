"""Properties of the LHÉO writer and reader, on F-A-S-D trees drawn by Hypothesis.

Any valid tree (texts with accents, quotes, ``<&>``, emoji; every value of the code lists;
1 to 3 actions, sessions and dispositifs; optional fields present or absent; dates; prices),
built through the models and published by the workflow service, exports to a document the
official XSD accepts; imported into an emptied database and exported again, it gives the same
document (apart from the database's identifiers). Deterministic profile: same examples on
every run; a failure prints the minimal tree Hypothesis found.
"""

import html
from datetime import date

import sqlalchemy as sa
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from models import Action, Dispositif, SessionDispositif, SessionFormation, db
from models.codelists import codelist
from sofi.services import workflow
from tests.factories import VALID_SIRETS, formation, organisation
from tests.lheo_support import (
    assert_valid,
    empty_offer_tables,
    normalised,
    parse,
    restore_reference_data,  # noqa: F401  (fixture)
)

EXAMPLES = 12
PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
SPECIAL = list("éèêàçùÉÀœŒ«»’'\"<&>;") + ["😀", "🎓", "€", "ß", "中"]
LETTERS = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp"))
TRIED = {"exemples": 0}
PLACEHOLDER = " .-_"


def texts(max_size: int):
    """Control-free unicode within ``max_size``, stripped, never empty nor a "nothing" placeholder.

    The reader takes a text made only of `` .-_`` for the "nothing" placeholder of real Carif flows.
    """
    return (
        st.text(alphabet=st.one_of(st.sampled_from(SPECIAL), LETTERS), min_size=1, max_size=max_size)
        .map(lambda value: " ".join(value.split()))
        .filter(lambda value: value.strip(PLACEHOLDER))
    )


def rich_texts(max_size: int):
    """A rich-text field as SOFI's editor stores it: HTML, here a paragraph of escaped text."""
    return texts(max_size).map(lambda value: html.escape(value, quote=False)).filter(lambda v: len(v) <= max_size)


def code(name: str):
    return st.sampled_from(sorted(codelist(name)))


def codes(name: str):
    return st.lists(code(name), unique=True, max_size=3).map(sorted)


def optional(strategy):
    return st.none() | strategy


PRICES = optional(st.decimals(min_value=0, max_value=99999, places=2, allow_nan=False, allow_infinity=False))
DAYS = st.dates(min_value=date(2027, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def dispositifs(draw, available: list[int]):
    return {
        "dispositif_code": draw(st.sampled_from(available)),
        "nb_places": draw(st.integers(min_value=1, max_value=500)),
        "frais_ht": draw(PRICES),
    }


@st.composite
def sessions(draw, available: list[int]):
    start, end = sorted(draw(st.lists(DAYS, min_size=2, max_size=2)))
    return {
        "date_debut": start,
        "date_fin": end,
        "entrees_sorties": draw(code("dict-modalites-es")),
        "rythmes": draw(codes("sofi-rythmes")),
        "periodes": draw(codes("sofi-periodes-formation")),
        "type_parcours": draw(optional(code("dict-type-parcours"))),
        "modalites_pedagogiques": draw(codes("sofi-modalites-pedagogiques")),
        "modalite_enseignement": draw(code("dict-modalites-enseignement")),
        "etat_recrutement": draw(code("dict-etat-recrutement")),
        "modalites_recrutement": draw(codes("dict-modalite-recrutement")),
        "commentaire_duree": draw(optional(texts(200))),
        "dispositifs": draw(
            st.lists(dispositifs(available), min_size=1, max_size=3, unique_by=lambda d: d["dispositif_code"])
        ),
    }


@st.composite
def actions(draw, available: list[int]):
    return {
        "complement_intitule": draw(optional(texts(255))),
        "objectifs": draw(optional(rich_texts(500))),
        "plus_formation": draw(optional(texts(250))),
        "niveau_entree": draw(code("dict-niveaux")),
        "prerequis": draw(codes("sofi-prerequis")),
        "equipement_type": draw(optional(code("dict-type-equipement"))),
        "sessions": draw(st.lists(sessions(available), min_size=1, max_size=3)),
    }


@st.composite
def trees(draw, available: list[int]):
    return {
        "siret": draw(st.sampled_from(VALID_SIRETS)),
        "raison_sociale": draw(texts(255)),
        "intitule": draw(texts(255)),
        "objectif_general": draw(code("dict-AIS")),
        "niveau_sortie": draw(optional(code("dict-niveaux"))),
        "objectifs": draw(optional(rich_texts(2000))),
        "programme": draw(optional(rich_texts(2000))),
        "resultats": draw(optional(rich_texts(500))),
        "actions": draw(st.lists(actions(available), min_size=1, max_size=3)),
    }


def build(tree: dict) -> None:
    """Create the tree through the models (their validators apply) and publish every action."""
    org = organisation(tree["siret"], raison_sociale=tree["raison_sociale"])
    built = formation(org, **{key: tree[key] for key in ("intitule", "objectif_general", "niveau_sortie", "objectifs")})
    built.programme, built.resultats = tree["programme"], tree["resultats"]
    site = org.sites[0]
    for action_data in tree["actions"]:
        fields = {key: value for key, value in action_data.items() if key != "sessions"}
        action = Action(formation=built, organisation=org, site=site, **fields)
        for session_data in action_data["sessions"]:
            values = {key: value for key, value in session_data.items() if key != "dispositifs"}
            session = SessionFormation(action=action, site=site, organisme_responsable=org, **values)
            for dispositif in session_data["dispositifs"]:
                session.dispositifs.append(SessionDispositif(**dispositif))
    db.session.add_all([org, built])
    db.session.flush()
    for action in built.actions:
        workflow.publish_imported(action)
    db.session.commit()


def export(cli, path) -> list[str]:
    result = cli("sofi", "export-lheo", "--output", str(path))
    assert result.exit_code == 0, result.output
    root = parse(path)
    assert_valid(root)
    return normalised(root)


def publish_everything() -> None:
    for action in db.session.scalars(sa.select(Action).order_by(Action.id)).all():
        workflow.publish_imported(action)
    db.session.commit()


def test_any_valid_tree_exports_valid_lheo_and_survives_a_round_trip(
    restore_reference_data,  # noqa: F811
    cli,
    session,
    tmp_path,
):
    available = sorted(session.scalars(sa.select(Dispositif.code)))
    TRIED["exemples"] = 0

    @PROFILE
    @given(tree=trees(available))
    def round_trip(tree):
        TRIED["exemples"] += 1
        note(f"arbre F-A-S-D : {tree!r}")
        empty_offer_tables()
        build(tree)
        first = export(cli, tmp_path / "premier.xml")

        empty_offer_tables()
        imported = cli("sofi", "import-lheo", str(tmp_path / "premier.xml"))
        assert imported.exit_code == 0, imported.stderr
        assert "ignorée" not in imported.output, imported.output
        publish_everything()
        second = export(cli, tmp_path / "second.xml")
        assert second == first

    round_trip()
    print(f"\nPropriétés LHÉO : {TRIED['exemples']} arbres F-A-S-D essayés")
    assert TRIED["exemples"] >= EXAMPLES
