"""`harness tasks NAME` counts a real-document task's data without the network: the hub is offline while it
looks (local files and the datasets cache still count), and the environment is as it was afterwards."""

from __future__ import annotations

import dataclasses
import os

import pytest

import harness.tasks
from harness.task_listing import describe, hub_offline


def test_describe_counts_samples_with_the_hub_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")
    seen: list[tuple[str | None, str | None]] = []

    def size() -> int:
        seen.append((os.environ.get("HF_HUB_OFFLINE"), os.environ.get("HF_DATASETS_OFFLINE")))
        return 7

    real = harness.tasks.get_task
    monkeypatch.setattr(harness.tasks, "get_task", lambda name, options=None: dataclasses.replace(real(name, options), size=size))
    text = describe("gsm8k")
    assert seen == [("1", "1")] and "samples per length: 7 (all of its data)" in text
    assert "HF_HUB_OFFLINE" not in os.environ and os.environ["HF_DATASETS_OFFLINE"] == "0"


def test_hub_offline_switches_an_imported_hub_library_and_back() -> None:
    constants = pytest.importorskip("huggingface_hub.constants")
    before = constants.HF_HUB_OFFLINE
    with hub_offline():
        assert constants.HF_HUB_OFFLINE is True
    assert constants.HF_HUB_OFFLINE == before


def test_a_group_of_categories_says_how_it_is_scored() -> None:
    from harness.task_listing import describe

    head = describe("helmet").splitlines()[0]
    assert "scored as the mean of its categories (helmet_recall, helmet_rag" in head
    assert "mean over its tasks" in describe("helmet_rag").splitlines()[0]
