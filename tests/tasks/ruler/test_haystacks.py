"""The essay haystack: its sentence split is kept on disk by content and read back unchanged."""

from pathlib import Path

import pytest

from harness.tasks.disk_cache import entry_path
from harness.tasks.ruler import haystacks

TEXT = ("The first essay starts here. It has a second sentence! Does it ask? Yes.\n\n"
        "Mr. Smith went to Washington. He met   Dr. Jones at 3 p.m. and they talked.")


@pytest.fixture
def essays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "essays"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXT)
    (folder / "b.txt").write_text(" Another file. Two sentences here.")
    haystacks.load_essay.cache_clear()
    yield folder
    haystacks.load_essay.cache_clear()


def test_the_split_is_cached_and_read_back(essays: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = haystacks.load_essay(essays)
    assert first.sentence_starts == haystacks._sentence_starts(list(first.words))
    assert first.sentence_starts[:2] == (0, first.words.index("It"))
    assert entry_path(haystacks.STARTS_FOLDER, haystacks._starts_key(first.digest)).is_file()
    haystacks.load_essay.cache_clear()

    def no_split(words):  # type: ignore[no-untyped-def]
        raise AssertionError("split again although cached")

    monkeypatch.setattr(haystacks, "_sentence_starts", no_split)
    assert haystacks.load_essay(essays) == first


@pytest.mark.parametrize("content", ["not json", "[3, 1]", '["a"]', "[0, 99999]", '{"a": 1}'])
def test_a_bad_cache_file_is_split_again(essays: Path, content: str) -> None:
    first = haystacks.load_essay(essays)
    haystacks.load_essay.cache_clear()
    entry_path(haystacks.STARTS_FOLDER, haystacks._starts_key(first.digest)).write_text(content)
    assert haystacks.load_essay(essays) == first
    assert haystacks._cached_starts(first.digest, len(first.words)) == first.sentence_starts


def test_changed_essays_get_their_own_split(essays: Path) -> None:
    first = haystacks.load_essay(essays)
    (essays / "b.txt").write_text(" Changed. Now three. Sentences.")
    haystacks.load_essay.cache_clear()
    second = haystacks.load_essay(essays)
    assert second.digest != first.digest
    assert second.sentence_starts == haystacks._sentence_starts(list(second.words))
