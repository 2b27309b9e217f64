"""The hf backend on the real tiny Llama: batching, stop strings, loglikelihood."""

import math

import pytest
import torch

from harness.core.backends.base import GenerationRequest, LoglikelihoodRequest
from harness.core.backends.hf import HFBackend
from harness.core.errors import HarnessError


def test_batched_left_padded_generation_equals_one_by_one(tiny_backend) -> None:
    prompts = ["The grass is green. " * n + "The sky is" for n in (1, 5, 12)]
    requests = [GenerationRequest(text=p, max_tokens=6) for p in prompts]
    batched = tiny_backend.generate(requests)
    single = [tiny_backend.generate([r])[0] for r in requests]
    assert [g.text for g in batched] == [g.text for g in single]
    assert all(g.output_tokens <= 6 for g in batched)


def test_stop_strings_cut_the_output(tiny_backend) -> None:
    free = tiny_backend.generate([GenerationRequest(text="Once upon a time", max_tokens=12)])[0].text
    assert len(free) > 2
    stop = free[1:3]
    cut = tiny_backend.generate([GenerationRequest(text="Once upon a time", max_tokens=12, stop=(stop,))])[0].text
    assert stop not in cut and free.startswith(cut)


def test_loglikelihood_matches_a_manual_forward_pass(tiny_backend) -> None:
    req = LoglikelihoodRequest("The capital of France is", " Paris")
    (got,) = tiny_backend.loglikelihood([req])
    tok, model = tiny_backend.tokenizer, tiny_backend.model
    ctx = tok("The capital of France is")["input_ids"]
    whole = tok("The capital of France is Paris")["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([whole])).logits[0].log_softmax(-1)
    expected = sum(logits[i - 1, whole[i]].item() for i in range(len(ctx), len(whole)))
    assert math.isclose(got.logprob, expected, abs_tol=1e-4)
    # batching with padding does not change the answer
    batch = tiny_backend.loglikelihood([req, LoglikelihoodRequest("A much longer context sentence here:", " x")])
    assert math.isclose(batch[0].logprob, expected, abs_tol=1e-4)


def test_max_length_comes_from_the_config_or_model_args(tiny_path) -> None:
    assert HFBackend(str(tiny_path)).max_length == 8192
    assert HFBackend(str(tiny_path), max_length=4096).max_length == 4096


def test_missing_path_and_unknown_arg_are_clear(tiny_path) -> None:
    with pytest.raises(HarnessError, match="model path './no/such/model' does not exist"):
        HFBackend("./no/such/model")
    with pytest.raises(HarnessError, match="does not take 'colour'"):
        HFBackend(str(tiny_path), colour="red")


def test_shared_prefix_reuse_and_single_token_grouping_match_plain_passes(tiny_path) -> None:
    shots = " ".join(f"Example {i}: the answer is {i % 4}." for i in range(40))  # a long shared few-shot prefix
    choices = (" the", " special", " magic", " text")  # single tokens of the tiny tokenizer
    requests = [LoglikelihoodRequest(f"{shots}\nQuestion {q}: pick one. Answer:", c) for q in range(3) for c in choices]
    requests.append(LoglikelihoodRequest("Short context", " and two tokens"))
    backend = HFBackend(str(tiny_path), batch_size=1)
    reused = backend.loglikelihood(requests)
    assert len(backend._prefix_tokens) > 64  # the few-shot prefix was cached and reused
    plain = [HFBackend(str(tiny_path), batch_size=1).loglikelihood([r])[0] for r in requests]
    for a, b in zip(reused, plain):
        assert a.logprob == pytest.approx(b.logprob, abs=1e-4) and a.is_greedy == b.is_greedy


def test_sampling_is_seeded_per_request(tiny_backend) -> None:
    def sampled(seed: int) -> GenerationRequest:
        return GenerationRequest(text="One of the special magic numbers", max_tokens=12, temperature=1.0, seed=seed)

    greedy = GenerationRequest(text="One of the special magic numbers", max_tokens=12)
    first = tiny_backend.generate([sampled(1), greedy, sampled(2)])
    again = tiny_backend.generate([sampled(2), sampled(1)])
    assert first[0].text == again[1].text and first[2].text == again[0].text  # same seed, same text, any batch
    assert len({g.text for g in tiny_backend.generate([sampled(s) for s in range(6)])}) > 1  # a random model samples apart
    assert first[1].text == tiny_backend.generate([greedy])[0].text


def test_a_generation_that_runs_to_max_tokens_is_flagged(tiny_backend) -> None:
    """hf compares the generated tokens with the limit: all of them generated, no end of text, no stop string."""
    from harness.core.backends.base import GenerationRequest

    long, = tiny_backend.generate([GenerationRequest(text="one two three", max_tokens=4)])
    assert long.output_tokens == 4 and long.hit_limit
    stopped, = tiny_backend.generate([GenerationRequest(text="one two three", max_tokens=4, stop=(long.text[:1],))])
    assert not stopped.hit_limit
