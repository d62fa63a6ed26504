"""Another interpreter running one of our modules (``python -m``), and its side of the channel.

Not ``multiprocessing``: "fork" would copy the calling process's threads and connections,
"spawn" runs its main script again. Used by the LHÉO import's reader (``read_ahead``) and the
export's second process (``parts``).
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import IO

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # where the other interpreter imports the module from


def start(module: str, *args: str, **popen) -> subprocess.Popen:
    """``python -m module args…`` with the project importable (``popen``: ``Popen``'s pipes and files)."""
    path = os.pathsep.join(filter(None, (str(PROJECT_ROOT), os.environ.get("PYTHONPATH"))))
    return subprocess.Popen([sys.executable, "-m", module, *args], env={**os.environ, "PYTHONPATH": path}, **popen)


def messages_out() -> IO[bytes]:
    """In the started module: its channel to the caller, a copy of stdout; anything printed goes to stderr instead."""
    messages = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return messages
