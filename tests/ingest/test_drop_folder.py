from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from autoclip_core.ingest.config import DropFolderSource, Limits, YoutubeEndpoints
from autoclip_core.ingest.drop_folder import poll_drop_folder
from autoclip_core.ingest.poll import PollContext
from autoclip_core.ingest.state import SourceState


def ctx() -> PollContext:
    limits = Limits(max_drop_file_bytes=4096)
    return PollContext("p", "inbox", limits, YoutubeEndpoints(), datetime.now(UTC))


def drop(folder: Path, name: str, payload: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    target = folder / name
    os.replace(tmp, target)  # writers rename into place
    return target


def test_dropped_files_become_items_and_move_aside_after_registration(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    one = {"id": "a1", "title": "Pushed story", "text": "Body.", "url": "https://example.com/a1"}
    drop(inbox, "one.json", one)
    many = [
        {"title": "No id or url", "text": "Keyed by content."},
        {"id": "b2", "title": "Second", "text": "More."},
    ]
    drop(inbox, "many.json", {"items": many})
    (inbox / "notes.txt").write_text("ignored")
    (inbox / ".partial.json.tmp").write_text("{")
    result = poll_drop_folder(DropFolderSource(name="inbox", path=inbox), SourceState(), ctx())
    titles = sorted(c.item.title for c in result.candidates)
    assert titles == ["No id or url", "Pushed story", "Second"]
    assert result.commit is not None
    result.commit({c.item.id for c in result.candidates})
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["many.json", "one.json"]
    assert (inbox / "notes.txt").exists()
    again = poll_drop_folder(DropFolderSource(name="inbox", path=inbox), SourceState(), ctx())
    assert again.candidates == []


def test_unreadable_files_move_to_failed_with_the_reason(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "broken.json").write_text("{not json")
    (inbox / "huge.json").write_text(json.dumps({"title": "x", "text": "y" * 10_000}))
    (inbox / "empty.json").write_text(json.dumps({"items": [{"nothing": 1}]}))
    (inbox / "link.json").symlink_to("/etc/hostname")
    result = poll_drop_folder(DropFolderSource(name="inbox", path=inbox), SourceState(), ctx())
    assert result.candidates == []
    failed = inbox / "failed"
    assert sorted(p.name for p in failed.iterdir() if not p.name.endswith(".txt")) == [
        "broken.json", "empty.json", "huge.json", "link.json",
    ]  # fmt: skip
    assert "JSONDecodeError" in (failed / "broken.json.error.txt").read_text()
    assert "larger than 4096 bytes" in (failed / "huge.json.error.txt").read_text()
    assert "symlinks are not read" in (failed / "link.json.error.txt").read_text()
    assert len(result.notes) == 4


def test_a_file_whose_items_are_not_all_handled_stays(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    two = [{"id": "1", "title": "A", "text": "a"}, {"id": "2", "title": "B", "text": "b"}]
    drop(inbox, "two.json", two)
    result = poll_drop_folder(DropFolderSource(name="inbox", path=inbox), SourceState(), ctx())
    assert result.commit is not None
    result.commit({result.candidates[0].item.id})
    assert (inbox / "two.json").exists()
