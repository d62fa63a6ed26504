"""``flask sofi import-lheo``: the real LHÉO files of ../shared/lheo/real-samples.

Expected counts and values are read from the sample files with plain lxml (and the official
XSD of ../shared), never from the importer.
"""

import re

import pytest
import sqlalchemy as sa

from models import (
    Action,
    ActionStatus,
    AuditEvent,
    Commune,
    Dispositif,
    Formacode,
    Formation,
    ModelValidationError,
    Organisation,
    PublishedAction,
    SessionFormation,
    Site,
    db,
)
from sofi.services import workflow
from sofi.services.lheo_import_report import CREATED, SKIPPED, UPDATED, ImportReport
from tests.conftest import count_rows
from tests.lheo_support import (
    INVALID_SAMPLE,
    NS,
    as_23,
    assert_valid,
    counts,
    empty_offer_tables,
    official_schema,
    parse,
    restore_reference_data,  # noqa: F401  (fixture)
    sample_files,
)

WRITTEN = (Organisation, Site, Formation, Action, SessionFormation, Commune, Formacode, Dispositif, AuditEvent)
PLAQUISTE = "trefle-etoile-plaquiste-2.2.xml"


@pytest.fixture(autouse=True)
def _reference_rows_are_restored(restore_reference_data):  # noqa: F811
    """Set up first, torn down last: after the offer rows are gone."""
    yield


def _snapshot() -> dict:
    db.session.rollback()
    return {model.__name__: count_rows(model) for model in WRITTEN}


def _publish_everything() -> None:
    for action in db.session.scalars(sa.select(Action).order_by(Action.id)).all():
        workflow.publish_imported(action)
    db.session.commit()


def _import(cli, path, *args):
    return cli("sofi", "import-lheo", str(path), *args)


def test_every_real_sample_imports_and_reexports_with_the_same_counts(cli, session, tmp_path):
    files = sample_files()
    assert len(files) == 7
    offers = 0
    for path in files:
        original = as_23(parse(path))
        root_name = original.tag.split("}")[1]
        if root_name == "lheo-index":
            before = _snapshot()
            result = _import(cli, path)
            assert result.exit_code == 1, path.name
            resumes = len(original.findall(f".//{{{NS}}}resume-offre"))
            assert "lheo-index" in result.stderr and f"{resumes} résumé" in result.stderr
            assert "Rien n'a été importé" in result.stderr
            assert _snapshot() == before
            continue
        offers += 1
        expected = counts(original)
        result = _import(cli, path)
        assert result.exit_code == 0, (path.name, result.output, result.stderr)
        for session_element in original.iter(f"{{{NS}}}session"):
            assert f"Session {session_element.get('numero')} " in result.output
        assert f"{expected['session']} session" in result.output.splitlines()[-1]
        assert session.query(Action).filter(Action.status != ActionStatus.EN_COURS_DE_SAISIE).count() == 0

        _publish_everything()
        output = tmp_path / f"{path.stem}.xml"
        exported = cli("sofi", "export-lheo", "--output", str(output), "--validate")
        assert exported.exit_code == 0, (path.name, exported.output, exported.stderr)
        reexported = parse(output)
        assert_valid(reexported)
        assert counts(reexported) == expected, path.name
        original_titles = sorted(" ".join(t.text.split()) for t in original.iter(f"{{{NS}}}intitule-formation"))
        assert sorted(t.text for t in reexported.iter(f"{{{NS}}}intitule-formation")) == original_titles
        for original_session in original.iter(f"{{{NS}}}session"):
            debut = original_session.findtext(f"{{{NS}}}periode/{{{NS}}}debut")
            assert debut in {d.text for d in reexported.iter(f"{{{NS}}}debut")}, path.name
        empty_offer_tables()
    assert offers == 5


def test_the_invalid_sample_is_rejected_with_its_schema_errors_and_nothing_written(cli, session):
    schema = official_schema()
    assert not schema.validate(as_23(parse(INVALID_SAMPLE)).getroottree())
    expected_errors = len(schema.error_log)
    typo_line = next(
        number
        for number, line in enumerate(INVALID_SAMPLE.read_text(encoding="utf-8").splitlines(), 1)
        if "<coordonneFs>" in line
    )
    before = _snapshot()
    result = _import(cli, INVALID_SAMPLE)
    assert result.exit_code == 1
    assert f"({expected_errors} erreur(s))" in result.stderr
    assert "rien n'a été importé" in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip().startswith("- ligne")]
    assert len(errors) == expected_errors
    assert any(f"ligne {typo_line} " in line and "coordonneFs" in line and "formation" in line for line in errors)
    assert _snapshot() == before


def _plaquiste(tmp_path, **replacements) -> object:
    text = (sample_files()[0].parent / PLAQUISTE).read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new, 1)  # first occurrence only
    path = tmp_path / PLAQUISTE
    path.write_text(text, encoding="utf-8")
    return path


def test_reimport_updates_instead_of_duplicating_and_dry_run_writes_nothing(cli, session, tmp_path):
    source = sample_files()[0].parent / PLAQUISTE
    original = parse(source)
    session_numeros = [s.get("numero") for s in original.iter("{*}session")]
    assert _import(cli, source).exit_code == 0
    first = _snapshot()
    assert first["SessionFormation"] == len(session_numeros)

    again = _import(cli, source)
    assert again.exit_code == 0
    assert _snapshot()["SessionFormation"] == first["SessionFormation"]
    assert all(f"Session {n} « Titre professionnel plaquiste » : inchangée" in again.output for n in session_numeros)

    # the flow moves the end of a session: the same session is updated, nothing is duplicated
    changed = _plaquiste(tmp_path, **{"<fin>20180601</fin>": "<fin>20180629</fin>"})  # session 114782
    preview = _import(cli, changed, "--dry-run")
    assert preview.exit_code == 0 and "Simulation" in preview.output and "mise à jour" in preview.output
    db.session.rollback()
    assert {s.date_fin.isoformat() for s in session.scalars(sa.select(SessionFormation))} == {"2018-06-01"}

    # a published imported action goes back to draft when a re-import changes it
    _publish_everything()
    updated = _import(cli, changed)
    assert updated.exit_code == 0
    db.session.rollback()
    ends = sorted(s.date_fin.isoformat() for s in session.scalars(sa.select(SessionFormation)))
    assert ends.count("2018-06-29") == 1 and len(ends) == len(session_numeros)
    moved = session.scalar(sa.select(SessionFormation).where(SessionFormation.numero_lheo == session_numeros[0]))
    assert moved.date_fin.isoformat() == "2018-06-29"
    assert moved.action.status is ActionStatus.EN_COURS_DE_SAISIE
    assert session.get(PublishedAction, moved.action_id) is not None  # the public keeps the approved version
    assert _snapshot()["Formation"] == first["Formation"]


def test_real_world_quirks(cli, session, tmp_path):
    samples = sample_files()[0].parent
    onisep = parse(samples / "onisep-bts-nrc-2.2.xml")
    assert _import(cli, samples / "onisep-bts-nrc-2.2.xml").exit_code == 0
    formation = session.scalar(sa.select(Formation).where(Formation.numero_lheo == onisep[0][0].get("numero")))
    assert formation is not None
    assert "<p>" in formation.objectifs and "&lt;" not in formation.objectifs  # escaped HTML read back as HTML
    assert formation.organisation.nda is None  # 99999999999 is a placeholder
    assert formation.certifiante is False  # its RNCP 474 / Certif Info 19004 are unknown here
    commune = session.get(Commune, "29233")
    assert commune is not None and commune.nom == "QUIMPERLÉ"

    daeu = parse(samples / "trefle-daeu-2.2.xml")
    nda = daeu.findtext(".//{*}numero-activite")
    assert re.search(r"[A-Z]", nda)
    result = _import(cli, samples / "trefle-daeu-2.2.xml")
    assert result.exit_code == 0
    organisation = session.scalar(sa.select(Organisation).where(Organisation.nda == nda))
    assert organisation is not None  # an NDA with a letter is kept
    daeu_formation = session.scalar(sa.select(Formation).where(Formation.organisation_id == organisation.id))
    certifinfo = int(daeu.findtext(".//{*}code-CERTIFINFO"))
    assert daeu_formation.certifiante and daeu_formation.certifinfo_code == certifinfo

    # a Formacode our table lacks is added (with a warning) rather than lost
    unknown = _plaquiste(tmp_path, **{">22402</code-FORMACODE>": ">99991</code-FORMACODE>"})
    result = _import(cli, unknown)
    assert result.exit_code == 0
    assert "Formacode 99991" in result.output
    added = session.get(Formacode, "99991")
    assert added is not None and added.version == "V12"
    plaquiste = session.scalar(sa.select(Formation).where(Formation.intitule == "Titre professionnel plaquiste"))
    assert plaquiste.formacode_principal == "22403" and "99991" in plaquiste.formacode_codes
    assert "période d'inscription sans date de début (00000000)" in result.output
    # the organisme formateur of the file dispenses the actions of the organisme responsable
    formateur = parse(samples / PLAQUISTE).findtext(".//{*}organisme-formateur/{*}SIRET-formateur/{*}SIRET")
    assert {a.organisation.siret for a in plaquiste.actions} == {formateur}
    assert plaquiste.organisation.siret != formateur
    financeurs = {f.text for f in parse(samples / PLAQUISTE).iter("{*}code-financeur")}
    imported = {d.dispositif.financeur_code for a in plaquiste.actions for s in a.sessions for d in s.dispositifs}
    assert imported == financeurs


def test_organisation_option_limits_the_import(cli, session):
    path = sample_files()[0].parent / PLAQUISTE
    responsible = parse(path).findtext(".//{*}SIRET-organisme-formation/{*}SIRET")
    other = "13000511900032"
    result = _import(cli, path, "--organisation", other)
    assert result.exit_code == 0 and "hors du périmètre" in result.output
    assert count_rows(Formation) == 0 and count_rows(Organisation) == 0
    result = _import(cli, path, "--organisation", responsible)
    assert result.exit_code == 0 and count_rows(Formation) == 1
    assert _import(cli, path, "--organisation", "123").exit_code == 1


def _several_plaquistes(tmp_path, count: int) -> object:
    """The plaquiste formation ``count`` times, numbered F1…, its actions and sessions prefixed 1-, 2-…"""
    text = (sample_files()[0].parent / PLAQUISTE).read_text(encoding="utf-8")
    start, end = text.index("<formation "), text.index("</formation>") + len("</formation>")
    block = text[start:end]
    copies = [
        block.replace('<formation numero="07_10"', f'<formation numero="F{n}"')
        .replace('<action numero="', f'<action numero="{n}-')
        .replace('<session numero="', f'<session numero="{n}-')
        for n in range(1, count + 1)
    ]
    path = tmp_path / "plaquistes.xml"
    path.write_text(text[:start] + "".join(copies) + text[end:], encoding="utf-8")
    return path


def test_a_schema_error_after_written_formations_rejects_the_file(cli, session, tmp_path, monkeypatch):
    """Formations are validated as they are applied: the ones before an error are rolled back, all errors listed."""
    monkeypatch.setattr("sofi.services.lheo_import.BATCH_SIZE", 1)  # F1 is written before F2 is read
    path = _several_plaquistes(tmp_path, 4)
    text = path.read_text(encoding="utf-8")
    for numero in ("F2", "F4"):
        start = text.index(f'<formation numero="{numero}"')
        opened = text.index(">", start) + 1
        text = text[:opened] + "<inconnu/>" + text[opened:]
    path.write_text(text, encoding="utf-8")
    schema = official_schema()
    assert not schema.validate(as_23(parse(path)).getroottree())
    expected_errors = len(schema.error_log)
    before = _snapshot()
    result = _import(cli, path)
    assert result.exit_code == 1
    assert f"({expected_errors} erreur(s))" in result.stderr and "rien n'a été importé" in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip().startswith("- ligne")]
    assert len(errors) == expected_errors
    assert any("formation F2" in line and "inconnu" in line for line in errors)
    assert any("formation F4" in line and "inconnu" in line for line in errors)
    assert _snapshot() == before


def test_a_formation_refused_when_written_is_skipped_alone_the_others_are_imported(cli, session, tmp_path, monkeypatch):
    """Formations are written together; one refused by the database check does not take the others down."""
    original_check = SessionFormation.check_consistency

    def refuse_the_second(record):
        if record.numero_lheo.startswith("2-"):
            raise ModelValidationError("date_fin", "refusée par la base (test)")
        original_check(record)

    monkeypatch.setattr(SessionFormation, "check_consistency", refuse_the_second)
    result = _import(cli, _several_plaquistes(tmp_path, 3))
    assert result.exit_code == 0, result.output
    assert "Formation F2 « Titre professionnel plaquiste » : ignorée — refusée par la base (test)" in result.output
    assert "Formation F1 « Titre professionnel plaquiste » : créée" in result.output
    assert "Formation F3 « Titre professionnel plaquiste » : créée" in result.output
    db.session.rollback()
    numeros = sorted(session.scalars(sa.select(SessionFormation.numero_lheo)))
    assert numeros == ["1-114782", "1-123324", "3-114782", "3-123324"]
    assert sorted(session.scalars(sa.select(Formation.numero_lheo))) == ["F1", "F3"]
    audited = session.scalars(sa.select(AuditEvent.record_id).where(AuditEvent.table_name == "session_formation")).all()
    assert len(audited) == 4


def test_the_summary_counts_each_kind_by_outcome_in_french():
    report = ImportReport("offre.xml", version="2.3")
    for outcome in (CREATED, CREATED, SKIPPED):
        report.add("formation", "F1", "Plaquiste", outcome)
    report.add("organisme", "123", "Organisme", UPDATED)
    report.open("session", "S1", "Plaquiste")  # still open (its formation was not applied): not counted
    report.warn("Commune inconnue")
    assert report.summary() == (
        "Import LHÉO 2.3 : 1 organisme (1 mis à jour) ; 3 formations (2 créées, 1 ignorée) ; 1 avertissement(s)."
    )
