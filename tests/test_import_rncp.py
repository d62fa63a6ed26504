"""``flask sofi import-rncp FILE``: the France compétences RNCP / RS XML flux.

Expected values are read from the XML with plain lxml in the tests, never taken from the importer.
The reference tables are shared by all the tests of a database: every test puts them back as it
found them (see ``restore_certifications``).
"""

from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from lxml import etree
from stdnum.fr import siret as stdnum_siret

from models import BlocCompetences, Certification, Formation, Organisation, db
from sofi.services.referentials import DATA_DIR
from sofi.services.referentials.shipped import FICHE_FILES
from tests.conftest import SHARED, count_rows

RNCP_DIR = SHARED / "refdata" / "rncp"
RNCP_FIXTURE = RNCP_DIR / "export_fiches_RNCP_fixture.xml"
RS_FIXTURE = RNCP_DIR / "export_fiches_RS_fixture.xml"

# Numbers no real fiche uses: the fiches the tests write under them are deleted afterwards.
NEW_NUMERO = "RNCP99990001"


# --- reading the XML independently of the importer -------------------------------------------


def _child_text(element, tag: str) -> str | None:
    """Text of a direct child (``find`` with a bare tag name only looks at direct children)."""
    child = element.find(tag)
    if child is None or child.text is None or not child.text.strip():
        return None
    return child.text.strip()


def expected_fiches(path: Path) -> dict[str, dict]:
    """numero -> intitulé, end date and distinct bloc codes, from the direct children of each FICHE."""
    root = etree.parse(str(path)).getroot()
    assert root.tag == "FICHES"
    fiches = {}
    for fiche in root.findall("FICHE"):
        numero = _child_text(fiche, "NUMERO_FICHE")
        end = _child_text(fiche, "DATE_FIN_ENREGISTREMENT")
        codes = []
        for bloc in fiche.findall("BLOCS_COMPETENCES/BLOC_COMPETENCES"):
            code = _child_text(bloc, "CODE")
            if code and code not in codes:
                codes.append(code)
        fiches[numero] = {
            "intitule": _child_text(fiche, "INTITULE"),
            "date_fin": datetime.strptime(end, "%d/%m/%Y").date() if end else None,
            "blocs": set(codes),
        }
    return fiches


def nested_only_numeros(path: Path) -> set[str]:
    """NUMERO_FICHE values that only appear deeper inside a fiche (correspondences, …)."""
    root = etree.parse(str(path)).getroot()
    direct = {_child_text(fiche, "NUMERO_FICHE") for fiche in root.findall("FICHE")}
    nested = {element.text.strip() for element in root.iterfind("FICHE/*//NUMERO_FICHE") if element.text}
    return nested - direct


def active_partner_fiches(path: Path, siret: str) -> set[str]:
    root = etree.parse(str(path)).getroot()
    return {
        _child_text(fiche, "NUMERO_FICHE")
        for fiche in root.findall("FICHE")
        for partenaire in fiche.findall("PARTENAIRES/PARTENAIRE")
        if _child_text(partenaire, "SIRET_PARTENAIRE") == siret
        and _child_text(partenaire, "ETAT_HABILITATION") == "Actif"
    }


# --- writing synthetic files ------------------------------------------------------------------


def fiche_xml(
    numero: str | None,
    intitule: str = "Fiche de test",
    date_fin: str | None = "31/12/2030",
    blocs: tuple[tuple[str, str], ...] = (),
    extra: str = "",
) -> str:
    parts = ["<FICHE>", "<ID_FICHE>1</ID_FICHE>", extra]
    if numero is not None:
        parts.append(f"<NUMERO_FICHE>{numero}</NUMERO_FICHE>")
    parts.append(f"<INTITULE>{intitule}</INTITULE><ETAT_FICHE>Publiée</ETAT_FICHE><ACTIF>Oui</ACTIF>")
    if date_fin is not None:
        parts.append(f"<DATE_FIN_ENREGISTREMENT>{date_fin}</DATE_FIN_ENREGISTREMENT>")
    if blocs:
        parts.append("<BLOCS_COMPETENCES>")
        for code, libelle in blocs:
            parts.append(
                f"<BLOC_COMPETENCES><CODE>{code}</CODE><LIBELLE>{libelle}</LIBELLE>"
                "<LISTE_COMPETENCES>Compétences</LISTE_COMPETENCES></BLOC_COMPETENCES>"
            )
        parts.append("</BLOCS_COMPETENCES>")
    parts.append("</FICHE>")
    return "".join(parts)


def fiches_file(tmp_path: Path, *fiches: str, name: str = "fiches.xml") -> Path:
    path = tmp_path / name
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<FICHES><VERSION_FLUX>4.1</VERSION_FLUX>\n'
        + "\n".join(fiches)
        + "\n</FICHES>\n",
        encoding="utf-8",
    )
    return path


# --- database snapshots -----------------------------------------------------------------------


def certifications_snapshot() -> tuple[list, list]:
    db.session.expire_all()
    certifications = sorted(
        db.session.execute(
            sa.select(Certification.numero_fiche, Certification.intitule, Certification.date_fin_enregistrement)
        ).all()
    )
    blocs = sorted(
        db.session.execute(
            sa.select(
                Certification.numero_fiche, BlocCompetences.id, BlocCompetences.code, BlocCompetences.libelle
            ).join(BlocCompetences.certification)
        ).all()
    )
    return certifications, blocs


def certification(numero: str) -> Certification | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Certification).where(Certification.numero_fiche == numero))


def numeros() -> set[str]:
    return set(db.session.scalars(sa.select(Certification.numero_fiche)))


def delete_certifications(wanted: set[str]) -> None:
    db.session.execute(sa.delete(Certification).where(Certification.numero_fiche.in_(wanted)))
    db.session.commit()


@pytest.fixture(autouse=True)
def restore_certifications(session):
    """Put the shared reference tables back: drop the fiches a test created, reload changed ones."""
    before = certifications_snapshot()[0]
    yield
    session.rollback()
    created = sa.select(Certification.id).where(Certification.numero_fiche.not_in([row[0] for row in before]))
    session.execute(sa.delete(Formation).where(Formation.certification_id.in_(created)))
    session.execute(sa.delete(Certification).where(Certification.id.in_(created)))
    session.commit()
    if certifications_snapshot()[0] != before:
        from sofi.services.referentials.rncp import import_rncp

        for name in FICHE_FILES:
            import_rncp(DATA_DIR / name)


def assert_refused(result, *words: str) -> None:
    """Exit status 1, a French message on stderr, and no crash (a handled error)."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Erreur" in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in result.output


# --- the shipped fixtures ---------------------------------------------------------------------


@pytest.mark.parametrize("path", [RNCP_FIXTURE, RS_FIXTURE], ids=["RNCP", "RS"])
def test_import_creates_every_fiche_with_its_blocs_and_end_date(cli, session, path):
    expected = expected_fiches(path)
    assert expected and all(expected)  # every fiche has a direct NUMERO_FICHE
    delete_certifications(set(expected))
    assert not numeros() & set(expected)

    result = cli("sofi", "import-rncp", str(path))

    assert result.exit_code == 0, result.output
    total_blocs = sum(len(fiche["blocs"]) for fiche in expected.values())
    assert f"{len(expected)} fiches importées ({len(expected)} créées, 0 mises à jour)" in result.stdout
    assert f"{total_blocs} blocs de compétences" in result.stdout
    for numero, fiche in expected.items():
        stored = certification(numero)
        assert stored is not None, numero
        assert stored.intitule == fiche["intitule"]
        assert stored.date_fin_enregistrement == fiche["date_fin"], numero
        assert {bloc.code for bloc in stored.blocs} == fiche["blocs"], numero
        assert len(stored.blocs) == len(fiche["blocs"])
    stored_blocs = session.scalar(
        sa.select(sa.func.count())
        .select_from(BlocCompetences)
        .join(BlocCompetences.certification)
        .where(Certification.numero_fiche.in_(expected))
    )
    assert stored_blocs == total_blocs


def test_rncp_fixture_has_end_dates_and_blocs_on_every_fiche():
    """Guards the test above: the file must really exercise dates and blocs."""
    expected = expected_fiches(RNCP_FIXTURE)
    assert len(expected) == 12
    assert all(fiche["date_fin"] for fiche in expected.values())
    assert all(fiche["blocs"] for fiche in expected.values())
    assert expected["RNCP36612"]["date_fin"] == date(2027, 7, 1)
    assert nested_only_numeros(RNCP_FIXTURE)


def test_numero_fiche_nested_deeper_in_a_fiche_is_not_taken_for_the_fiche(cli, session):
    nested = nested_only_numeros(RNCP_FIXTURE)
    assert not numeros() & nested

    result = cli("sofi", "import-rncp", str(RNCP_FIXTURE))

    assert result.exit_code == 0, result.output
    assert not numeros() & nested


def test_nested_numero_before_the_fiche_own_number_is_ignored(cli, session, tmp_path):
    correspondance = (
        "<CORRESPONDANCES><CORRESPONDANCE><DESTINATION><NUMERO_FICHE>RNCP99990002</NUMERO_FICHE>"
        "</DESTINATION></CORRESPONDANCE></CORRESPONDANCES>"
    )
    path = fiches_file(tmp_path, fiche_xml(NEW_NUMERO, extra=correspondance))

    result = cli("sofi", "import-rncp", str(path))

    assert result.exit_code == 0, result.output
    assert certification(NEW_NUMERO) is not None
    assert certification("RNCP99990002") is None


@pytest.mark.parametrize("path", [RNCP_FIXTURE, RS_FIXTURE], ids=["RNCP", "RS"])
def test_reimport_updates_without_duplicating(cli, session, path):
    expected = expected_fiches(path)
    first = cli("sofi", "import-rncp", str(path))
    assert first.exit_code == 0, first.output
    counts = (count_rows(Certification), count_rows(BlocCompetences))
    before = certifications_snapshot()

    second = cli("sofi", "import-rncp", str(path))

    assert second.exit_code == 0, second.output
    assert f"{len(expected)} fiches importées (0 créées, {len(expected)} mises à jour)" in second.stdout
    assert (count_rows(Certification), count_rows(BlocCompetences)) == counts
    assert certifications_snapshot() == before  # same rows, and blocs keep their ids


def test_reimport_updates_the_values_and_keeps_the_bloc_ids(cli, session, tmp_path):
    first = fiches_file(
        tmp_path,
        fiche_xml(
            NEW_NUMERO,
            "Titre d'origine",
            "01/01/2030",
            (("RNCP99990001BC01", "Bloc un"), ("RNCP99990001BC02", "Bloc deux")),
        ),
        name="v1.xml",
    )
    assert cli("sofi", "import-rncp", str(first)).exit_code == 0
    original = certification(NEW_NUMERO)
    certification_id = original.id
    bloc_ids = {bloc.code: bloc.id for bloc in original.blocs}
    assert set(bloc_ids) == {"RNCP99990001BC01", "RNCP99990001BC02"}
    formation = Formation(
        organisation=_organisation(PARTNER_SIRET, "Organisme"),
        intitule="Formation sur un bloc",
        objectif_general="6",
        certifiante=True,
        certification=original,
        individualisation_blocs=True,
        blocs=[bloc for bloc in original.blocs if bloc.code == "RNCP99990001BC01"],
    )
    session.add(formation)
    session.commit()
    formation_id = formation.id

    second = fiches_file(
        tmp_path,
        fiche_xml(
            NEW_NUMERO,
            "Titre révisé",
            "31/12/2031",
            (
                ("RNCP99990001BC01", "Bloc un révisé"),
                ("RNCP99990001BC02", "Bloc deux"),
                ("RNCP99990001BC03", "Bloc trois"),
            ),
        ),
        name="v2.xml",
    )
    result = cli("sofi", "import-rncp", str(second))

    assert result.exit_code == 0, result.output
    assert "1 fiches importées (0 créées, 1 mises à jour)" in result.stdout
    updated = certification(NEW_NUMERO)
    assert updated.id == certification_id
    assert updated.intitule == "Titre révisé"
    assert updated.date_fin_enregistrement == date(2031, 12, 31)
    blocs = {bloc.code: bloc for bloc in updated.blocs}
    assert blocs["RNCP99990001BC01"].id == bloc_ids["RNCP99990001BC01"]
    assert blocs["RNCP99990001BC01"].libelle == "Bloc un révisé"
    assert blocs["RNCP99990001BC02"].id == bloc_ids["RNCP99990001BC02"]
    assert set(blocs) == {"RNCP99990001BC01", "RNCP99990001BC02", "RNCP99990001BC03"}
    # the formation that selected a bloc still has it
    assert [bloc.id for bloc in session.get(Formation, formation_id).blocs] == [bloc_ids["RNCP99990001BC01"]]


def test_a_bloc_code_repeated_inside_a_fiche_is_stored_once(cli, session, tmp_path):
    path = fiches_file(
        tmp_path,
        fiche_xml(
            NEW_NUMERO,
            blocs=(("RNCP99990001BC01", "Bloc un"), ("RNCP99990001BC01", "Bloc un"), ("RNCP99990001BC02", "Bloc deux")),
        ),
    )

    result = cli("sofi", "import-rncp", str(path))

    assert result.exit_code == 0, result.output
    assert sorted(bloc.code for bloc in certification(NEW_NUMERO).blocs) == ["RNCP99990001BC01", "RNCP99990001BC02"]


def test_a_fiche_without_end_date_is_imported_without_one(cli, session, tmp_path):
    path = fiches_file(tmp_path, fiche_xml(NEW_NUMERO, date_fin=None))

    result = cli("sofi", "import-rncp", str(path))

    assert result.exit_code == 0, result.output
    assert certification(NEW_NUMERO).date_fin_enregistrement is None


# --- refused files leave the database as it was -----------------------------------------------

EXISTING_NUMERO = "RNCP36612"  # in the shipped RNCP fixture, loaded with the reference data


def _changed_existing_fiche() -> str:
    """An existing fiche with a new title: the refused file must not apply it."""
    return fiche_xml(EXISTING_NUMERO, "Intitulé qu'un fichier refusé ne doit pas écrire", "01/01/2040")


def _truncated_fixture(tmp_path: Path) -> Path:
    text = RNCP_FIXTURE.read_text(encoding="utf-8")
    head, tail = text.split("<VERSION_FLUX>4.1</VERSION_FLUX>", 1)
    text = head + "<VERSION_FLUX>4.1</VERSION_FLUX>" + fiche_xml(NEW_NUMERO) + _changed_existing_fiche() + tail
    path = tmp_path / "tronque.xml"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    return path


def _wrong_root(tmp_path: Path) -> Path:
    path = tmp_path / "racine.xml"
    path.write_text(f"<EXPORT>{fiche_xml(NEW_NUMERO)}{_changed_existing_fiche()}</EXPORT>", encoding="utf-8")
    return path


def _bad_fiche_after_valid_ones(bad: str, valid_count: int = 1):
    def build(tmp_path: Path) -> Path:
        valid = [fiche_xml(f"RNCP9999{n:04d}") for n in range(1, valid_count + 1)]
        return fiches_file(tmp_path, *valid, _changed_existing_fiche(), bad)

    return build


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "vide.xml"
    path.write_bytes(b"")
    return path


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "absent.xml"


REFUSED_FILES = {
    "truncated": (_truncated_fixture, ["mal formé"]),
    "root-not-FICHES": (_wrong_root, ["FICHES", "EXPORT"]),
    "impossible-date": (
        _bad_fiche_after_valid_ones(fiche_xml("RNCP99998888", date_fin="31/02/2025")),
        ["date", "31/02/2025", "RNCP99998888"],
    ),
    "iso-date": (
        _bad_fiche_after_valid_ones(fiche_xml("RNCP99998888", date_fin="2025-01-01")),
        ["date", "2025-01-01", "JJ/MM/AAAA"],
    ),
    "no-NUMERO_FICHE": (_bad_fiche_after_valid_ones(fiche_xml(None)), ["NUMERO_FICHE"]),
    "invalid-NUMERO_FICHE": (_bad_fiche_after_valid_ones(fiche_xml("ABC123")), ["NUMERO_FICHE", "ABC123"]),
    "NUMERO_FICHE-too-long": (
        _bad_fiche_after_valid_ones(fiche_xml("RNCP1234567890")),
        ["NUMERO_FICHE", "RNCP1234567890"],
    ),
    "NUMERO_FICHE-mixed-prefix": (_bad_fiche_after_valid_ones(fiche_xml("RSNCP123")), ["NUMERO_FICHE", "RSNCP123"]),
    # more fiches than a batch before the error: rows already sent to the database are undone
    "error-after-a-batch": (
        _bad_fiche_after_valid_ones(fiche_xml("RNCP99998888", date_fin="2025-01-01"), 600),
        ["date"],
    ),
    "empty": (_empty, []),
    "missing": (_missing, ["n'existe pas"]),
}


@pytest.mark.parametrize("case", list(REFUSED_FILES))
def test_refused_file_changes_nothing_and_says_why_in_french(cli, session, tmp_path, case):
    build, words = REFUSED_FILES[case]
    path = build(tmp_path)
    before = certifications_snapshot()
    assert certification(NEW_NUMERO) is None

    result = cli("sofi", "import-rncp", str(path))

    assert_refused(result, *words)
    assert certifications_snapshot() == before
    assert certification(NEW_NUMERO) is None
    assert certification(EXISTING_NUMERO).intitule != "Intitulé qu'un fichier refusé ne doit pas écrire"


def test_empty_file_message_is_french(cli, session, tmp_path):
    result = cli("sofi", "import-rncp", str(_empty(tmp_path)))

    assert_refused(result)
    assert "vide" in result.stderr or "mal formé" in result.stderr


def test_file_with_no_fiche_is_refused(cli, session, tmp_path):
    result = cli("sofi", "import-rncp", str(fiches_file(tmp_path)))

    assert_refused(result, "aucune fiche")


def test_external_entities_are_not_resolved(cli, session, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("CONTENU-SECRET", encoding="utf-8")
    path = tmp_path / "xxe.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE FICHES [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        f"<FICHES>{fiche_xml(NEW_NUMERO, intitule='&xxe;')}</FICHES>",
        encoding="utf-8",
    )

    result = cli("sofi", "import-rncp", str(path))

    assert "CONTENU-SECRET" not in result.output
    stored = certification(NEW_NUMERO)
    assert stored is None or "CONTENU-SECRET" not in stored.intitule


# --- habilitations ----------------------------------------------------------------------------

PARTNER_SIRET = "77572257200366"  # C E SI, an active partner of two fiches of the RNCP fixture


def _organisation(siret: str, name: str) -> Organisation:
    assert stdnum_siret.is_valid(siret)
    organisation = Organisation(siret=siret, raison_sociale=name)
    db.session.add(organisation)
    db.session.commit()
    return organisation


def test_import_habilitates_an_existing_organisation_listed_as_active_partner(cli, session):
    expected = active_partner_fiches(RNCP_FIXTURE, PARTNER_SIRET)
    assert len(expected) >= 2
    organisation = _organisation(PARTNER_SIRET, "C E SI")
    other = _organisation("73282932000074", "Organisme sans habilitation")  # a valid SIRET absent from the file
    assert not active_partner_fiches(RNCP_FIXTURE, other.siret)

    result = cli("sofi", "import-rncp", str(RNCP_FIXTURE))

    assert result.exit_code == 0, result.output
    assert f"{len(expected)} habilitations ajoutées" in result.stdout
    session.expire_all()
    assert {c.numero_fiche for c in organisation.habilitations} == expected
    assert other.habilitations == []

    again = cli("sofi", "import-rncp", str(RNCP_FIXTURE))

    assert again.exit_code == 0, again.output
    assert "0 habilitations ajoutées" in again.stdout
    session.expire_all()
    assert sorted(c.numero_fiche for c in organisation.habilitations) == sorted(expected)


def test_inactive_partner_is_not_habilitated(cli, session, tmp_path):
    active, inactive = PARTNER_SIRET, "88877726500016"
    partners = "".join(
        f"<PARTENAIRE><NOM_PARTENAIRE>P</NOM_PARTENAIRE><SIRET_PARTENAIRE>{siret}</SIRET_PARTENAIRE>"
        f"<HABILITATION_PARTENAIRE>HABILITATION_FORMER</HABILITATION_PARTENAIRE>"
        f"<ETAT_HABILITATION>{etat}</ETAT_HABILITATION></PARTENAIRE>"
        for siret, etat in ((active, "Actif"), (inactive, "Inactif"))
    )
    path = fiches_file(tmp_path, fiche_xml(NEW_NUMERO, extra=f"<PARTENAIRES>{partners}</PARTENAIRES>"))
    habilitated = _organisation(active, "Partenaire actif")
    not_habilitated = _organisation(inactive, "Partenaire inactif")

    result = cli("sofi", "import-rncp", str(path))

    assert result.exit_code == 0, result.output
    session.expire_all()
    assert [c.numero_fiche for c in habilitated.habilitations] == [NEW_NUMERO]
    assert not_habilitated.habilitations == []


# --- a large file -----------------------------------------------------------------------------


def test_large_file_is_imported_entirely(cli, session, tmp_path):
    count = 3000
    long_text = "Activité visée décrite longuement. " * 60
    path = tmp_path / "gros.xml"
    with path.open("w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0" encoding="UTF-8"?>\n<FICHES><VERSION_FLUX>4.1</VERSION_FLUX>\n')
        for n in range(count):
            numero = f"RNCP98{n:06d}"
            handle.write(
                fiche_xml(
                    numero,
                    f"Fiche n°{n}",
                    "30/06/2031",
                    ((f"{numero}BC01", "Bloc unique"),),
                    extra=f"<ACTIVITES_VISEES>{long_text}</ACTIVITES_VISEES>",
                )
                + "\n"
            )
        handle.write("</FICHES>\n")
    wanted = {f"RNCP98{n:06d}" for n in range(count)}
    assert not numeros() & wanted

    result = cli("sofi", "import-rncp", str(path))

    assert result.exit_code == 0, result.output
    assert f"{count} fiches importées ({count} créées, 0 mises à jour), {count} blocs" in result.stdout
    stored = session.execute(
        sa.select(Certification.numero_fiche, Certification.date_fin_enregistrement, BlocCompetences.code)
        .join(BlocCompetences.certification)
        .where(Certification.numero_fiche.like("RNCP98%"))
    ).all()
    assert {row.numero_fiche for row in stored} == wanted
    assert {row.code for row in stored} == {f"{numero}BC01" for numero in wanted}
    assert {row.date_fin_enregistrement for row in stored} == {date(2031, 6, 30)}
    assert len(stored) == count
