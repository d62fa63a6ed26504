"""``flask sofi export-lheo`` and the LHÉO API: the published offer as national systems read it.

Expectations come from the ORM (the live records of the published demo actions) and the
official XSD of ../shared, never from the exporter.
"""

import re
import resource
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from exporters.lheo import mapping
from models import Action, ActionStatus, Formation, PublishedAction, PublishedSession, db
from tests.conftest import ROOT
from tests.lheo_support import NS, assert_valid, child_text, counts, parse


def _published_actions():
    return db.session.scalars(sa.select(Action).where(Action.status == ActionStatus.PUBLIEE).order_by(Action.id)).all()


def _export(cli, tmp_path, *args, name="offre.xml"):
    output = tmp_path / name
    result = cli("sofi", "export-lheo", "--output", str(output), *args)
    assert result.exit_code == 0, (result.output, getattr(result, "stderr", ""))
    return output, result


def _sessions_by_numero(root):
    return {s.get("numero"): s for s in root.iter(f"{{{NS}}}session")}


def written_paths(root) -> set[str]:
    """MAPPING paths of every element under lheo/offres (``extras`` by their ``info``)."""
    paths = set()

    def walk(element, path):
        name = element.tag.split("}", 1)[1]
        current = f"{path}/{name}" if path else name
        if name == "extras":
            paths.add(mapping.mapped_path(f"{current}[{element.get('info')}]"))
            return
        paths.add(mapping.mapped_path(current))
        for child in element:
            walk(child, current)

    for formation in root.find(f"{{{NS}}}offres"):
        walk(formation, "")
    return paths


def test_demo_export_validates_and_holds_every_published_session(demo, cli, tmp_path, session):
    output, result = _export(cli, tmp_path)
    root = parse(output)
    assert root.tag == f"{{{NS}}}lheo"
    assert_valid(root)

    actions = _published_actions()
    expected_sessions = {s.fas_code: (a, s) for a in actions for s in a.sessions}
    assert len(expected_sessions) >= 4
    found = _sessions_by_numero(root)
    assert set(found) == set(expected_sessions)
    assert f"{counts(root)['session']} session(s)" in result.output

    for fas_code, (action, live) in expected_sessions.items():
        element = found[fas_code]
        assert element.findtext(f"{{{NS}}}periode/{{{NS}}}debut") == live.date_debut.strftime("%Y%m%d")
        assert element.findtext(f"{{{NS}}}periode/{{{NS}}}fin") == live.date_fin.strftime("%Y%m%d")
        adresse = element.find(f"{{{NS}}}adresse-inscription/{{{NS}}}adresse")
        assert child_text(adresse, "codepostal") == live.site.code_postal
        assert live.site.adresse1 in [line.text for line in adresse.findall(f"{{{NS}}}ligne")]
        assert child_text(adresse, "ville") == live.site.commune.nom

        action_element = element.getparent()
        financeurs = {f.text for f in action_element.iterfind(f"{{{NS}}}organisme-financeur/{{{NS}}}code-financeur")}
        assert financeurs == {d.dispositif.financeur_code for d in live.dispositifs}
        publics = {p.text for p in action_element.iterfind(f"{{{NS}}}code-public-vise")}
        expected_publics = {p.formacode_code for d in live.dispositifs for p in d.publics if p.formacode_code}
        assert publics == (expected_publics or {"83056"})
        lieu = action_element.find(f"{{{NS}}}lieu-de-formation/{{{NS}}}coordonnees/{{{NS}}}adresse")
        assert child_text(lieu, "code-INSEE-commune") == live.site.commune_code

        formation_element = action_element.getparent()
        formation = action.formation
        assert child_text(formation_element, "intitule-formation") == formation.intitule
        assert child_text(formation_element, "certifiante") == ("1" if formation.certifiante else "0")
        if formation.certifinfo_code:
            codes = formation_element.findtext(f"{{{NS}}}certification/{{{NS}}}code-CERTIFINFO")
            assert codes == str(formation.certifinfo_code)
        if formation.certification is not None and formation.certification.numero_fiche.startswith("RNCP"):
            rncp = formation_element.findtext(f"{{{NS}}}certification/{{{NS}}}code-RNCP")
            assert re.sub(r"\D", "", rncp) == re.sub(r"\D", "", formation.certification.numero_fiche)
        blocs = {b.text for b in element.iterfind(f".//{{{NS}}}code-bloc")}
        assert blocs == {b.code for b in formation.blocs}
        principal = formation_element.find(f"{{{NS}}}domaine-formation/{{{NS}}}code-FORMACODE")
        assert principal.text == formation.formacode_principal
        assert principal.get("ref", "").startswith("V")

    # the seed's DEAS carries its four blocs de compétences on its session
    deas = next(a for a in actions if a.formation.certifinfo_code == 111669)
    element = found[deas.sessions[0].fas_code]
    codes = [c.text for c in element.iterfind(f".//{{{NS}}}bloc-competences/{{{NS}}}code-bloc")]
    assert sorted(codes) == sorted(b.code for b in deas.formation.blocs) and len(codes) == 4
    assert element.findtext(f".//{{{NS}}}validation-blocs") == deas.formation.validation_blocs

    # every element written is a row of the mapping table, and the doc lists every row
    assert sorted(written_paths(root) - mapping.mapped_paths()) == []
    doc = (ROOT / "docs" / "lheo-mapping.md").read_text(encoding="utf-8")
    assert [row.lheo for row in mapping.MAPPING if f"`{row.lheo}`" not in doc] == []
    assert "docs/lheo-mapping.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_only_published_versions_and_the_since_and_organisation_filters(demo, cli, tmp_path, session):
    published = _published_actions()[0]
    old_title = published.formation.intitule
    # a draft revision of the live records is not exported until it is approved
    published.formation.intitule = "Intitulé en cours de révision"
    session.commit()
    not_published = session.scalars(sa.select(Action).where(Action.status != ActionStatus.PUBLIEE)).all()
    output, _ = _export(cli, tmp_path, name="tout.xml")
    root = parse(output)
    titles = {t.text for t in root.iter(f"{{{NS}}}intitule-formation")}
    assert old_title in titles and "Intitulé en cours de révision" not in titles
    assert not set(_sessions_by_numero(root)) & {s.fas_code for a in not_published for s in a.sessions}

    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    output, result = _export(cli, tmp_path, "--since", future, name="vide.xml")
    assert counts(parse(output))["formation"] == 0
    assert "aucune formation" in result.output

    # one action republished "now": only its formation is in an incremental export
    target = _published_actions()[-1]
    past = datetime.now(UTC) - timedelta(days=30)
    session.execute(sa.update(PublishedAction).values(published_at=past))
    session.execute(sa.update(PublishedSession).values(updated_at=past))
    session.execute(
        sa.update(PublishedAction).where(PublishedAction.action_id == target.id).values(published_at=datetime.now(UTC))
    )
    session.commit()
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    output, _ = _export(cli, tmp_path, "--since", since, name="increment.xml")
    numeros = {f.get("numero") for f in parse(output).iter(f"{{{NS}}}formation")}
    assert numeros == {f"{target.formation_id}-{s.organisme_responsable.siret}" for s in target.sessions}

    siret = target.organisation.siret
    output, _ = _export(cli, tmp_path, "--organisation", siret, name="organisme.xml")
    root = parse(output)
    expected = {s.fas_code for a in _published_actions() if a.organisation.siret == siret for s in a.sessions}
    assert set(_sessions_by_numero(root)) == expected


def test_bad_options_are_refused_in_french(cli, tmp_path):
    result = cli("sofi", "export-lheo", "--output", str(tmp_path / "x.xml"), "--since", "hier")
    assert result.exit_code == 1 and "invalide" in result.stderr
    result = cli("sofi", "export-lheo", "--output", str(tmp_path / "x.xml"), "--organisation", "12345678901234")
    assert result.exit_code == 1 and "SIRET" in result.stderr
    result = cli("sofi", "export-lheo", "--output", str(tmp_path / "absent" / "x.xml"))
    assert result.exit_code == 1 and "n'existe pas" in result.stderr
    assert not (tmp_path / "x.xml").exists()


def test_export_replaces_the_file_atomically(demo, cli, tmp_path, session, monkeypatch):
    output, _ = _export(cli, tmp_path)
    before = output.read_bytes()

    from exporters.lheo import writer

    def broken(self, *args, **kwargs):
        raise RuntimeError("panne au milieu de l'export")

    monkeypatch.setattr(writer.FormationBuilder, "formation", broken)
    result = cli("sofi", "export-lheo", "--output", str(output))
    assert result.exit_code != 0
    assert output.read_bytes() == before  # readers never see a half-written file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["offre.xml"]  # no temporary file left


def test_a_write_refused_by_the_system_keeps_the_previous_file_and_says_so(demo, cli, tmp_path, session):
    """A write the system refuses (a full disk; here the process's file-size limit, which makes the
    system refuse it as a full disk would) stops the export, which says so in French, removes its
    temporary file and keeps the previous one."""
    output, _ = _export(cli, tmp_path)
    before = output.read_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, hard))  # Python ignores SIGXFSZ: the write fails
    try:
        result = cli("sofi", "export-lheo", "--output", str(output))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert result.exit_code != 0
    assert f"Écriture de « {output} » impossible" in result.output, result.output
    assert output.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["offre.xml"]


def test_markup_characters_are_escaped_and_characters_xml_forbids_are_dropped(demo, cli, tmp_path, session):
    published = session.scalars(sa.select(PublishedAction).order_by(PublishedAction.action_id)).first()
    data = dict(published.data)
    sessions = [dict(item) for item in data["sessions"]]
    sessions[0]["commentaire_duree"] = "Matin & soir <\"pause\"> 'midi'\r\nsuite\tfin\x0b\x01"
    data["sessions"] = sessions
    published.data = data
    session.commit()
    output, _ = _export(cli, tmp_path)
    root = parse(output)
    assert_valid(root)
    written = next(s for s in root.iter(f"{{{NS}}}session") if s.get("numero") == sessions[0]["fas_code"])
    extras = written.find(f"{{{NS}}}extras[@info='sofi-session']")
    commentaire = extras.find(f"{{{NS}}}extra[@info='commentaire-duree']").text
    assert commentaire == "Matin & soir <\"pause\"> 'midi'\r\nsuite\tfin"


def test_texts_limits_and_validation_errors_with_their_record(demo, cli, tmp_path, session):
    published = session.scalars(sa.select(PublishedAction).order_by(PublishedAction.action_id)).first()
    data = dict(published.data)
    formation = dict(data["formation"])
    formation["objectifs"] = "<p>Objectif <strong>principal</strong> &amp; suite</p>"
    formation["programme"] = "<p>" + "programme très détaillé " * 300 + "</p>"  # > 3000 characters
    formation["resultats"] = None
    data["formation"] = formation
    data["action"] = {**data["action"], "resultats_attendus": None}
    published.data = data
    session.commit()
    output, _ = _export(cli, tmp_path)
    raw = output.read_text(encoding="utf-8")
    assert "&lt;p&gt;Objectif &lt;strong&gt;principal&lt;/strong&gt; &amp;amp; suite&lt;/p&gt;" in raw
    root = parse(output)
    assert_valid(root)
    element = next(f for f in root.iter(f"{{{NS}}}formation") if f.get("numero").startswith(f"{formation['id']}-"))
    contenu = child_text(element, "contenu-formation")
    assert len(contenu) <= 3000 and "<p>" not in contenu and contenu.endswith("…")
    assert child_text(element, "resultats-attendus") == "-"

    # --validate names the record of each schema error
    data = dict(published.data)
    data["formation"] = {**data["formation"], "niveau_sortie": "99"}  # not in dict-niveaux
    published.data = data
    session.commit()
    result = cli("sofi", "export-lheo", "--output", str(tmp_path / "offre.xml"), "--validate")
    assert result.exit_code == 1
    error_line = next(line for line in result.stderr.splitlines() if "code-niveau-sortie" in line)
    assert f"(formation {data['formation']['id']}-" in error_line
    assert "1 erreur" in result.stderr

    data["formation"] = {**data["formation"], "niveau_sortie": "15"}
    data["sessions"] = [{**data["sessions"][0], "etat_recrutement": "7"}, *data["sessions"][1:]]
    published.data = data
    session.commit()
    result = cli("sofi", "export-lheo", "--output", str(tmp_path / "offre.xml"), "--validate")
    assert result.exit_code == 1
    error_line = next(line for line in result.stderr.splitlines() if "etat-recrutement" in line)
    assert f"(session {data['sessions'][0]['fas_code']})" in error_line


def test_api_serves_a_formation_and_the_offer(demo, client, session, cli, tmp_path):
    action = _published_actions()[0]
    response = client.get(f"/api/v1/formations/{action.formation_id}.lheo")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = parse(response.data)
    assert_valid(root)
    assert {s.fas_code for s in action.sessions} <= set(_sessions_by_numero(root))
    assert {f.get("numero").split("-")[0] for f in root.iter(f"{{{NS}}}formation")} == {str(action.formation_id)}

    draft = session.scalars(
        sa.select(Formation).where(~Formation.id.in_(sa.select(PublishedAction.formation_id)))
    ).first()
    assert client.get(f"/api/v1/formations/{draft.id}.lheo").status_code == 404
    assert client.get("/api/v1/formations/999999999.lheo").status_code == 404

    response = client.get("/api/v1/lheo")
    assert response.status_code == 200
    streamed = parse(response.data)  # read the stream before the CLI below ends the shared transaction
    assert_valid(streamed)
    output, _ = _export(cli, tmp_path)
    assert set(_sessions_by_numero(streamed)) == set(_sessions_by_numero(parse(output)))
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert counts(parse(client.get("/api/v1/lheo", query_string={"since": future}).data))["formation"] == 0
    assert client.get("/api/v1/lheo?since=pas-une-date").status_code == 400
    assert client.post("/api/v1/lheo").status_code in (405, 400)


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        ("20250915", False, "2025-09-15"),
        ("20170900", False, "2017-09-01"),
        ("20180200", True, "2018-02-28"),
        ("20240000", True, "2024-12-31"),
        ("00000000", False, None),
        ("99999999", True, None),
        ("20251315", False, None),
        ("2025-09-15", False, None),
    ],
)
def test_lheo_dates(value, end, expected):
    parsed = mapping.parse_lheo_date(value, end=end)
    assert (parsed.isoformat() if parsed else None) == expected
