"""Every lookup by name goes through one `Registry`: tasks, groups, backends, built-in models, synth plugins and
boards. For each kind a second declaration of a taken name raises, and a near miss gets "did you mean"."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest

import harness.synth.plugin as synth_plugin
from harness.core.backends import BACKENDS, split_spec
from harness.core.errors import HarnessError
from harness.core.models import BUILTINS, BuiltinModel
from harness.core.registry import Ref, Registry, ref
from harness.leaderboards.config import BOARD_DIR, boards, find_board
from harness.synth.plugin import ENTRY_POINT_GROUP, discover, get_plugin
from harness.tasks import GROUPS, TASKS, Group, get_task, resolve


def test_every_kind_is_one_registry() -> None:
    for registry in (TASKS, GROUPS, BACKENDS, BUILTINS, boards(), synth_plugin.registry()[0]):
        assert isinstance(registry, Registry)


def test_tasks() -> None:
    with pytest.raises(HarnessError, match="task 'niah_single_1' is already registered"):
        TASKS.register("niah_single_1", ref("harness.tasks.niah.task:niah_task", "niah", "single"))
    with pytest.raises(HarnessError, match="unknown task 'niah_singel_1'; did you mean niah_single_1"):
        get_task("niah_singel_1")
    with pytest.raises(HarnessError, match="unknown task or group 'niah_singel_1'; did you mean niah_single_1"):
        resolve(["niah_singel_1"])


def test_groups() -> None:
    with pytest.raises(HarnessError, match="group 'ruler' is already registered"):
        GROUPS.register("ruler", Group(["vt"]))
    with pytest.raises(HarnessError, match=r"unknown group 'rulr'; did you mean ruler\?"):
        GROUPS.get("rulr")
    with pytest.raises(HarnessError, match=r"unknown task or group 'rular'; did you mean ruler\?"):
        resolve(["rular"])
    assert isinstance(GROUPS["ruler"].summarize, Ref)  # the summary is imported when a run is scored, not declared


def test_backends() -> None:
    with pytest.raises(HarnessError, match=r"backend 'hf' is already registered \(harness.core.backends.hf:HFBackend\)"):
        BACKENDS.register("hf", "harness.core.backends.vllm:VLLMBackend")
    with pytest.raises(HarnessError, match=r"unknown backend 'vlm'; did you mean vllm:\?"):
        split_spec("vlm:x")
    with pytest.raises(HarnessError, match=r"unknown backend 'opnai'; did you mean openai\?"):
        BACKENDS.get("opnai")


@pytest.mark.parametrize("spec, expected", [
    ("tiny", ("hf", "tiny")),  # built-ins and hub ids are transformers models; only an unknown `prefix:` is refused
    ("smollm2-135m", ("hf", "smollm2-135m")),
    ("org/name", ("hf", "org/name")),
    ("vllm:tiny", ("vllm", "tiny")),
    ("./runs/ckpt:v2", ("hf", "./runs/ckpt:v2")),
])
def test_model_specs_that_are_not_a_backend_prefix(spec: str, expected: tuple[str, str]) -> None:
    assert split_spec(spec) == expected


def test_built_in_models() -> None:
    with pytest.raises(HarnessError, match="built-in model 'tiny' is already registered"):
        BUILTINS.register("tiny", BuiltinModel("tiny", "another", Ref("harness.train.tiny:build_random")))
    with pytest.raises(HarnessError, match=r"unknown built-in model 'tiny-randm'; did you mean tiny-random"):
        BUILTINS.get("tiny-randm")
    assert [m.name for m in BUILTINS.values()] == ["smollm2-135m", "tiny-random", "tiny"]
    assert all(isinstance(m.build, Ref) for m in BUILTINS.values())  # builders import the trainer only to build


def test_synth_plugins_declared_twice_are_broken_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    real = list(entry_points(group=ENTRY_POINT_GROUP))
    impostor = EntryPoint("needles", "harness.synth.wildlong.plugin:WildLong", ENTRY_POINT_GROUP)
    monkeypatch.setattr(synth_plugin, "entry_points", lambda group: [*real, *real, impostor] if group == ENTRY_POINT_GROUP else [])
    found, broken = discover()
    assert {"context_synthesis", "wildlong", "hierarchical"} <= set(found) and "needles" not in found  # the same entry twice is fine
    assert "synth plugin 'needles' is already registered (harness.synth.needles.plugin:Needles)" in broken["needles"]
    with pytest.raises(HarnessError, match="synth plugin 'needles' is installed but broken: synth plugin 'needles' is already registered"):
        get_plugin("needles")
    with pytest.raises(HarnessError, match=r"unknown synth plugin 'needels'; did you mean needles\?"):
        get_plugin("needels")


def test_get_plugin_imports_only_that_plugin() -> None:
    import subprocess
    import sys

    code = ("import sys; from harness.synth.plugin import get_plugin; get_plugin('needles'); "
            "print(sorted(m for m in sys.modules if m.endswith('.plugin') and m.startswith('harness.synth.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "['harness.synth.needles.plugin', 'harness.synth.plugin']"


def test_boards(tmp_path: Path) -> None:
    known = boards()
    assert known.get("tiny-demo") == BOARD_DIR / "tiny-demo.yaml" == find_board("tiny-demo")
    with pytest.raises(HarnessError, match="board 'tiny-demo' is already registered"):
        known.register("tiny-demo", tmp_path / "tiny-demo.yaml")
    with pytest.raises(HarnessError, match=r"unknown board 'tiny-dem'; did you mean tiny-demo\?.*boards are the YAML files in"):
        find_board("tiny-dem")
