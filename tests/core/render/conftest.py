"""The media every render test of this folder reads: made once per test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.render.helpers import write_test_media


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_test_media(tmp_path_factory.mktemp("media"))
