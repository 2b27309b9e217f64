"""Plugin discovery: one broken entry point (fails to import, or is not a plugin) is named, never
allowed to hide the others; a mistyped plugin name gets "did you mean"."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest

import harness.synth.plugin as synth_plugin
from harness.core.errors import HarnessError
from harness.synth.plugin import ENTRY_POINT_GROUP, discover, get_plugin, plugins
from tests.clirun import run_cli

BROKEN = EntryPoint("broken", "lc_harness_no_such_package.plugin:Plugin", ENTRY_POINT_GROUP)
NOT_A_PLUGIN = EntryPoint("joiner", "os.path:join", ENTRY_POINT_GROUP)


@pytest.fixture
def with_broken(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed plugins plus two bad entry points."""
    real = list(entry_points(group=ENTRY_POINT_GROUP))
    monkeypatch.setattr(synth_plugin, "entry_points", lambda group: [*real, BROKEN, NOT_A_PLUGIN] if group == ENTRY_POINT_GROUP else [])


harness = run_cli


def test_a_broken_plugin_does_not_hide_the_others(with_broken: None) -> None:
    found, broken = discover()
    assert {"context_synthesis", "wildlong", "hierarchical", "needles"} <= set(found) and set(plugins()) == set(found)
    assert set(broken) == {"broken", "joiner"}
    assert "ModuleNotFoundError" in broken["broken"] and "lc_harness_no_such_package" in broken["broken"]
    assert "not a SynthPlugin subclass" in broken["joiner"]
    assert get_plugin("needles").name == "needles"
    with pytest.raises(HarnessError, match=r"synth plugin 'broken' is installed but broken: .*ModuleNotFoundError"):
        get_plugin("broken")


def test_synth_list_names_the_broken_plugin_and_lists_the_rest(with_broken: None, capfd: pytest.CaptureFixture[str]) -> None:
    code, out, err = harness(["synth", "list"], capfd)
    assert code == 0 and "Traceback" not in err
    for name in ("context_synthesis", "wildlong", "hierarchical", "needles"):
        assert name in out
    assert "broken" in out and "BROKEN" in out
    assert "warning: synth plugin 'broken' is broken" in err and "lc_harness_no_such_package" in err


def test_synth_run_of_the_broken_plugin_is_one_clear_line(with_broken: None, tmp_path: Path,
                                                         capfd: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("{}\n")
    code, out, err = harness(["synth", "run", "broken", "--config", str(config), "--out", str(tmp_path / "out")], capfd)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "installed but broken" in lines[0] and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_mistyped_plugin_gets_did_you_mean() -> None:
    with pytest.raises(HarnessError, match=r"unknown synth plugin 'wildlng'; did you mean wildlong(, wildlong_paths)?\? \(known: "):
        get_plugin("wildlng")
