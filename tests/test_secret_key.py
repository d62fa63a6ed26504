"""The secret key of an instance without ``SOFI_SECRET_KEY`` (development, tests): made once, kept
in the instance folder for the next starts, readable by its owner only, and the same for every
process starting on that folder (two test workers or server workers starting together)."""

import stat
import subprocess
import sys

from sofi import config
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
    looks = iter(["", other])  # what this one read when it looked, then once its turn came
    monkeypatch.setattr(config, "_read_key", lambda key_file: next(looks))

    assert build_config(tmp_path)["SECRET_KEY"] == other
    assert (tmp_path / "secret_key").read_text() == other  # not replaced: the other's sessions stay valid
    assert [path.name for path in tmp_path.iterdir()] == ["secret_key"]


def test_a_key_file_left_empty_is_replaced_by_a_new_key(monkeypatch, tmp_path):
    """Left by an interrupted start (or by the versions that wrote the key in place): an empty key
    would make every page that uses the session fail."""
    monkeypatch.delenv("SOFI_SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("\n")

    key = build_config(tmp_path)["SECRET_KEY"]

    assert len(key) == 64 and (tmp_path / "secret_key").read_text() == key
    assert build_config(tmp_path)["SECRET_KEY"] == key


def test_processes_starting_together_on_a_new_instance_share_one_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SOFI_SECRET_KEY", raising=False)
    program = "import sys; from pathlib import Path; from sofi.config import build_config; "
    program += "print(build_config(Path(sys.argv[1]))['SECRET_KEY'])"
    starts = [
        subprocess.Popen([sys.executable, "-c", program, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    keys = {process.communicate(timeout=60)[0].strip() for process in starts}

    kept = (tmp_path / "secret_key").read_text()
    assert keys == {kept} and len(kept) == 64
