"""``sofi import-programme`` and the administrators' upload: the Region's yearly file (seed 002)."""

import csv
import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from models import (
    AuditEvent,
    Lot,
    LotOrganisation,
    Organisation,
    Programme,
    ProgrammeTemplate,
    db,
)
from sofi.services.programmes import COLUMNS, EXAMPLE_CSV, EXAMPLE_XLSX
from tests.conftest import ROOT, count_rows
from tests.web import csrf_token, login, text

HEADER = ";".join(COLUMNS)


def _example_rows() -> list[dict]:
    with EXAMPLE_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _write(tmp_path, rows: list[dict], name: str = "programme.csv"):
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _state() -> dict:
    """Every row of the programme tables and of the organisations, to compare two imports."""
    state = {}
    for model in (Programme, Lot, LotOrganisation, ProgrammeTemplate, Organisation):
        columns = [c for c in model.__table__.columns if c.name not in ("created_at", "updated_at")]
        state[model.__tablename__] = sorted(map(tuple, db.session.execute(sa.select(*columns)).all()), key=repr)
    return state


def _links(code: str) -> set[tuple[str, str, str | None]]:
    lot = db.session.scalar(sa.select(Lot).where(Lot.code == code))
    return {(link.organisation.siret, link.role.value, link.code_cr) for link in lot.organisations}


def test_the_example_file_creates_programmes_lots_and_organisations(cli, session):
    rows = _example_rows()
    result = cli("sofi", "import-programme", str(EXAMPLE_CSV))
    assert result.exit_code == 0, result.output + str(result.stderr_bytes)

    expected_programmes = {(r["programme_code"], r["programme"]) for r in rows}
    assert {(p.code, p.intitule) for p in session.scalars(sa.select(Programme))} == expected_programmes
    assert {lot.code for lot in session.scalars(sa.select(Lot))} == {r["lot"] for r in rows}
    assert {o.siret for o in session.scalars(sa.select(Organisation))} == {r["siret"] for r in rows}
    assert count_rows(LotOrganisation) == len(rows)

    lot = session.scalar(sa.select(Lot).where(Lot.code == "PAS2025_4"))
    assert (lot.programme.intitule, lot.annee, lot.nb_places, lot.bon_commande, lot.semestre, lot.id_action_cr) == (
        "PREPA Avenir Sup",
        2025,
        30,
        "BC-2025-0412",
        2,
        "2872",
    )
    assert _links("PAS2025_4") == {
        ("13000511900032", "mandataire", "75"),
        ("13000511900032", "formateur", None),
    }
    assert lot.mandataire_code(lot.mandataires[0].id) == "75"
    cariforef = session.scalar(sa.select(Organisation).where(Organisation.siret == "13000511900032"))
    assert cariforef.raison_sociale == "CARIFOREF DES PAYS DE LA LOIRE"
    # One report line per file line, then the summary.
    assert "Ligne 2 : lot PAS2025_4, mandataire 13000511900032" in result.output
    assert f"{len(rows)} ligne(s) lue(s)" in result.output
    assert f"lots : {len({r['lot'] for r in rows})} créé(s)" in result.output


def test_importing_the_same_file_again_changes_nothing(cli, session):
    assert cli("sofi", "import-programme", str(EXAMPLE_CSV)).exit_code == 0
    before = _state()
    events = count_rows(AuditEvent)
    again = cli("sofi", "import-programme", str(EXAMPLE_CSV))
    assert again.exit_code == 0
    assert _state() == before
    assert count_rows(AuditEvent) == events  # nothing written, nothing audited
    assert "programmes : 0 créé(s), 0 modifié(s)" in again.output
    assert "lots : 0 créé(s), 0 modifié(s)" in again.output
    assert "0 ajouté(s), 0 modifié(s), 0 retiré(s)" in again.output
    assert again.output.count("— inchangé.") == len(_example_rows())


def test_the_xlsx_example_holds_the_same_data_as_the_csv(cli, session, tmp_path):
    sheet = load_workbook(EXAMPLE_XLSX, read_only=True).worksheets[0]
    xlsx_rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    with EXAMPLE_CSV.open(encoding="utf-8", newline="") as handle:
        assert xlsx_rows == list(csv.reader(handle, delimiter=";"))
    assert cli("sofi", "import-programme", str(EXAMPLE_XLSX)).exit_code == 0
    before = _state()
    second = cli("sofi", "import-programme", str(EXAMPLE_CSV))
    assert second.exit_code == 0
    assert _state() == before
    assert count_rows(Lot) == len({r["lot"] for r in _example_rows()})


def test_the_shipped_prepa_avenir_sup_template_comes_with_its_programme(cli, session):
    assert cli("sofi", "import-programme", str(EXAMPLE_CSV)).exit_code == 0
    templates = session.scalars(sa.select(ProgrammeTemplate)).all()
    assert [t.programme.code for t in templates] == ["PAS"]
    template = templates[0]
    assert (template.intitule, template.objectif_general, template.niveau_sortie) == ("PREPA Avenir Sup", "9", "0")
    assert (template.formacodes, template.formacode_principal) == (["15084", "15061"], "15061")
    assert template.niveau_entree == "14"  # « Niveau 4 validé (Bac, Bac pro, BP ou équivalent) »
    assert template.dispositif.label == "PROGRAMME REGION - Prépa avenir sup"
    assert sorted(template.publics) == ["80006", "80008", "82038", "82044", "82055"]
    assert template.prise_en_charge_frais is True
    assert template.objectifs.startswith("Ce parcours doit permettre à un public de niveau supérieur à 4")
    assert "TOEIC, TOEFL, TOSA, PIX" in template.resultats_attendus
    assert template.complement_programme.startswith("Modules obligatoires qui pourront varier")


def _bad(rows, index: int, **changes) -> list[dict]:
    rows = [dict(r) for r in rows]
    rows[index].update(changes)
    return rows


@pytest.mark.parametrize(
    ("index", "changes", "expected"),
    [
        (2, {"siret": "44123456400018"}, "Ligne 4 : SIRET « 44123456400018 » : ce SIRET n'est pas valide"),
        (0, {"siret": "1300051190003"}, "Ligne 2 : SIRET « 1300051190003 » : le SIRET doit comporter exactement 14"),
        (4, {"annee": "deux mille"}, "Ligne 6 : l'année « deux mille » doit être un nombre entier"),
        (5, {"places_commandees": "0"}, "Ligne 7 : le nombre de places commandées « 0 » doit être un nombre entier"),
        (6, {"role": "sous-traitant"}, "Ligne 8 : le rôle « sous-traitant » doit être « mandataire » ou « formateur »"),
        (7, {"semestre_bon_commande": "3"}, "Ligne 9 : le semestre du bon de commande « 3 » doit être 1 ou 2"),
        (
            1,
            {"places_commandees": "31"},
            "Ligne 3 : le nombre de places commandées du lot PAS2025_4 (« 31 ») diffère de la ligne 2 (« 30 »).",
        ),
        (0, {"annee": "2026", "places_commandees": "30"}, "Ligne 2 : le lot PAS2025_4 porte l'année 2025"),
        (3, {"raison_sociale": ""}, "Ligne 5 : la raison sociale est obligatoire"),
        (1, {"role": "mandataire"}, "Ligne 3 : le SIRET 13000511900032 est déjà mandataire du lot PAS2025_4"),
    ],
)
def test_a_file_with_a_bad_line_is_refused_with_its_line_number_and_nothing_is_written(
    cli, session, tmp_path, index, changes, expected
):
    path = _write(tmp_path, _bad(_example_rows(), index, **changes))
    result = cli("sofi", "import-programme", str(path))
    assert result.exit_code == 1
    assert "Import terminé" not in result.stdout
    assert expected in result.stderr
    assert "rien n'a été importé" in result.stderr
    for model in (Programme, Lot, LotOrganisation, Organisation, ProgrammeTemplate):
        assert count_rows(model) == 0, model


def test_a_bad_line_leaves_an_earlier_import_untouched(cli, session, tmp_path):
    assert cli("sofi", "import-programme", str(EXAMPLE_CSV)).exit_code == 0
    before = _state()
    rows = _example_rows()
    rows[0]["places_commandees"] = "45"  # a real change on line 2…
    rows[1]["places_commandees"] = "45"
    rows[-1]["siret"] = "13000511900033"  # …but the last line is bad
    result = cli("sofi", "import-programme", str(_write(tmp_path, rows)))
    assert result.exit_code == 1
    assert f"Ligne {len(rows) + 1} : SIRET « 13000511900033 »" in result.stderr
    assert _state() == before


def test_a_lot_without_mandataire_is_refused(cli, session, tmp_path):
    rows = [r for r in _example_rows() if not (r["lot"] == "PAS2025_7" and r["role"] == "mandataire")]
    line = next(i for i, r in enumerate(rows, start=2) if r["lot"] == "PAS2025_7")
    result = cli("sofi", "import-programme", str(_write(tmp_path, rows)))
    assert result.exit_code == 1
    assert f"Ligne {line} : le lot PAS2025_7 n'a aucune ligne « mandataire »." in result.stderr


def test_missing_columns_and_unknown_formats_are_refused(cli, session, tmp_path):
    path = tmp_path / "programme.csv"
    path.write_text("programme_code;programme;lot\nPAS;PREPA Avenir Sup;PAS2025_4\n", encoding="utf-8")
    result = cli("sofi", "import-programme", str(path))
    assert result.exit_code == 1 and "Ligne 1 : colonne(s) manquante(s) : intitule_lot" in result.stderr
    other = tmp_path / "programme.ods"
    other.write_bytes(b"x")
    result = cli("sofi", "import-programme", str(other))
    assert result.exit_code == 1 and "le fichier doit être un .csv ou un .xlsx" in result.stderr
    assert count_rows(Programme) == 0


def test_dry_run_reports_without_writing(cli, session):
    result = cli("sofi", "import-programme", str(EXAMPLE_CSV), "--dry-run")
    assert result.exit_code == 0
    assert "Simulation (rien n'a été enregistré)" in result.output
    assert "lot PAS2025_4 créé" in result.output
    for model in (Programme, Lot, LotOrganisation, Organisation, ProgrammeTemplate):
        assert count_rows(model) == 0


def test_a_new_file_updates_lots_and_their_organisations(cli, session, tmp_path):
    assert cli("sofi", "import-programme", str(EXAMPLE_CSV)).exit_code == 0
    rows = _example_rows()
    for row in rows:
        if row["lot"] == "PAS2025_4":
            row["places_commandees"] = "36"
            row["intitule_lot"] = "PREPA Avenir Sup - Nantes centre"
    rows = [r for r in rows if not (r["lot"] == "PAS2026_2" and r["role"] == "formateur")]
    rows.append(
        {
            **next(r for r in rows if r["lot"] == "PAS2026_2"),
            "role": "formateur",
            "siret": "72198765900019",
            "raison_sociale": "MAINE SANTE FORMATION",
            "code_of_cr": "",
        }
    )
    result = cli("sofi", "import-programme", str(_write(tmp_path, rows)))
    assert result.exit_code == 0, result.stderr
    lot = session.scalar(sa.select(Lot).where(Lot.code == "PAS2025_4"))
    assert (lot.nb_places, lot.intitule) == (36, "PREPA Avenir Sup - Nantes centre")
    assert "lot PAS2025_4 modifié (intitule, nb_places)" in result.output
    assert _links("PAS2026_2") == {("44123456400017", "mandataire", "81"), ("72198765900019", "formateur", None)}
    assert "Lot PAS2026_2 : 13000511900032 (CARIFOREF DES PAYS DE LA LOIRE) n'est plus formateur." in result.output
    assert "organismes créés : 1" in result.output  # MAINE SANTE FORMATION is not in the example file
    maine = session.scalar(sa.select(Organisation).where(Organisation.siret == "72198765900019"))
    assert maine.raison_sociale == "MAINE SANTE FORMATION"
    removed = session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.table_name == "programme_lot_organisation", AuditEvent.operation == "delete"
        )
    ).all()
    assert len(removed) == 1


def test_an_existing_organisation_keeps_its_own_name(cli, session, tmp_path):
    rows = _example_rows()
    for row in rows:
        if row["siret"] == "13000511900032":
            row["raison_sociale"] = "NOM DONNE PAR LA REGION"
    assert cli("sofi", "import-programme", str(EXAMPLE_CSV)).exit_code == 0
    assert cli("sofi", "import-programme", str(_write(tmp_path, rows))).exit_code == 0
    cariforef = session.scalar(sa.select(Organisation).where(Organisation.siret == "13000511900032"))
    assert cariforef.raison_sociale == "CARIFOREF DES PAYS DE LA LOIRE"


def test_a_csv_in_windows_1252_with_commas_is_read(cli, session, tmp_path):
    rows = _example_rows()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=",")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "programme.csv"
    path.write_bytes(buffer.getvalue().encode("cp1252"))
    result = cli("sofi", "import-programme", str(path))
    assert result.exit_code == 0, result.stderr
    assert session.scalar(sa.select(Programme).where(Programme.code == "PCA")).intitule == "PREPA Clés Avenir"


def test_an_xlsx_with_numeric_cells_is_read(cli, session, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(COLUMNS)
    row = _example_rows()[0]
    sheet.append(
        [int(row[c]) if c in ("annee", "places_commandees", "siret", "id_action_cr") else row[c] for c in COLUMNS]
    )
    path = tmp_path / "programme.xlsx"
    workbook.save(path)
    result = cli("sofi", "import-programme", str(path))
    assert result.exit_code == 0, result.stderr
    lot = session.scalar(sa.select(Lot))
    assert (lot.code, lot.annee, lot.id_action_cr, lot.mandataires[0].siret) == (
        "PAS2025_4",
        2025,
        "2872",
        "13000511900032",
    )


def test_the_upload_screen_is_for_administrators(client, demo, session):
    content = EXAMPLE_CSV.read_bytes()
    login(client, "cariforef@demo.sofi.fr")
    assert client.get("/admin/programme_import/").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    login(client, "admin@demo.sofi.fr")
    lots_before = count_rows(Lot)
    token = csrf_token(client, "/admin/programme_import/")
    page = text(
        client.post(
            "/admin/programme_import/",
            data={"csrf_token": token, "dry_run": "y", "file": (io.BytesIO(content), "programme.csv")},
            content_type="multipart/form-data",
        )
    )
    assert "Simulation (rien n'a été enregistré)" in page and "inchangé" in page  # the demo loaded this file
    assert count_rows(Lot) == lots_before
    bad = content.replace(b"44123456400017;ATLANTIQUE", b"44123456400018;ATLANTIQUE", 1)
    page = text(
        client.post(
            "/admin/programme_import/",
            data={"csrf_token": token, "file": (io.BytesIO(bad), "programme.csv")},
            content_type="multipart/form-data",
        )
    )
    assert "Fichier refusé : rien n'a été importé" in page
    assert "Ligne 4 : SIRET « 44123456400018 »" in page


def test_the_upload_screen_imports_a_new_lot(client, demo, session):
    rows = _example_rows()
    rows.append({**rows[0], "lot": "PAS2025_9", "intitule_lot": "PREPA Avenir Sup - Angers", "id_action_cr": "2999"})
    rows.append({**rows[1], "lot": "PAS2025_9", "intitule_lot": "PREPA Avenir Sup - Angers", "id_action_cr": "2999"})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    login(client, "admin@demo.sofi.fr")
    token = csrf_token(client, "/admin/programme_import/")
    page = text(
        client.post(
            "/admin/programme_import/",
            data={"csrf_token": token, "file": (io.BytesIO(buffer.getvalue().encode()), "programme.csv")},
            content_type="multipart/form-data",
        )
    )
    assert "Import terminé" in page and "lot PAS2025_9 créé" in page
    assert _links("PAS2025_9") == {("13000511900032", "mandataire", "75"), ("13000511900032", "formateur", None)}
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.operation == "import-programme"))
    assert event.actor_label == "admin@demo.sofi.fr" and "1 créé(s)" in event.message


def test_the_file_format_is_documented_and_linked_from_the_readme():
    doc = (ROOT / "docs" / "programme-file.md").read_text(encoding="utf-8")
    for column in COLUMNS:
        assert f"`{column}`" in doc, column
    assert "docs/programme-file.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert EXAMPLE_CSV.read_text(encoding="utf-8").splitlines()[0] == HEADER
