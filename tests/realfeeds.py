"""The real feeds beside the project (../shared/data/realfeeds), or a clean skip.

They are never copied into the repository; a bare clone has none and these tests skip.
"""

from pathlib import Path

import pytest

REALFEEDS_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "realfeeds"


def realfeeds_dir() -> Path:
    if not REALFEEDS_DIR.is_dir():
        pytest.skip(f"{REALFEEDS_DIR} is absent")
    return REALFEEDS_DIR


def realfeed(name: str) -> Path:
    path = realfeeds_dir() / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path
