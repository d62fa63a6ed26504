"""CSV and XLSX exports neutralise spreadsheet formulas typed by users."""

import csv
import io

import openpyxl

from tests.web import login, post_form


def test_exports_neutralise_formulas(client, demo, session):
    login(client, "cariforef@demo.sofi.fr")
    response = post_form(
        client,
        "/admin/contacts/new/",
        {"nom": '=HYPERLINK("http://x")', "prenom": "@SUM(A1)", "fonction": "+33 6 00", "email": ""},
    )
    assert response.status_code == 302
    rows = list(csv.DictReader(io.StringIO(client.get("/admin/contacts/export/csv/").get_data(as_text=True))))
    exported = next(row for row in rows if "HYPERLINK" in row["Nom"])
    assert exported["Nom"].startswith("'=") and exported["Prénom"].startswith("'@")
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/admin/contacts/export/xlsx/").data))
    cells = [cell.value for row in workbook.active.iter_rows() for cell in row if cell.value]
    assert '\'=HYPERLINK("http://x")' in cells
    assert not any(isinstance(value, str) and value.startswith("=") for value in cells)
