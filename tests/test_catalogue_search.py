"""Public search over the demo data: each filter returns exactly the published, current sessions that match.

Expectations come from the live demo records (``tests/catalogue_support.py``): published
actions, sessions not ended, their sites, dispositifs, publics and Formacodes.
"""

from collections import Counter
from datetime import date
from urllib.parse import quote

import pytest

from models import ActionStatus, Commune, db
from tests.catalogue_support import (
    all_pages,
    api_fas,
    dispositif_codes,
    distance_km,
    fas,
    in_domain,
    plain,
    public_codes,
    public_sessions,
    title_words,
    within,
)
from tests.web import text


def _expected(predicate=lambda s: True) -> set[str]:
    return {fas(s) for s in public_sessions() if predicate(s)}


def test_without_criteria_every_current_published_session_is_listed_and_nothing_else(client, demo):
    expected = _expected()
    assert expected, "the demo data publishes sessions"
    body = client.get("/api/v1/formations?limite=100").get_json()
    assert {item["fas_code"] for item in body["items"]} == expected
    assert body["total"] == len(expected)


def searchable(session) -> str:
    """What the keyword search covers: titles, objectives, programmes, organisation, Formacode labels."""
    action, formation = session.action, session.action.formation
    labels = [d.formacode.label for d in formation.domaines if d.formacode]
    parts = [action.intitule, formation.objectifs, formation.programme, action.objectifs, action.complement_programme]
    parts += [action.organisation.raison_sociale, action.organisation.nom_usuel, *labels]
    return plain(" ".join(p for p in parts if p))


@pytest.mark.parametrize(
    ("query", "words"),
    [("développeur", ["developpeur"]), ("DEVELOPPEURS", ["developpeur"]), ("Cariforef", ["cariforef"])],
)
def test_keyword_search_is_accent_and_case_insensitive(client, demo, query, words):
    expected = _expected(lambda s: all(w in searchable(s) for w in words))
    assert expected
    assert set(api_fas(client.get(f"/api/v1/formations?q={quote(query)}&limite=100"))) == expected


def test_keyword_search_covers_programmes_and_formacode_labels(client, demo):
    # PREPA Avenir Sup's programme mentions the regional "plateforme", its title does not.
    by_programme = _expected(lambda s: "plateforme" in searchable(s))
    assert by_programme and all(
        "plateforme" not in plain(s.action.intitule) for s in public_sessions() if fas(s) in by_programme
    )
    assert set(api_fas(client.get("/api/v1/formations?q=plateforme&limite=100"))) == by_programme
    by_label = _expected(lambda s: "accompagnement vers emploi" in searchable(s))
    assert by_label
    assert by_label <= set(api_fas(client.get("/api/v1/formations?q=accompagnement+emploi&limite=100")))


def test_keyword_search_and_french_stemming(client, demo, backend):
    """Both databases find the words; PostgreSQL's French stemming also finds the plural forms."""
    deas = _expected(lambda s: "soignant" in title_words(s))
    assert deas
    singular = set(api_fas(client.get("/api/v1/formations?q=aide+soignant&limite=100")))
    assert deas <= singular
    if backend == "postgresql":
        assert set(api_fas(client.get("/api/v1/formations?q=aides-soignantes&limite=100"))) == singular


def test_a_word_found_nowhere_finds_nothing(client, demo):
    body = client.get("/api/v1/formations?q=astrophysique").get_json()
    assert body["items"] == [] and body["total"] == 0


@pytest.mark.parametrize("domain", ["43454", "15054", "15061", "33054"])
def test_formacode_domain_includes_everything_under_it(client, demo, domain):
    expected = _expected(lambda s: in_domain(s, domain))
    assert set(api_fas(client.get(f"/api/v1/formations?domaine={domain}&limite=100"))) == expected


def test_domain_with_published_offer_is_not_empty(client, demo):
    assert _expected(lambda s: in_domain(s, "43454")), "the DEAS is under Santé secteur sanitaire"


@pytest.mark.parametrize(("commune", "radius"), [("44184", 60), ("44184", 30), ("72181", 100), ("49007", 120)])
def test_commune_and_radius(client, demo, commune, radius):
    assert db.session.get(Commune, commune).latitude is not None
    expected = _expected(lambda s: within(s, commune, radius))
    assert set(api_fas(client.get(f"/api/v1/formations?commune={commune}&rayon={radius}&limite=100"))) == expected


def test_radius_matters(client, demo):
    near = set(api_fas(client.get("/api/v1/formations?commune=44184&rayon=30&limite=100")))
    far = set(api_fas(client.get("/api/v1/formations?commune=44184&rayon=60&limite=100")))
    assert near < far  # Nantes is about 50 km from Saint-Nazaire


def test_commune_without_radius_means_that_commune(client, demo):
    expected = _expected(lambda s: s.site.commune_code == "44109")
    assert expected
    assert set(api_fas(client.get("/api/v1/formations?commune=44109&limite=100"))) == expected


def test_sort_by_distance_gives_increasing_distances(client, demo):
    body = client.get("/api/v1/formations?commune=72181&rayon=200&tri=distance&limite=100").get_json()
    commune = db.session.get(Commune, "72181")
    sessions = {fas(s): s for s in public_sessions()}
    distances = [
        distance_km(
            commune.latitude,
            commune.longitude,
            sessions[i["fas_code"]].site.latitude,
            sessions[i["fas_code"]].site.longitude,
        )
        for i in body["items"]
    ]
    assert body["tri"] == "distance"
    assert len(distances) == len(_expected(lambda s: within(s, "72181", 200))) > 1
    assert distances == sorted(distances)
    assert all(abs(i["distance_km"] - d) < 0.5 for i, d in zip(body["items"], distances, strict=True))


def test_start_date_window(client, demo):
    start, end = date(2027, 1, 1), date(2027, 1, 31)
    expected = _expected(lambda s: start <= s.date_debut <= end)
    assert expected
    url = "/api/v1/formations?debut_apres=2027-01-01&debut_avant=2027-01-31&limite=100"
    assert set(api_fas(client.get(url))) == expected
    # The catalogue also accepts dates as typed on screen.
    assert (
        set(api_fas(client.get("/api/v1/formations?debut_apres=01/01/2027&debut_avant=31/01/2027&limite=100")))
        == expected
    )


@pytest.mark.parametrize("code", [4, 1, 12, 8])
def test_dispositif(client, demo, code):
    expected = _expected(lambda s: code in dispositif_codes(s))
    assert set(api_fas(client.get(f"/api/v1/formations?dispositif={code}&limite=100"))) == expected


def test_several_dispositifs_are_alternatives(client, demo):
    expected = _expected(lambda s: dispositif_codes(s) & {1, 11})
    assert set(api_fas(client.get("/api/v1/formations?dispositif=1&dispositif=11&limite=100"))) == expected


@pytest.mark.parametrize("code", ["80006", "82044", "82045"])
def test_public(client, demo, code):
    expected = _expected(lambda s: code in public_codes(s))
    assert expected
    assert set(api_fas(client.get(f"/api/v1/formations?public={code}&limite=100"))) == expected


def test_other_filters(client, demo):
    cases = {
        "certifiante=oui": lambda s: s.action.formation.certifiante,
        "certifiante=non": lambda s: not s.action.formation.certifiante,
        "cpf=oui": lambda s: 12 in dispositif_codes(s),
        "modalite=1": lambda s: s.modalite_enseignement == "1",
        "recrutement_ouvert=oui": lambda s: s.etat_recrutement == "1",
        "recrutement_ouvert=non": lambda s: s.etat_recrutement != "1",
        "entrees_permanentes=oui": lambda s: s.entrees_sorties == "1",
        "niveau=15": lambda s: s.action.formation.niveau_sortie == "15",
        "departement=72": lambda s: s.site.commune.departement == "72",
    }
    for query, predicate in cases.items():
        assert set(api_fas(client.get(f"/api/v1/formations?{query}&limite=100"))) == _expected(predicate), query


def test_filters_combine(client, demo):
    expected = _expected(
        lambda s: 4 in dispositif_codes(s) and "80006" in public_codes(s) and s.etat_recrutement == "1"
    )
    assert expected
    url = "/api/v1/formations?dispositif=4&public=80006&recrutement_ouvert=oui&limite=100"
    assert set(api_fas(client.get(url))) == expected


def _facet(body, name) -> dict[str, int]:
    return {value["value"]: value["count"] for value in body["facets"][name] if value["count"]}


def test_facet_counts(client, demo):
    body = client.get("/api/v1/formations?dispositif=4").get_json()
    everything = public_sessions()
    chosen = [s for s in everything if 4 in dispositif_codes(s)]
    # A facet counts with the other filters applied: publics among the chosen sessions…
    assert _facet(body, "public") == dict(Counter(code for s in chosen for code in public_codes(s)))
    assert _facet(body, "departement") == dict(Counter(s.site.commune.departement for s in chosen))
    assert _facet(body, "modalite") == dict(Counter(s.modalite_enseignement for s in chosen))
    # …and its own counts ignore its own filter (what ticking another value would give).
    assert _facet(body, "dispositif") == dict(Counter(str(code) for s in everything for code in dispositif_codes(s)))
    certifying = sum(1 for s in chosen if s.action.formation.certifiante)
    assert _facet(body, "certifiante") == {
        k: v for k, v in {"oui": certifying, "non": len(chosen) - certifying}.items() if v
    }
    assert next(v for v in body["facets"]["dispositif"] if v["value"] == "4")["selected"] is True


def test_every_facet_counts_with_the_other_filters_applied(client, demo):
    body = client.get("/api/v1/formations?modalite=0&certifiante=non&limite=1").get_json()
    everything = public_sessions()
    on_site = [s for s in everything if s.modalite_enseignement == "0"]
    chosen = [s for s in on_site if not s.action.formation.certifiante]
    assert chosen and body["total"] == len(chosen)
    levels = Counter(s.action.formation.niveau_sortie for s in chosen if s.action.formation.niveau_sortie)
    assert _facet(body, "niveau") == dict(levels)
    assert _facet(body, "financeur") == dict(
        Counter(code for s in chosen for code in {d.dispositif.financeur_code for d in s.dispositifs})
    )
    cpf = sum(
        1 for s in chosen if any("compte personnel de formation" in plain(d.dispositif.label) for d in s.dispositifs)
    )
    assert _facet(body, "cpf") == {k: v for k, v in {"oui": cpf, "non": len(chosen) - cpf}.items() if v}
    permanent = sum(1 for s in chosen if s.entrees_sorties == "1")
    assert _facet(body, "entrees_permanentes") == {
        k: v for k, v in {"oui": permanent, "non": len(chosen) - permanent}.items() if v
    }
    open_recruitment = sum(1 for s in chosen if s.etat_recrutement == "1")
    assert _facet(body, "recrutement_ouvert") == {
        k: v for k, v in {"oui": open_recruitment, "non": len(chosen) - open_recruitment}.items() if v
    }
    # The facets of the two filters set ignore their own filter.
    certifying = sum(1 for s in on_site if s.action.formation.certifiante)
    assert _facet(body, "certifiante") == {
        k: v for k, v in {"oui": certifying, "non": len(on_site) - certifying}.items() if v
    }
    assert _facet(body, "modalite") == dict(
        Counter(s.modalite_enseignement for s in everything if not s.action.formation.certifiante)
    )


def test_domain_facet_counts_sessions_by_semantic_field(client, demo):
    body = client.get("/api/v1/formations").get_json()
    expected = Counter()
    for session in public_sessions():
        for field in {code[:3] for code in session.action.formation.formacode_codes}:
            expected[f"{field}54"] += 1
    assert _facet(body, "domaine") == dict(expected)


def test_cursor_pagination_walks_every_result_once_in_order(client, demo):
    items = all_pages(client, "tri=date", limit=2)
    assert [i["fas_code"] for i in items] == [
        fas(s) for s in sorted(public_sessions(), key=lambda s: (s.date_debut, s.id))
    ]
    relevance = all_pages(client, "q=formation", limit=1)
    assert len({i["fas_code"] for i in relevance}) == len(relevance)


def test_invalid_parameters_are_refused_with_stable_codes(client, demo):
    response = client.get("/api/v1/formations?rayon=9999&commune=44109&debut_apres=hier&couleur=bleu")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "parametre_invalide"
    fields = {(d["code"], d["field"]) for d in error["details"]}
    assert {
        ("parametre_invalide", "rayon"),
        ("parametre_invalide", "debut_apres"),
        ("parametre_inconnu", "couleur"),
    } <= fields
    assert all(d["message"] for d in error["details"])
    bad_cursor = client.get("/api/v1/formations?apres=nimporte")
    assert bad_cursor.status_code == 400 and bad_cursor.get_json()["error"]["field"] == "apres"


# The HTML catalogue runs the same search --------------------------------------------------------
def test_catalogue_search_page_lists_the_same_sessions(client, demo):
    expected = [s for s in public_sessions() if 4 in dispositif_codes(s)]
    page = text(client.get("/formations?dispositif=4"))
    assert f"{len(expected)} session" in page
    for session in expected:
        assert fas(session) in page
    for session in public_sessions():
        if session not in expected:
            assert fas(session) not in page


def test_catalogue_resolves_a_typed_commune_and_keeps_the_search_in_the_url(client, demo):
    response = client.get("/formations?q=&lieu=Saint-Nazaire&rayon=60&tri=")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "commune=44184" in location and "rayon=60" in location and "lieu" not in location and "q=" not in location
    page = text(client.get(location))
    for session in public_sessions():
        assert (fas(session) in page) == within(session, "44184", 60)
    assert 'value="Saint-Nazaire (44184)"' in page
    for typed in ("saint nazaire", "SAINT-NAZAIRE", "44600", "44184"):
        assert "commune=44184" in client.get(f"/formations?lieu={quote(typed)}").headers["Location"], typed
    assert "commune=53130" in client.get("/formations?lieu=laval").headers["Location"]


def test_catalogue_offers_a_choice_for_an_ambiguous_place(client, demo):
    page = text(client.get("/formations?lieu=Saint-Aubin"))
    assert "Plusieurs communes correspondent" in page
    assert "commune=" in page


def test_catalogue_shows_facet_counts_next_to_filters(client, demo):
    page = text(client.get("/formations"))
    sessions = public_sessions()
    employed = sum(1 for s in sessions if "80006" in public_codes(s))
    assert 'value="80006">' in page
    assert f'Demandeur d\'emploi <span class="count">({employed})</span>' in page


def test_published_sessions_that_ended_are_not_listed(client, demo):
    ended = [s for s in public_sessions(date(2000, 1, 1)) if s.date_fin < date.today()]
    listed = set(api_fas(client.get("/api/v1/formations?limite=100")))
    assert all(fas(s) not in listed for s in ended)
    assert all(s.action.status is ActionStatus.PUBLIEE for s in public_sessions())
