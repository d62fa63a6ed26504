"""Configuration, read from the environment (``SOFI_*`` variables)."""

import fcntl
import os
import secrets
import tempfile
from pathlib import Path

import orjson
from flask import current_app


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs given without a driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_key(instance_path: Path) -> str:
    """``SOFI_SECRET_KEY``, or a random key kept in the instance folder (development)."""
    if key := os.environ.get("SOFI_SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    return _read_key(key_file) or _create_key(key_file)


def _read_key(key_file: Path) -> str:
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        return ""


def _create_key(key_file: Path) -> str:
    """The key of a new instance folder, made by the first process that starts on it.

    Processes starting together (the test workers, a server's workers) must all read the same,
    complete key: they take turns (a lock on the folder), and the one that finds no key writes it
    whole under a temporary name, then gives it its name (a process that finds the key reads it
    without the lock: it must never see it half written). A file left empty (by an interrupted
    start, or by the versions that wrote the key in place) is replaced: no session was signed
    with it.
    """
    folder = os.open(key_file.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        if key := _read_key(key_file):
            return key  # another process gave its key meanwhile
        key = secrets.token_hex(32)
        handle, temporary = tempfile.mkstemp(dir=key_file.parent, prefix=".secret_key.")  # mode 0600
        try:
            with os.fdopen(handle, "w") as out:
                out.write(key)
            os.replace(temporary, key_file)
        except BaseException:
            os.unlink(temporary)
            raise
        return key
    finally:
        os.close(folder)  # releases the lock


# Keys that are not strings written as strings, as the json module does.
JSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def json_text(value) -> str:
    """A JSON column's value as text (the json module's, but compact)."""
    return orjson.dumps(value, option=JSON_OPTIONS).decode()


def build_config(instance_path: Path, overrides: dict | None = None) -> dict:
    instance_path.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("SOFI_DATABASE_URL") or f"sqlite:///{instance_path / 'sofi.db'}"
    config = {
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        # JSON columns (published snapshots: tens of kB each; the audit trail's values: one row per row
        # written) encoded and decoded by orjson, several times faster than the json module
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": True,
            "json_serializer": json_text,
            "json_deserializer": orjson.loads,
        },
        "SECRET_KEY": _secret_key(instance_path),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SOFI_ENV") == "production",
        "SOFI_HSTS": os.environ.get("SOFI_ENV") == "production",  # Strict-Transport-Security (sofi/security_headers.py)
        "WTF_CSRF_TIME_LIMIT": None,
        "JSON_AS_ASCII": False,
        "SOFI_PROXY_FIX": os.environ.get("SOFI_PROXY_FIX") == "1",
        # E-mail (sofi/services/mail.py): without SOFI_SMTP_HOST, messages go to the log only.
        "SOFI_BASE_URL": os.environ.get("SOFI_BASE_URL", "http://127.0.0.1:5000"),
        "SOFI_SMTP_HOST": os.environ.get("SOFI_SMTP_HOST", ""),
        "SOFI_SMTP_PORT": int(os.environ.get("SOFI_SMTP_PORT") or 25),
        "SOFI_SMTP_USER": os.environ.get("SOFI_SMTP_USER", ""),
        "SOFI_SMTP_PASSWORD": os.environ.get("SOFI_SMTP_PASSWORD", ""),
        "SOFI_MAIL_FROM": os.environ.get("SOFI_MAIL_FROM", "SOFI <offre@cariforef-pdl.org>"),
        "SOFI_CARIFOREF_EMAIL": os.environ.get("SOFI_CARIFOREF_EMAIL", "offre@cariforef-pdl.org"),
    }
    overrides = overrides or {}
    config.update(overrides)
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") and "SQLALCHEMY_ENGINE_OPTIONS" not in overrides:
        # PostgreSQL's JIT compiles every query whose estimated cost is high (counts over large tables)
        # and spends 200-400 ms doing so: far more than it saves on the short queries of a web page.
        # work_mem: the catalogue's facet counts keep tens of thousands of candidate sessions (a broad
        # keyword: 28,000 at a million sessions, 5 MB), which spilled to a temporary file at the 4 MB default.
        options = config["SQLALCHEMY_ENGINE_OPTIONS"]
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": {"options": "-c jit=off -c work_mem=16MB"}}
    return config


def int_setting(name: str, default: int) -> int:
    """A whole-number setting of the running app, else environment variable ``name`` (``default``
    when unset or not a number)."""
    value = current_app.config.get(name)
    if value is None:
        value = os.environ.get(name)
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default
