"""Only a task's own options enter its sample-cache key: `--depth-steps 5` (niah's) leaves niah_single_1's alone."""

import hashlib
import json

from harness.core.prompt import PromptFormat
from harness.core.types import SCHEMA_VERSION
from harness.runner.sample_cache import cache_key
from harness.tasks import get_task
from harness.tasks.data import TaskOptions


def _key(name: str, args: dict, tokenizer) -> str:  # type: ignore[no-untyped-def]
    options = TaskOptions(args=args)
    return cache_key(get_task(name, options), options, PromptFormat.create(tokenizer, "auto"), 1024, 42)


def test_depth_steps_changes_niahs_key_only(tokenizer) -> None:
    depth_steps = {"depth_steps": 5}  # what `harness eval --depth-steps 5` folds into the task args
    assert _key("niah_single_1", depth_steps, tokenizer) == _key("niah_single_1", {}, tokenizer)
    assert _key("niah", depth_steps, tokenizer) != _key("niah", {}, tokenizer)
    assert _key("niah", {"niah.depth_steps": 5}, tokenizer) == _key("niah", depth_steps, tokenizer)
    assert _key("niah_single_1", {"niah.depth_steps": 5}, tokenizer) == _key("niah_single_1", {}, tokenizer)


def test_a_key_holding_only_own_options_is_the_one_it_always_was(tokenizer) -> None:
    """The spec a key hashes is unchanged: runs with no arguments, or only a task's own, keep their cached samples."""
    fmt = PromptFormat.create(tokenizer, "auto")
    for name, args in (("niah_single_1", {}), ("niah", {"depth_steps": 5})):
        task = get_task(name, TaskOptions(args=args))
        spec = {"version": SCHEMA_VERSION, "task": name, "params": task.params, "data_dir": None, "task_args": args,
                "tokenizer": fmt.tokenizer_hash, "chat_template": fmt.template_hash, "length": 1024, "seed": 42}
        old = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:24]
        assert _key(name, args, tokenizer) == old
