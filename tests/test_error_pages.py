"""Errors are answered in French, without the record, on the HTML side of the app."""

from tests.web import login, text


def test_unknown_record_and_forbidden_pages_are_french(client, demo):
    login(client, "cariforef@demo.sofi.fr")
    missing = client.get("/admin/actions/edit/?id=999999999")
    assert missing.status_code == 404
    assert "Page introuvable" in text(missing)
    forbidden = client.get("/admin/validation/")
    assert forbidden.status_code == 403
    assert "Accès refusé" in text(forbidden)
    assert "Page introuvable" in text(client.get("/nulle-part"))
