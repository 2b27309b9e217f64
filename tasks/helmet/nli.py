"""The entailment model behind HELMET's citation recall and precision (ALCE's AutoAIS).

The reference (`eval_alce.py` `_run_nli_autoais`, HELMET @4526dfb) asks google/t5_xxl_true_nli_mixture,
a T5-XXL trained for NLI (TRUE), `"premise: {passage} hypothesis: {claim}"` and counts the claim supported
when the decoded reply is exactly "1". Two implementations of one small protocol (`NLI.entails`):

- `Seq2SeqNLI`: that model (or any seq2seq checkpoint trained the same way: a hub id or a local path)
  through transformers, greedy, 10 new tokens, as the reference; its verdicts are cached on disk.
- `BackendNLI`: any of our backends (a built-in such as `smollm2-135m`, a checkpoint, `vllm:...`,
  `openai:NAME` with a base url) asked a yes/no entailment question through the one cached LLM client,
  so a rerun costs no call. A chat LM not trained for NLI is a noisy entailment judge.

Citation scores are only comparable between runs that used the same NLI model: its identity is part of
the task's parameters (`nli`), hence of the results and the run's fingerprint.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Sequence

from harness.core.backends.failures import RequestFailure
from harness.core.errors import HarnessError
from harness.core.llm_client import LLMCache, LLMClient, Params, cache_key
from harness.core.paths import cache_dir
from harness.core.types import Message

if TYPE_CHECKING:
    from harness.core.backends.base import Backend

REFERENCE_NLI = "google/t5_xxl_true_nli_mixture"
LLM_PREFIX = "llm:"
SEQ2SEQ_PREFIX = "seq2seq:"
SEQ2SEQ_MAX_NEW_TOKENS = 10  # the reference's `generate(max_new_tokens=10)`
LLM_MAX_TOKENS = 8
LLM_QUESTION = ("Premise: {premise}\n\nHypothesis: {hypothesis}\n\n"
                "Is the hypothesis entailed by (fully supported by) the premise? "
                "Answer with a single digit: 1 if it is entailed, 0 if it is not.")

Pair = tuple[str, str]  # (premise, hypothesis)


class NLI(Protocol):
    """An entailment judge: `name` identifies it (results, cache keys); `entails` answers each
    (premise, hypothesis) pair, True when the premise supports the hypothesis."""

    @property
    def name(self) -> str: ...

    def entails(self, pairs: Sequence[Pair]) -> list[bool]: ...


def seq2seq_input(premise: str, hypothesis: str) -> str:
    """The reference's input text for the TRUE model."""
    return f"premise: {premise} hypothesis: {hypothesis}"


class Seq2SeqNLI:
    """A seq2seq NLI model (TRUE's T5) through transformers; loaded on first use, a clear error when it cannot be."""

    def __init__(self, model: str, device: str | None = None) -> None:
        self.model = model
        self.device = device
        self._loaded: tuple[Any, Any] | None = None

    @property
    def name(self) -> str:
        return self.model

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            try:
                import torch
                from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
            except ImportError as error:
                raise HarnessError(f"NLI model {self.model}: needs torch and transformers ({error})") from error
            try:
                tokenizer = AutoTokenizer.from_pretrained(self.model, use_fast=False)
                device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
                dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
                model = AutoModelForSeq2SeqLM.from_pretrained(self.model, torch_dtype=dtype).to(device).eval()
            except (OSError, ValueError, RuntimeError) as error:
                raise HarnessError(
                    f"NLI model {self.model!r} could not be loaded ({type(error).__name__}: {str(error)[:200]}); "
                    f"download it first or pass a local path: --task-args nli=PATH, or ask one of our backends: "
                    f"--task-args nli=llm:MODEL (e.g. nli=llm:smollm2-135m)") from error
            self._loaded = (tokenizer, model)
        return self._loaded

    def entails(self, pairs: Sequence[Pair]) -> list[bool]:
        if not pairs:
            return []
        import torch

        tokenizer, model = self._load()
        out = []
        for premise, hypothesis in pairs:
            ids = tokenizer(seq2seq_input(premise, hypothesis), return_tensors="pt").input_ids.to(model.device)
            with torch.inference_mode():
                generated = model.generate(ids, max_new_tokens=SEQ2SEQ_MAX_NEW_TOKENS)
            out.append(tokenizer.decode(generated[0], skip_special_tokens=True) == "1")
        return out


class CachedNLI:
    """Any NLI with its verdicts stored in an LLM cache file (keyed by the model's name and the pair), so
    a rerun asks the model nothing; the model is not even loaded when every pair is cached."""

    def __init__(self, inner: NLI, cache_path: Path) -> None:
        self.inner = inner
        self.cache = LLMCache(cache_path)

    @property
    def name(self) -> str:
        return self.inner.name

    def _key(self, pair: Pair) -> str:
        message: Message = {"role": "user", "content": seq2seq_input(*pair)}
        return cache_key(f"nli:{self.name}", [message], Params(SEQ2SEQ_MAX_NEW_TOKENS, 0.0))

    def entails(self, pairs: Sequence[Pair]) -> list[bool]:
        keys = [self._key(p) for p in pairs]
        known = self.cache.get(keys)
        todo = list(dict.fromkeys(k for k in keys if k not in known))
        if todo:
            index = {k: pairs[keys.index(k)] for k in todo}
            verdicts = self.inner.entails([index[k] for k in todo])
            rows = [(k, f"nli:{self.name}", seq2seq_input(*index[k]), "1" if v else "0") for k, v in zip(todo, verdicts)]
            self.cache.put(rows)
            known.update({k: r[3] for k, r in zip(todo, rows)})
        return [known[k] == "1" for k in keys]


def parse_verdict(reply: str) -> bool:
    """A chat model's entailment answer: the first 0/1 (or yes/no) in the reply; anything else is "not entailed"."""
    found = re.search(r"\b(1|0|yes|no|true|false|entailed|not)\b", reply.strip().lower())
    return found is not None and found.group(1) in ("1", "yes", "true", "entailed")


def llm_messages(premise: str, hypothesis: str) -> list[Message]:
    """The entailment question asked of a chat backend."""
    return [{"role": "user", "content": LLM_QUESTION.format(premise=premise, hypothesis=hypothesis)}]


class BackendNLI:
    """One of our backends asked whether a premise entails a hypothesis, through the cached LLM client."""

    def __init__(self, backend: Backend, name: str, cache_path: Path) -> None:
        self.client = LLMClient(backend, f"nli:{name}", cache_path, batch=None)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def entails(self, pairs: Sequence[Pair]) -> list[bool]:
        replies = self.client.ask([llm_messages(p, h) for p, h in pairs], Params(LLM_MAX_TOKENS, 0.0))
        out = []
        for reply in replies:
            if isinstance(reply, RequestFailure):
                raise HarnessError(f"NLI model {self._name}: a call failed ({reply.reason})")
            out.append(parse_verdict(reply))
        return out


def nli_identity(spec: str, base_url: str | None = None) -> str:
    """How results name the NLI model a spec picks: `seq2seq:ID` or `llm:SPEC[@URL]`."""
    if spec.startswith(LLM_PREFIX):
        return spec + (f"@{base_url}" if base_url else "")
    return SEQ2SEQ_PREFIX + spec.removeprefix(SEQ2SEQ_PREFIX)


@lru_cache(maxsize=4)
def load_nli(spec: str, base_url: str | None = None, cache_path: Path | None = None) -> NLI:
    """The NLI model a `nli` task option names (loaded lazily, once per process): `llm:MODEL` is one of our
    backends (`MODEL` as `--model`/`--judge` take it; `base_url` for `openai:`), anything else (optionally
    `seq2seq:`) a seq2seq NLI checkpoint (hub id or local path), the reference's by default."""
    path = cache_path or cache_dir() / "nli.db"
    if spec.startswith(LLM_PREFIX):
        model = spec.removeprefix(LLM_PREFIX)
        if not model:
            raise HarnessError("--task-args nli=llm:MODEL: the model is missing (e.g. nli=llm:smollm2-135m)")
        from harness.core.specs import BackendSpec

        try:
            backend = BackendSpec(model, base_url=base_url, args_flag="--task-args nli").load()
        except HarnessError as error:
            raise HarnessError(f"NLI model {spec!r} could not be loaded: {error}") from error
        return BackendNLI(backend, nli_identity(spec, base_url), path)
    model = spec.removeprefix(SEQ2SEQ_PREFIX)
    if not model:
        raise HarnessError("--task-args nli=seq2seq:MODEL: the model is missing")
    return CachedNLI(Seq2SeqNLI(model), path)
