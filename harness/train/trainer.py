"""Fine-tune a causal LM with RoPE scaling and stepwise context extension.

Read top to bottom: the spec comes in (harness/train/spec.py), data is prepared for each stage's
length (harness/train/data.py), the model is loaded with the stage's RoPE parameters, transformers'
`Trainer` runs the steps (accelerate underneath: `accelerate launch -m harness train ...` spreads it
over GPUs with FSDP or DeepSpeed), and each stage's final weights seed the next. Killed midway, the
same command resumes from the stage's last checkpoint; a finished stage is never redone. One run
writes an output at a time: `OUTPUT/.lock` (harness.core.outputs) refuses a second `harness train` at once,
and dies with its process, so a run killed with -9 resumes as before.

    OUTPUT/                  the final model (config with the RoPE scaling, weights, tokenizer)
    OUTPUT/manifest.json     base model, data hash, spec, per-stage statistics, library versions
    OUTPUT/stages/NN-LEN/    each stage: Trainer checkpoints, then final/
"""

from __future__ import annotations

import json
import os
import shutil
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.core.errors import HarnessError
from harness.core.outputs import ensure_dir, lock_output
from harness.core.provenance import environment
from harness.core.records import TrainManifest, write_atomic
from harness.core.redaction import redact
from harness.tracking import require_trackers
from harness.train.data import Example, PrepStats, data_digest, pack, prepare, read_records, real_token_share
from harness.train.rope import rope_parameters, scaled_max_positions
from harness.train.spec import Stage, TrainSpec

if TYPE_CHECKING:
    import torch

MANIFEST = "manifest.json"


# -- the run ------------------------------------------------------------------------------------

def train(spec: TrainSpec, output: Path) -> Path:
    """Run every stage of `spec` into `output` (resuming where a previous run stopped); another process
    training into `output` now is an error, raised before anything is read or loaded."""
    require_trackers(spec.report_to)  # a missing tracker package fails now, not after the model loads
    with _output_lock(output):
        return _train(spec, output)


def _output_lock(output: Path) -> AbstractContextManager[object]:
    """The lock on `output`, taken by rank 0 only: the other ranks of one distributed launch (torchrun,
    accelerate, deepspeed set RANK) write the same output by design."""
    if os.environ.get("RANK", "0") not in ("", "0"):
        ensure_dir(output, "--output directory")
        return nullcontext()
    return lock_output(output, "harness train", "--output")


def _train(spec: TrainSpec, output: Path) -> Path:
    manifest = _claim(output, spec)
    if manifest.finished:
        print(f"{output}: already trained with this spec and data; nothing to do")
        return output
    from harness.core.backends import parse_model_spec
    from harness.core.backends.hf import load_tokenizer

    base = parse_model_spec(spec.model).model  # resolves built-in names to their checkpoints
    tokenizer = load_tokenizer(base)
    records = list(read_records(spec.data))
    previous = base
    for index, stage in enumerate(spec.stages):
        stage_dir = output / "stages" / f"{index:02d}-{stage.length}"
        final = stage_dir / "final"
        if not (final / "config.json").exists():
            started = time.perf_counter()
            stats = run_stage(spec, stage, previous, tokenizer, records, stage_dir)
            stats["seconds"] = round(time.perf_counter() - started, 1)
            manifest.stages[str(index)] = {"length": stage.length, "steps": stage.steps, "theta": stage.theta, **stats}
            manifest.write(output / MANIFEST)
        previous = str(final)
    _publish(Path(previous), output)
    manifest.finished = True
    manifest.write(output / MANIFEST)
    return output


def run_stage(spec: TrainSpec, stage: Stage, previous: str, tokenizer: Any, records: list[dict[str, Any]],
              stage_dir: Path) -> dict[str, Any]:
    """One stage: prepare data at its length, load the model with its RoPE, train, save `final/`."""
    examples, prep = prepare(records, tokenizer, stage.length)
    _report(stage, prep)
    model = load_model(previous, spec, stage)
    dataset, collator, share = build_dataset(examples, tokenizer, spec, stage)
    trainer = make_trainer(model, dataset, collator, spec, stage, stage_dir)
    stage_dir.mkdir(parents=True, exist_ok=True)
    last = last_complete_checkpoint(stage_dir)
    if last:
        print(f"resuming {stage_dir.name} from {last.name}")
    result = trainer.train(resume_from_checkpoint=str(last) if last else None)
    save_final(trainer.model, tokenizer, stage_dir / "final")
    loss = stage_loss(trainer.state.log_history)
    return {**prep.as_dict(), "real_token_share": round(share, 4),
            "train_loss": round(result.training_loss if loss is None else loss, 6)}


def stage_loss(log_history: list[dict[str, Any]]) -> float | None:
    """The mean loss over every step of the stage, from the logged losses weighted by the steps each covers.

    `Trainer`'s own `training_loss` covers only the steps of its last `train()` call, so a resumed stage
    would report the loss after the resume. The log history is restored from the checkpoint, and
    `LogAtCheckpoints` makes every checkpoint a logging step, so the entries tile the whole stage."""
    total, steps, previous = 0.0, 0, 0
    for entry in log_history:
        if "loss" in entry and entry["step"] > previous:
            total += float(entry["loss"]) * (entry["step"] - previous)
            steps += entry["step"] - previous
            previous = entry["step"]
    return total / steps if steps else None


def last_complete_checkpoint(stage_dir: Path) -> Path | None:
    """The newest checkpoint the Trainer finished writing (trainer_state.json is written last);
    one torn by a kill during saving is removed."""
    found = sorted(stage_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]) if p.name.split("-")[-1].isdigit() else -1)
    for checkpoint in reversed(found):
        if (checkpoint / "trainer_state.json").exists():
            return checkpoint
        shutil.rmtree(checkpoint, ignore_errors=True)
    return None


# -- model --------------------------------------------------------------------------------------

def load_model(path: str, spec: TrainSpec, stage: Stage) -> Any:
    """The model at `path` with the spec's RoPE scaling (and the stage's theta) in its config.

    `spec.seed` governs the whole run: seeded here, before anything is built, it draws the LoRA
    adapters' initial weights (and any parameter the checkpoint lacks); `make_trainer` passes it on as
    `seed` (dropout: Trainer seeds torch again, and a resume restores the RNG states) and `data_seed`
    (the order of the packed bins, which `pack` also shuffles with it)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, set_seed

    set_seed(spec.seed)  # Trainer seeds only when it is built, after the model and its adapters
    config = AutoConfig.from_pretrained(path)
    params = rope_parameters(spec.rope, config, theta=stage.theta)
    max_positions = scaled_max_positions(spec.rope, config, max(stage.length, spec.max_position_embeddings or 0))
    cuda = torch.cuda.is_available()
    kwargs: dict[str, Any] = {
        "rope_parameters": params,
        "max_position_embeddings": max_positions,
        "dtype": torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32,
        "attn_implementation": _attention(cuda),
    }
    model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    # No KV cache in training. It also matters for packing: transformers builds the block-diagonal
    # mask from restarting position ids only when no cache is passed; with one, packed examples
    # would attend to each other (tests/harness/train/test_trainer.py checks this).
    model.config.use_cache = False
    if spec.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    if spec.lora is not None:
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(r=spec.lora.r, lora_alpha=spec.lora.alpha, lora_dropout=spec.lora.dropout,
                          target_modules="all-linear", modules_to_save=list(spec.lora.modules_to_save),
                          task_type="CAUSAL_LM")
        return get_peft_model(model, lora)
    return model


def _attention(cuda: bool) -> str:
    """flash-attn where a GPU and the package are there (the `gpu` extra), else PyTorch SDPA."""
    if cuda:
        try:
            import flash_attn  # noqa: F401

            return "flash_attention_2"
        except ImportError:
            pass
    return "sdpa"


def save_final(model: Any, tokenizer: Any, target: Path) -> None:
    """Save plain transformers weights (LoRA merged in) and the tokenizer, atomically."""
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.config.use_cache = True  # for inference
    tmp = target.with_name(target.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    os.replace(tmp, target)


# -- data -----------------------------------------------------------------------------------------

class ListDataset:
    """A map-style dataset over a list (what Trainer's DataLoader needs)."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.items[index]


def build_dataset(examples: list[Example], tokenizer: Any, spec: TrainSpec, stage: Stage) -> tuple[ListDataset, Any, float]:
    """Packed bins flattened by transformers' `DataCollatorWithFlattening` (position ids restart per
    example, so attention never crosses examples), or padded batches when packing is off."""
    from transformers import DataCollatorForSeq2Seq, DataCollatorWithFlattening

    lengths = [len(e.input_ids) for e in examples]
    if spec.packing:
        bins = pack(lengths, stage.length, spec.seed)
        items = [{"examples": [{"input_ids": examples[i].input_ids, "labels": examples[i].labels} for i in b]} for b in bins]
        flatten = DataCollatorWithFlattening(return_position_ids=True, separator_id=-100)

        def collate(batch: list[dict[str, Any]]) -> dict[str, Any]:
            features: dict[str, Any] = flatten([example for item in batch for example in item["examples"]])
            return features

        return ListDataset(items), collate, real_token_share(lengths, bins, stage.length)
    rows: list[dict[str, Any]] = [{"input_ids": e.input_ids, "labels": e.labels} for e in examples]
    pad = DataCollatorForSeq2Seq(tokenizer, padding="longest", label_pad_token_id=-100)
    return ListDataset(rows), pad, float("nan")


# -- trainer --------------------------------------------------------------------------------------

def make_trainer(model: Any, dataset: ListDataset, collator: Any, spec: TrainSpec, stage: Stage, stage_dir: Path) -> Any:
    import torch
    from transformers import Trainer, TrainerCallback, TrainerControl, TrainerState, TrainingArguments

    cuda = torch.cuda.is_available()
    args = TrainingArguments(
        output_dir=str(stage_dir),
        max_steps=stage.steps,
        per_device_train_batch_size=1 if spec.packing else spec.batch_size,
        gradient_accumulation_steps=spec.grad_accum,
        learning_rate=spec.learning_rate,
        weight_decay=spec.weight_decay,
        warmup_steps=spec.warmup_ratio,  # a float below 1 is a ratio of the stage's steps
        lr_scheduler_type=spec.lr_scheduler,
        max_grad_norm=spec.max_grad_norm,
        logging_steps=max(1, min(10, stage.steps // 10)),
        save_strategy="steps",
        save_steps=min(spec.save_steps, stage.steps),
        save_total_limit=2,
        seed=spec.seed,
        data_seed=spec.seed,
        bf16=cuda and torch.cuda.is_bf16_supported(),
        use_cpu=not cuda,
        remove_unused_columns=False,
        report_to=list(spec.report_to),  # transformers' own integrations (tensorboard, wandb, mlflow); none by default
        run_name=f"{stage_dir.parent.parent.name}/{stage_dir.name}" if spec.report_to else None,
        dataloader_num_workers=0,
        disable_tqdm=False,
    )

    class StageTrainer(Trainer):
        """`Trainer` with a per-sequence loss option (each example's mean, then the mean of those)."""

        def compute_loss(self, model: torch.nn.Module, inputs: dict[str, torch.Tensor | Any], return_outputs: bool = False,
                         num_items_in_batch: torch.Tensor | int | None = None) -> torch.Tensor | tuple[torch.Tensor, Any]:
            if spec.loss_normalization == "token":
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            return per_sequence_loss(model, inputs, return_outputs)

    class LogAtCheckpoints(TrainerCallback):
        """Log the loss at every checkpoint (and so at the last step, which is always saved): the log
        history a resume restores then covers every step up to the checkpoint (see `stage_loss`)."""

        def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                        **kwargs: Any) -> TrainerControl:
            if control.should_save:
                control.should_log = True
            return control

    trainer = StageTrainer(model=model, args=args, train_dataset=dataset, data_collator=collator,
                           callbacks=[LogAtCheckpoints()])
    if spec.loss_normalization == "sequence":
        trainer.model_accepts_loss_kwargs = False  # Trainer then scales for gradient accumulation itself
    return trainer


def per_sequence_loss(model: Any, inputs: dict[str, Any], return_outputs: bool = False) -> torch.Tensor | tuple[torch.Tensor, Any]:
    """Mean over examples of each example's mean token loss (examples found by position-id restarts)."""
    import torch
    import torch.nn.functional as F

    labels = inputs.pop("labels")
    outputs = model(**inputs)
    logits = outputs.logits[:, :-1].float()
    targets = labels[:, 1:]
    if "position_ids" in inputs:
        sequence = (inputs["position_ids"] == 0).cumsum(-1) - 1
        sequence = sequence + torch.arange(sequence.shape[0], device=sequence.device)[:, None] * sequence.shape[1]
    else:  # padded batches: one example per row
        sequence = torch.arange(labels.shape[0], device=labels.device)[:, None].expand_as(labels)
    sequence = sequence[:, 1:].reshape(-1)
    losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="none")
    keep = targets.reshape(-1) != -100
    size = int(sequence.max().item()) + 1
    sums = torch.zeros(size, device=losses.device).index_add(0, sequence[keep], losses[keep])
    counts = torch.zeros(size, device=losses.device).index_add(0, sequence[keep], torch.ones_like(losses[keep]))
    loss = (sums[counts > 0] / counts[counts > 0]).mean()
    return (loss, outputs) if return_outputs else loss


# -- bookkeeping ----------------------------------------------------------------------------------

def _claim(output: Path, spec: TrainSpec) -> TrainManifest:
    """Load or start the manifest (`harness.core.records.TrainManifest`); refuse an output that holds another
    spec or other data."""
    path = output / MANIFEST
    digest = data_digest(spec.data)
    if path.exists():
        manifest = TrainManifest.read(path)
        if manifest.spec_digest != spec.digest() or manifest.data_digest != digest:
            raise HarnessError(f"{output} holds a training run with another spec or other data; choose another --output")
        return manifest
    manifest = TrainManifest(base_model=spec.model, data=spec.data, data_digest=digest, spec=spec.to_dict(),
                             spec_digest=spec.digest(), environment=environment())
    manifest.write(path)
    _write_json(output / "train_spec.json", spec.to_dict())
    return manifest


def _publish(final: Path, output: Path) -> None:
    """Copy the last stage's model into the output root, so `harness eval --model OUTPUT` works."""
    for item in final.iterdir():
        shutil.copy2(item, output / item.name)


def _report(stage: Stage, prep: PrepStats) -> None:
    note = f"stage {stage.length} tokens x {stage.steps} steps: {prep.examples} examples, {prep.tokens} tokens"
    if prep.truncated or prep.dropped:
        note += f"; {prep.truncated} truncated to {stage.length} tokens, {prep.dropped} dropped (no label left)"
    print(note)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(redact(data), indent=2, sort_keys=True, default=str) + "\n")  # manifests hold no key
