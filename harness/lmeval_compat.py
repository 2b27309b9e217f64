"""lm-evaluation-harness's spellings, read as ours where they mean the same thing.

- `--model hf|vllm --model_args pretrained=PATH,...`: lm-eval names a model *type* and puts the checkpoint in
  `pretrained`; ours puts the checkpoint in `--model` (`PATH`, `vllm:PATH`).
- `--model local-chat-completions|openai-chat-completions|local-completions|openai-completions
  --model_args model=NAME,base_url=URL,num_concurrent=N`: our `openai:NAME` with `mode` chat or completions;
  lm-eval's endpoint URL (`.../v1/chat/completions`) becomes the API base (`.../v1`).
- `--limit 0.1`: a fraction of each task's samples (`harness.core.limit`).
- `--gen_kwargs`: only the greedy settings we use anyway are accepted (see `check_gen_kwargs`).
- `--output_path`: a directory (`check_output_path`); lm-eval's results-file form (`x.json`) is refused.

Spellings accepted with a different meaning (said in `harness eval --help`): `--apply_chat_template` takes no
template name, and chat is used without it too (`--chat-template auto`, lm-eval's default is off); `--seed` is one
integer (the sample generator's), not lm-eval's four comma-separated seeds; `--batch_size auto:N` is `auto`;
`--num_fewshot` applies to MMLU only (other tasks keep their benchmark's prompt, with a note); `--limit` counts per
task and length, and a fraction is of a generated task's default count (RULER: 500); `--log_samples` is a no-op
(samples are always logged, prompts by reference).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from harness.core.errors import HarnessError

LOCAL_TYPES = {"hf": "", "hf-auto": "", "huggingface": "", "vllm": "vllm:"}
API_TYPES = {"local-chat-completions": "chat", "openai-chat-completions": "chat",
             "local-completions": "completions", "openai-completions": "completions"}
API_RENAMES = {"num_concurrent": "concurrency"}
API_IGNORED = ("tokenized_requests", "tokenizer_backend")  # we always send text and count with --tokenizer
GREEDY = {"do_sample": False, "temperature": 0}


def resolve_model(model: str, model_args: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Our `--model` spec and model args for lm-eval's `--model TYPE --model_args pretrained=...` (or model=...);
    anything else is returned unchanged. `pretrained=` with one of our specs is refused (two checkpoints)."""
    args = dict(model_args)
    local_dir = "pretrained" not in args and Path(model).exists()  # a checkpoint directory that happens to be named `hf`
    if model in LOCAL_TYPES and not local_dir:
        if "pretrained" not in args:
            raise HarnessError(f"--model {model} is lm-eval's model type: name the checkpoint with --model_args pretrained=PATH "
                               "(or give it as --model PATH)")
        return LOCAL_TYPES[model] + str(args.pop("pretrained")), args
    if model in API_TYPES:
        name = args.pop("model", None) or args.pop("pretrained", None)
        if not name:
            raise HarnessError(f"--model {model} is lm-eval's model type: name the served model with --model_args model=NAME")
        for old, new in API_RENAMES.items():
            if old in args:
                if new in args and args[new] != args[old]:
                    raise HarnessError(f"--model_args {old}={args[old]!r} and {new}={args[new]!r} disagree")
                args[new] = args.pop(old)
        for key in API_IGNORED:
            args.pop(key, None)
        mode = API_TYPES[model]
        if "mode" in args and args["mode"] != mode:
            raise HarnessError(f"--model {model} sends {mode} requests, but --model_args mode={args['mode']!r}")
        if mode != "chat":  # chat is our default: left out, so the run matches `--model openai:NAME`
            args["mode"] = mode
        if isinstance(args.get("base_url"), str):
            args["base_url"] = api_base(args["base_url"])
        return f"openai:{name}", args
    if "pretrained" in args:
        raise HarnessError(f"--model_args pretrained={args['pretrained']!r}: --model {model!r} already names the model; "
                           "pretrained= goes with lm-eval's --model hf or vllm")
    return model, args


def api_base(url: str) -> str:
    """lm-eval's endpoint URL (`http://host/v1/chat/completions`) as the API base the openai client takes."""
    for suffix in ("/chat/completions", "/completions"):
        if url.rstrip("/").endswith(suffix):
            return url.rstrip("/")[: -len(suffix)]
    return url


def check_output_path(output: Path) -> None:
    """`--output` (`--output_path`) is a directory. lm-eval also takes a results file there (`out/res.json`, written
    as `out/res_<date>.json`); ours would be a directory named `res.json`, so that form is refused unless such a
    directory exists already (a rerun)."""
    if output.suffix.lower() == ".json" and not output.is_dir():
        raise HarnessError(f"--output {output}: lc-harness writes a directory (results.json, results_lm_eval.json, "
                           f"samples/), not lm-eval's results file; give a directory, e.g. --output {output.with_suffix('')}")


def check_gen_kwargs(gen_kwargs: Mapping[str, Any]) -> None:
    """Accept lm-eval's `--gen_kwargs` only where they say what we do: greedy decoding (`do_sample=false`,
    `temperature=0`). Each benchmark's generation budget and stop strings are its own, and part of its token
    budget (prompt + max new tokens <= length), so `max_gen_toks`, `until` and sampling are refused."""
    for key, value in gen_kwargs.items():
        if key in GREEDY and value == GREEDY[key]:
            continue
        raise HarnessError(
            f"--gen_kwargs {key}={value!r} is not supported: lc-harness decodes greedily with each benchmark's own "
            "max new tokens and stop strings (accepted: do_sample=false, temperature=0)"
        )
