"""Reference data: the files shipped under ``sofi/data`` and the official-file importers."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
