from __future__ import annotations

from pathlib import Path

import pytest

from resources.vendors.cache import AnswerCache


def test_key_depends_on_every_part_but_not_on_dict_order() -> None:
    key = AnswerCache.key("gemini", "flash", "script-v1", {"a": 1, "b": [1, "한"]})
    assert key == AnswerCache.key("gemini", "flash", "script-v1", {"b": [1, "한"], "a": 1})
    assert key.startswith("gemini/")
    others = {
        AnswerCache.key("openai", "flash", "script-v1", {"a": 1, "b": [1, "한"]}),
        AnswerCache.key("gemini", "pro", "script-v1", {"a": 1, "b": [1, "한"]}),
        AnswerCache.key("gemini", "flash", "script-v2", {"a": 1, "b": [1, "한"]}),
        AnswerCache.key("gemini", "flash", "script-v1", {"a": 2, "b": [1, "한"]}),
    }
    assert key not in others
    assert len(others) == 4


def test_json_and_bytes_round_trip_under_the_provider_folder(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path)
    key = AnswerCache.key("elevenlabs", "v2", "1", ["hello"])
    assert cache.get_json(key) is None
    assert cache.get_bytes(key) is None
    cache.put_json(key, {"alignment": [0.1, 0.2], "text": "안녕"})
    cache.put_bytes(key, b"\x00RIFF")
    assert cache.get_json(key) == {"alignment": [0.1, 0.2], "text": "안녕"}
    assert cache.get_bytes(key) == b"\x00RIFF"
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    digest = key.split("/")[1]
    assert files == [
        f"elevenlabs/{digest[:2]}/{digest}.bin",
        f"elevenlabs/{digest[:2]}/{digest}.json",
    ]


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path)
    key = AnswerCache.key("openai", "tts-1", "1", "x")
    with pytest.raises(TypeError):
        cache.put_json(key, {"not json": object()})
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert cache.get_json(key) is None


@pytest.mark.parametrize("key", ["../etc/abc", "gemini/../../x", "Gemini/" + "a" * 64, "gemini/zz"])
def test_keys_that_are_not_cache_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="not a cache key"):
        AnswerCache(tmp_path).get_bytes(key)


def test_provider_names_are_checked() -> None:
    with pytest.raises(ValueError, match="not a provider name"):
        AnswerCache.key("../x", "m", "1", {})
