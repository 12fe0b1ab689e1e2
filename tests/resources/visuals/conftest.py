from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from resources.visuals.base import SceneCard
from resources.visuals.stock import VendorVisuals
from tests.fakes.fixtures import _loopback_only, allow_loopback, fake_server
from tests.resources.visuals.test_local_visuals import make_card

__all__ = ["_loopback_only", "allow_loopback", "fake_server"]


def scene_card(**changes: Any) -> SceneCard:
    """A portrait card whose keywords make a four-word search."""
    keywords = ["agricultural", "drone", "spraying", "field"]
    return make_card(**{"keywords": keywords, **changes})


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The back-off waits the vendor clients asked for, instead of sleeping them."""
    asked: list[float] = []
    monkeypatch.setattr(VendorVisuals, "retry_sleep", asked.append)
    return asked


@pytest.fixture
def cache_dir(tmp_path: Path) -> str:
    return str(tmp_path / "vendor-cache")
