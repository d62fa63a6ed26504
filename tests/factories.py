"""Small builders of valid records for tests (each returns an unsaved, complete object)."""

from datetime import date

from models import Action, Formation, Organisation, SessionDispositif, SessionFormation, Site

VALID_SIRETS = ["13000511900032", "44123456400017", "44123456400025", "44123456400033", "72198765900019"]


def organisation(siret: str = "44123456400033", **fields) -> Organisation:
    values = {"raison_sociale": "ORGANISME DE TEST", "code_sofi": None} | fields
    org = Organisation(siret=siret, **values)
    org.sites = [Site(nom="Principal", adresse1="1 rue de la Paix", code_postal="44000", commune_code="44109")]
    return org


def formation(org: Organisation, **fields) -> Formation:
    values = {"intitule": "Formation de test", "objectif_general": "7"} | fields
    built = Formation(organisation=org, **values)
    built.set_formacodes(["15052"])
    return built


def full_tree(org: Organisation, start=date(2027, 1, 4), end=date(2027, 6, 30), places=10):
    """A formation with one action, one session and one dispositif (code 8)."""
    built = formation(org)
    action = Action(formation=built, organisation=org, site=org.sites[0])
    session = SessionFormation(
        action=action, site=org.sites[0], date_debut=start, date_fin=end, organisme_responsable=org
    )
    session.dispositifs.append(SessionDispositif(dispositif_code=8, nb_places=places))
    return built, action, session
