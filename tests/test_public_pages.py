"""Public pages are kept whole between requests (``sofi.public_pages``): the same answer for every
visitor until the published offer changes, with the headers of each request, never a message
meant for one visitor."""

import re

from sofi.services.recruitment import update_recruitment
from tests.catalogue_support import fas, public_sessions

SEARCH = "/formations?recrutement_ouvert=oui"


def _found(client, url: str) -> int:
    return int(re.search(r"(\d+) sessions? trouvées?", client.get(url).get_data(as_text=True)).group(1))


def test_a_kept_search_page_shows_a_change_of_recruitment_at_once(client, demo):
    first = client.get(SEARCH).get_data(as_text=True)
    assert client.get(SEARCH).get_data(as_text=True) == first
    before = _found(client, SEARCH)
    session = next(s for s in public_sessions() if s.etat_recrutement == "1" and len(s.dispositifs) == 1)
    assert fas(session) in first
    update_recruitment(None, session, "2", 3)
    assert _found(client, SEARCH) == before - 1
    assert fas(session) not in client.get(SEARCH).get_data(as_text=True)


def test_a_kept_answer_carries_the_headers_of_each_request(client, demo):
    formation_id = public_sessions()[0].action.formation_id
    for _ in range(2):
        page = client.get(f"/formations/{formation_id}")
        assert page.status_code == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert page.mimetype == "text/html"
        answer = client.get(f"/api/v1/formations/{formation_id}")
        assert answer.headers["Access-Control-Allow-Origin"] == "*" and answer.is_json
        assert answer.get_json()["id"] == formation_id


def test_a_message_for_one_visitor_is_never_kept_for_the_others(app, client, demo):
    other = app.test_client()
    assert client.get("/").status_code == other.get("/").status_code == 200  # the page is kept
    with client.session_transaction() as cookie_session:
        cookie_session["_flashes"] = [("info", "Vous êtes déconnecté·e de votre espace personnel.")]
    assert "Vous êtes déconnecté·e" in client.get("/").get_data(as_text=True)
    assert "Vous êtes déconnecté·e" not in other.get("/").get_data(as_text=True)
    assert "Vous êtes déconnecté·e" not in client.get("/").get_data(as_text=True)
