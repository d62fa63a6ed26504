from tests.web import login, text
def test_x(client, demo):
    login(client, "admin@demo.sofi.fr")
    for url in ["/admin/programme_modeles/new/", "/admin/programme_modeles/", "/admin/programme_modeles/export/csv/",
                "/admin/programmes/export/xlsx/", "/admin/programme_lots/details/?id=1", "/admin/programmes/new/",
                "/admin/programme_lots/edit/?id=1", "/admin/programme_import/", "/admin/programme_modeles/details/?id=1"]:
        r = client.get(url)
        print(url, r.status_code)
        assert r.status_code == 200, text(r)[-2000:]
