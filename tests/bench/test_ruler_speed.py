"""bench/ruler_speed.py without a RULER checkout: how it calls RULER's scripts, and one of our cells."""

from __future__ import annotations

from pathlib import Path

from bench.ruler_speed import TASKS, ours, ours_cold_and_warm, ruler_command
from harness.tasks import GROUPS

SYNTHETIC_YAML = """
cwe:
  task: common_words_extraction
  args:
    freq_cw: 30
    num_cw: 10
vt:
  task: variable_tracking
  args:
    num_hops: 4
"""
CONSTANTS = """
TASKS = {
    'common_words_extraction': {'tokens_to_generate': 120, 'template': 'T {context}', 'answer_prefix': ' A:'},
    'variable_tracking': {'tokens_to_generate': 30, 'template': 'V {context}', 'answer_prefix': ' B'},
}
"""


def _checkout(root: Path) -> Path:
    (root / "scripts" / "data" / "synthetic").mkdir(parents=True)
    (root / "scripts" / "synthetic.yaml").write_text(SYNTHETIC_YAML)
    (root / "scripts" / "data" / "synthetic" / "constants.py").write_text(CONSTANTS)
    return root


def test_the_bench_covers_rulers_13_tasks() -> None:
    assert set(TASKS) == set(GROUPS["ruler"].tasks)


def test_ruler_is_called_as_its_prepare_py_calls_it(tmp_path: Path) -> None:
    ruler = _checkout(tmp_path / "ruler")
    argv = ruler_command(ruler, "py", Path("run.py"), "cwe", "/tok", 4096, 3, tmp_path / "out")
    assert argv[:3] == ["py", "run.py", str(ruler / "scripts" / "data" / "synthetic" / "common_words_extraction.py")]
    flags = dict(zip(argv[3::2], argv[4::2]))
    assert flags["--template"] == "T {context} A:" and flags["--tokens_to_generate"] == "120"
    assert (flags["--max_seq_length"], flags["--num_samples"], flags["--tokenizer_type"]) == ("4096", "3", "hf")
    assert (flags["--freq_cw"], flags["--num_cw"], flags["--random_seed"]) == ("30", "10", "42")
    assert "--add_fewshot" in ruler_command(ruler, "py", Path("run.py"), "vt", "/tok", 4096, 3, tmp_path / "o")


def test_one_of_our_cells_runs_in_a_fresh_process_with_the_cache_dir_given(tmp_path: Path) -> None:
    from harness.core.models import BUILTINS
    from tests.tasks.ruler.qa_fixtures import write_squad

    folder = BUILTINS["smollm2-135m"].ensure()
    write_squad(tmp_path / "squad.json", articles=3, paragraphs=4)
    cache = tmp_path / "cache"
    assert 0 < ours(str(folder), tmp_path, "qa_1", 1024, 1, cache) < 60
    assert [p.name.split("-")[0] for p in (cache / "ruler_qa").iterdir()] == ["squad"]  # parsed once, kept there
    cold, warm = ours_cold_and_warm(str(folder), tmp_path, "qa_1", 1024, 1, repeat=1)
    assert 0 < cold < 60 and 0 < warm < 60
