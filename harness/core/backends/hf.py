"""`hf`: a transformers `AutoModelForCausalLM`, greedy batched generation with left padding.

Batches are sorted longest first so an out-of-memory error shows at once; `batch_size="auto"`
halves the batch on OOM and retries.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from harness.core.backends.base import (
    Backend,
    Generation,
    GenerationRequest,
    Loglikelihood,
    LoglikelihoodRequest,
    truncate_at_stop,
)
from harness.core.errors import HarnessError
from harness.core.model_args import check_known

KNOWN_ARGS = ("dtype", "device", "attn_implementation", "trust_remote_code", "revision", "max_length")
AUTO_BATCH_START = 32


def _is_oom(error: BaseException) -> bool:
    return "out of memory" in str(error).lower() or type(error).__name__ == "OutOfMemoryError"


def _looks_like_path(name: str) -> bool:
    """True for names that can only be local paths (a hub id is `name` or `org/name`)."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1


def load_tokenizer(name: str, trust_remote_code: bool = False, revision: str | None = None) -> Any:
    """Load a Hugging Face tokenizer from a local path or hub id, with a clear error."""
    if _looks_like_path(name) and not os.path.exists(os.path.expanduser(name)):
        raise HarnessError(f"tokenizer path {name!r} does not exist")
    try:
        if not trust_remote_code and revision is None and _plain_fast_tokenizer(os.path.expanduser(name)):
            from transformers import TokenizersBackend

            return TokenizersBackend.from_pretrained(os.path.expanduser(name))
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(
            os.path.expanduser(name), trust_remote_code=trust_remote_code, revision=revision
        )
    except (OSError, ValueError) as error:
        raise HarnessError(f"could not load tokenizer {name!r}: {str(error).splitlines()[0]}{_builtin_hint(name)}") from error


# Model types whose folders naming the generic fast tokenizer AutoTokenizer loads as exactly that
# (checked against AutoTokenizer in tests/harness/core/backends/test_tokenizer_load.py).
PLAIN_TOKENIZER_MODEL_TYPES = ("llama",)


def _plain_fast_tokenizer(path: str) -> bool:
    """True for a local folder that AutoTokenizer would load as the generic `TokenizersBackend`: a
    `tokenizer.json`, a `tokenizer_config.json` naming the generic class, no remote code, a model type
    AutoTokenizer does not special-case. Loading that class directly skips transformers' auto
    machinery, which imports torch (~3 s) in transformers 5."""
    import json

    folder = Path(path)
    if not (folder / "tokenizer.json").is_file():
        return False
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        model = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(config, dict) and isinstance(model, dict) and "auto_map" not in config
            and config.get("tokenizer_class") in ("TokenizersBackend", "PreTrainedTokenizerFast")
            and model.get("model_type") in PLAIN_TOKENIZER_MODEL_TYPES and "auto_map" not in model)


def _builtin_hint(name: str) -> str:
    """`"; did you mean the built-in model X?"` when a name that failed to load is a near miss of one."""
    from harness.core.models import BUILTINS
    from harness.core.registry import did_you_mean

    hint = did_you_mean(name, BUILTINS) if not os.path.exists(os.path.expanduser(name)) else ""
    return f" ({hint.replace('did you mean', 'did you mean the built-in model')})" if hint else ""


DTYPES = ("auto", "bfloat16", "float16", "float32", "float64", "half", "float")  # torch names transformers takes
DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu")


def check_model_args(args: dict[str, Any]) -> None:
    """Refuse a dtype, device or max_length this machine cannot honour before anything loads,
    naming the value and what is allowed."""
    dtype = args.get("dtype")
    if dtype is not None and not isinstance(dtype, str):  # a torch.dtype from the Python API
        dtype = str(dtype).removeprefix("torch.")
    if dtype is not None and dtype not in DTYPES:
        raise HarnessError(f"--model-args dtype={args['dtype']}: not a dtype the hf backend loads; use one of {', '.join(DTYPES)}")
    if args.get("device") is not None:
        check_device(str(args["device"]))
    length = args.get("max_length")
    if length is not None and (not isinstance(length, int) or isinstance(length, bool) or length < 1):
        raise HarnessError(f"--model-args max_length={length!r}: expected a positive integer (tokens)")
    trust = args.get("trust_remote_code")
    if trust is not None and not isinstance(trust, bool):
        raise HarnessError(f"--model-args trust_remote_code={trust!r}: expected true or false")


def check_device(value: str) -> None:
    """`value` names a device of a type the backend runs on, and this machine has it."""
    import torch

    try:
        device = torch.device(value)
    except (RuntimeError, ValueError):
        device = None
    if device is None or device.type not in DEVICE_TYPES:
        raise HarnessError(f"--model-args device={value}: not a device; use cpu, cuda, cuda:N, mps or xpu")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise HarnessError(f"--model-args device={value}: this machine has no CUDA device that torch "
                               f"{torch.__version__} can use; use device=cpu")
        if device.index is not None and device.index >= count:
            raise HarnessError(f"--model-args device={value}: this machine has {count} CUDA device(s), "
                               f"cuda:0 to cuda:{count - 1}")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise HarnessError(f"--model-args device={value}: MPS is not available on this machine; use device=cpu")
    elif device.type == "xpu" and not (hasattr(torch, "xpu") and torch.xpu.is_available()):
        raise HarnessError(f"--model-args device={value}: no XPU device on this machine; use device=cpu")


PREFIX_MIN = 64  # tokens a prompt must share with the previous one before its key/value cache is reused

class HFBackend(Backend):
    """A local or hub checkpoint run with transformers."""

    name = "hf"

    def __init__(self, model: str, batch_size: int | str = 1, **model_args: Any) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        check_known(self.name, model_args, KNOWN_ARGS)
        check_model_args(model_args)
        self.model_name = model
        self.model_args = dict(model_args)
        if _looks_like_path(model) and not os.path.exists(os.path.expanduser(model)):
            raise HarnessError(f"model path {model!r} does not exist")
        trust = bool(model_args.get("trust_remote_code", False))
        revision = model_args.get("revision")
        self._tokenizer = load_tokenizer(model, trust_remote_code=trust, revision=revision)
        self._tokenizer.padding_side = "left"
        if self._tokenizer.pad_token is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        device = model_args.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = model_args.get("dtype", "auto")
        load_kwargs: dict[str, Any] = {"dtype": dtype, "trust_remote_code": trust, "revision": revision}
        if model_args.get("attn_implementation"):
            load_kwargs["attn_implementation"] = model_args["attn_implementation"]
        try:
            self.model = AutoModelForCausalLM.from_pretrained(os.path.expanduser(model), **load_kwargs)
        except (OSError, ValueError, ImportError) as error:
            raise HarnessError(f"could not load model {model!r}: {str(error).splitlines()[0]}") from error
        self.model.to(device)  # type: ignore[arg-type]  # transformers types `to` through a decorator that loses `self`
        self.model.eval()
        self.device = device
        # loglikelihood: the key/value cache of the last shared prompt prefix (few-shot examples)
        self._prefix_tokens: tuple[int, ...] = ()
        self._prefix_cache: Any = None
        self._last_context: tuple[int, ...] = ()
        if batch_size != "auto" and (not isinstance(batch_size, int) or batch_size < 1):
            raise HarnessError(f"bad --batch-size {batch_size!r}: expected a positive integer or 'auto'")
        self.batch_size: int | str = batch_size
        self._max_length = int(model_args.get("max_length") or self._config_max_length())

    def _config_max_length(self) -> int:
        config = self.model.config
        for key in ("max_position_embeddings", "n_positions", "seq_length"):
            value = getattr(config, key, None)
            if isinstance(value, int) and value > 0:
                return value
        return 2048

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    @property
    def batch_hint(self) -> int:
        return AUTO_BATCH_START if self.batch_size == "auto" else int(self.batch_size)

    @property
    def max_length(self) -> int:
        return self._max_length

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model_name,
            "model_args": self.model_args,
            "dtype": str(self.model.dtype),
            "device": self.device,
            "batch_size": self.batch_size,
        }

    # -- generation ---------------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        encoded = [
            self._tokenizer(r.text, add_special_tokens=r.add_special_tokens)["input_ids"] for r in requests
        ]
        # greedy requests longest first in batches; sampled ones after, each alone under its own seed
        order = sorted(range(len(requests)), key=lambda i: (requests[i].temperature > 0, -len(encoded[i])))
        results: list[Generation | None] = [None] * len(requests)
        size = AUTO_BATCH_START if self.batch_size == "auto" else int(self.batch_size)
        start = 0
        while start < len(order):
            if requests[order[start]].temperature > 0:
                chunk = [order[start]]
            else:
                chunk = [i for i in order[start : start + size] if requests[i].temperature == 0]
            try:
                outputs = self._generate_batch([encoded[i] for i in chunk], [requests[i] for i in chunk])
            except RuntimeError as error:
                if self.batch_size == "auto" and _is_oom(error) and size > 1:
                    size //= 2
                    self._empty_cache()
                    continue
                raise
            for i, out in zip(chunk, outputs):
                results[i] = out
            start += len(chunk)
        return [r for r in results if r is not None]

    def _empty_cache(self) -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _generate_batch(self, ids: list[list[int]], requests: list[GenerationRequest]) -> list[Generation]:
        import torch

        batch = self._tokenizer.pad({"input_ids": ids}, padding=True, return_tensors="pt")
        batch = {k: v.to(self.device) for k, v in batch.items()}
        max_new = max(r.max_tokens for r in requests)
        stops = sorted({s for r in requests for s in r.stop if s})
        kwargs: dict[str, Any] = {}
        if stops:
            kwargs.update(stop_strings=stops, tokenizer=self._tokenizer)
        sampled = len(requests) == 1 and requests[0].temperature > 0
        if sampled:
            torch.manual_seed(requests[0].seed)
        with torch.inference_mode():
            out = self.model.generate(
                **batch,
                max_new_tokens=max_new,
                do_sample=sampled,
                temperature=requests[0].temperature if sampled else None,
                top_p=1.0 if sampled else None,
                top_k=0 if sampled else None,
                pad_token_id=self._tokenizer.pad_token_id,
                **kwargs,
            )
        new_tokens = out[:, batch["input_ids"].shape[1] :]
        ends = self._end_ids()
        generations = []
        for row, request in zip(new_tokens, requests):
            row = row[: request.max_tokens]
            tokens = [t for t in row.tolist() if t != self._tokenizer.pad_token_id]
            text = self._tokenizer.decode(tokens, skip_special_tokens=True)
            answer = truncate_at_stop(text, request.stop)
            # at the limit: all its tokens generated, the last no end of text, no stop string met
            hit_limit = len(tokens) >= request.max_tokens and tokens[-1] not in ends and answer == text
            generations.append(Generation(text=answer, output_tokens=len(tokens), hit_limit=hit_limit))
        return generations

    def _end_ids(self) -> set[int]:
        """The token ids that end a generation (the model's eos ids, the tokenizer's eos and pad)."""
        ids = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        ends = set(ids if isinstance(ids, (list, tuple)) else [ids] if ids is not None else [])
        ends |= {t for t in (self._tokenizer.eos_token_id, self._tokenizer.pad_token_id) if t is not None}
        return ends

    # -- loglikelihood ------------------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        """Summed logprobs of each continuation. Single-token continuations of the same context
        (multiple-choice letters) share one forward pass of the context, as lm-eval's HF model does."""
        import torch

        pairs = [self._split_tokens(r) for r in requests]
        results: list[Loglikelihood | None] = [None] * len(requests)
        single: dict[tuple[int, ...], list[int]] = {}
        for i, (ctx, cont) in enumerate(pairs):
            if len(cont) == 1:
                single.setdefault(tuple(ctx), []).append(i)
        contexts = []
        for context in sorted(single):  # same-prefix contexts (few-shot prompts of a task) side by side
            last = self._last_with_prefix(context)
            if last is None:
                contexts.append(context)
                continue
            for i in single[context]:
                token = pairs[i][1][0]
                results[i] = Loglikelihood(float(last[token].item()), bool(last.argmax().item() == token))
        contexts.sort(key=len, reverse=True)
        for start in range(0, len(contexts), self._ll_batch):
            group = contexts[start : start + self._ll_batch]
            last = self._forward([list(c) for c in group], last_only=True)
            for row, context in enumerate(group):
                for i in single[context]:
                    token = pairs[i][1][0]
                    results[i] = Loglikelihood(float(last[row, -1, token].item()), bool(last[row, -1].argmax().item() == token))
        rest = [i for i in range(len(requests)) if results[i] is None]
        rest.sort(key=lambda i: -(len(pairs[i][0]) + len(pairs[i][1])))
        for start in range(0, len(rest), self._ll_batch):
            batch = rest[start : start + self._ll_batch]
            logprobs = self._forward([pairs[i][0] + pairs[i][1] for i in batch])
            for row, i in enumerate(batch):
                cont = pairs[i][1]
                rows = logprobs[row, -len(cont) - 1 : -1]
                target = rows.new_tensor(cont, dtype=torch.long)
                total = rows.gather(1, target[:, None]).sum().item()
                greedy = bool((rows.argmax(dim=-1) == target).all().item())
                results[i] = Loglikelihood(logprob=float(total), is_greedy=greedy)
        return [r for r in results if r is not None]

    def _last_with_prefix(self, context: tuple[int, ...]) -> Any:
        """Log-probabilities after `context`, reusing the key/value cache of a prefix it shares with
        the previous context (at least PREFIX_MIN tokens: the few-shot examples of multiple-choice
        prompts); None when there is no such prefix (the caller runs it in a plain batch)."""
        import torch

        prefix = self._prefix_tokens
        if not (prefix and len(context) > len(prefix) and context[: len(prefix)] == prefix):
            shared = 0
            for a, b in zip(context, self._last_context):
                if a != b:
                    break
                shared += 1
            self._last_context = context
            if shared < PREFIX_MIN or shared >= len(context):
                return None
            prefix = context[:shared]
            with torch.inference_mode():
                out = self.model(input_ids=torch.tensor([prefix], device=self.device), use_cache=True, logits_to_keep=1)
            self._prefix_tokens, self._prefix_cache = prefix, out.past_key_values
        self._last_context = context
        extra = self._prefix_cache.get_seq_length() - len(prefix)
        if extra > 0:  # drop the previous suffix (transformers 5: a negative crop removes that many tokens)
            self._prefix_cache.crop(-extra)
        suffix = torch.tensor([context[len(prefix):]], device=self.device)
        positions = torch.arange(len(prefix), len(context), device=self.device)[None]
        with torch.inference_mode():
            out = self.model(input_ids=suffix, past_key_values=self._prefix_cache, position_ids=positions, use_cache=True,
                             logits_to_keep=1)
        return torch.log_softmax(out.logits[0, -1].float(), dim=-1)

    @property
    def _ll_batch(self) -> int:
        return 8 if self.batch_size == "auto" else int(self.batch_size)

    def _forward(self, sequences: list[list[int]], last_only: bool = False) -> Any:
        """Log-softmax over the vocabulary at every position of left-padded sequences (`last_only`:
        at the last position only, which skips the output layer everywhere else)."""
        import torch

        width = max(len(seq) for seq in sequences)
        pad = self._tokenizer.pad_token_id if self._tokenizer.pad_token_id is not None else 0
        input_ids = torch.full((len(sequences), width), pad, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, seq in enumerate(sequences):
            input_ids[row, width - len(seq) :] = torch.tensor(seq)
            mask[row, width - len(seq) :] = 1
        positions = (mask.cumsum(dim=-1) - 1).clamp(min=0)  # real tokens from position 0, as without padding
        with torch.inference_mode():
            logits = self.model(input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device),
                                position_ids=positions.to(self.device), **({"logits_to_keep": 1} if last_only else {})).logits
        return torch.log_softmax(logits.float(), dim=-1)

    def _split_tokens(self, request: LoglikelihoodRequest) -> tuple[list[int], list[int]]:
        """Tokenize context + continuation together and split (lm-eval's rule: whitespace moves right)."""
        context, continuation = request.context, request.continuation
        spaces = len(context) - len(context.rstrip())
        if spaces:
            continuation = context[-spaces:] + continuation
            context = context[:-spaces]
        whole = self._tokenizer(context + continuation)["input_ids"]
        ctx = self._tokenizer(context)["input_ids"]
        if not ctx:
            ctx = [self._tokenizer.bos_token_id or self._tokenizer.eos_token_id]
            return ctx, whole
        return whole[: len(ctx)], whole[len(ctx) :]
