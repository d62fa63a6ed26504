"""The secret key of an instance without ``SOFI_SECRET_KEY`` (development, tests): made once, kept
in the instance folder for the next starts, readable by its owner only, and the same for every
process starting on that folder (two test workers or server workers starting together)."""

import stat
from pathlib import Path

from sofi.config import build_config


def test_a_new_instance_gets_a_key_kept_for_the_next_starts(monkeypatch, tmp_path):
    monkeypatch.delenv("SOFI_SECRET_KEY", raising=False)
    first = build_config(tmp_path)["SECRET_KEY"]

    assert len(first) == 64 and build_config(tmp_path)["SECRET_KEY"] == first
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left


def test_a_process_finding_no_key_keeps_the_one_another_process_gave_meanwhile(monkeypatch, tmp_path):
    monkeypatch.delenv("SOFI_SECRET_KEY", raising=False)
    other = "a1" * 32  # written by another process just after this one looked for a key
    (tmp_path / "secret_key").write_text(other)
    monkeypatch.setattr(Path, "exists", lambda path: False)  # what this one saw when it looked

    assert build_config(tmp_path)["SECRET_KEY"] == other
    assert (tmp_path / "secret_key").read_text() == other  # not replaced: the other's sessions stay valid
    assert [path.name for path in tmp_path.iterdir()] == ["secret_key"]
