"""The training loop: epochs of weighted-loss descent, validation with the averaged weights,
atomic checkpoints every epoch, exact resume, and export of the best model."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import random
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from ase.data import atomic_numbers, chemical_symbols
from torch.utils.data import DataLoader
from tqdm import tqdm

from potentials.atomic_write import torch_save_atomically
from potentials.data.statistics import compute_statistics
from potentials.device import resolve_device, resolve_dtype
from potentials.graph import AtomicGraph, batch_graphs
from potentials.memory import keep_freed_memory
from potentials.model import (
    EquivariantPotential,
    load_model,
    predict,
    save_model,
)
from potentials.model.committee import CommitteePotential
from potentials.model.compiled import CompiledPredictor
from potentials.model.registry import load_named_model, split_member_selection
from potentials.train.checkpoint import (
    CHECKPOINT_NAME,
    TrainingState,
    check_resumable,
    load_checkpoint,
)
from potentials.train.config import ConfigError, TrainConfig, config_to_dict
from potentials.train.data_setup import (
    Graphs,
    Splits,
    prepare_splits,
    read_isolated_atoms,
    split_datasets,
)
from potentials.train.distributed import DistributedContext
from potentials.train.loss import LossWeights, loss_terms, weighted_loss
from potentials.train.metrics import ErrorAccumulator
from potentials.train.report import (
    format_metrics,
    plot_learning_curves,
    plot_parity,
    write_history_csv,
)
from potentials.train.schedule import (
    build_ema,
    build_optimizer,
    build_scheduler,
    parse_duration_seconds,
    step_scheduler,
)


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def batch_loader(graphs: Graphs, batch_size: int, order: np.ndarray, num_workers: int = 0
                 ) -> DataLoader:
    """Batched graphs of ``batch_size`` frames taken in ``order`` (the last may be short).

    With ``num_workers`` > 0, frames of a lazy `GraphDataset` are read and their neighbour
    lists built in that many worker processes while the model trains.
    """
    index_batches = [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    return DataLoader(graphs, batch_sampler=index_batches, collate_fn=batch_graphs,
                      num_workers=num_workers)


class Trainer:
    """Fits an `EquivariantPotential` as described by a `TrainConfig`."""

    def __init__(self, config: TrainConfig, resume: bool = False, show_progress: bool = True):
        keep_freed_memory()
        self.config = config
        self.output_dir = Path(config.output_dir)
        self.dtype = resolve_dtype(config.dtype)
        self.context = DistributedContext.from_environment(resolve_device(config.device))
        self.device = self.context.device
        self.show_progress = show_progress and self.context.is_main
        seed_everything(config.seed)
        self.start_model = self._load_start_model() if config.init_from else None
        if self.start_model is not None:  # the architecture (and cutoff) come from it
            config.model = self.start_model.config
        self.splits = self._prepare_data()
        self.model = self._build_model().to(self.device)
        self._check_force_element_weights()
        self.compiled = CompiledPredictor(self.model) if config.compile else None
        self.optimizer = build_optimizer(self.model, config.optim)
        self.scheduler = build_scheduler(self.optimizer, config.optim, config.optim.max_epochs)
        self.ema = build_ema(self.model, config.optim.ema_decay)
        self.state = TrainingState()
        self.max_seconds = parse_duration_seconds(config.optim.max_time)
        if resume:
            self._restore(load_checkpoint(self.output_dir / CHECKPOINT_NAME))
        elif (self.output_dir / CHECKPOINT_NAME).exists():
            raise ConfigError(f"{self.output_dir} already holds a training run; pass --resume "
                              f"to continue it or choose another output_dir")

    # -- set-up ---------------------------------------------------------------------------
    def _load_start_model(self) -> EquivariantPotential:
        """The model ``init_from`` names: a model file, a shipped model, or one member of a
        committee (``NAME[k]``)."""
        name = self.config.init_from
        model = load_named_model(name, dtype=self.dtype)
        if isinstance(model, CommitteePotential):
            raise ConfigError(f"init_from {name} is a committee of {len(model.members)} "
                              f"models; start from one of them, e.g. "
                              f"{split_member_selection(name)[0]}[1]")
        return model

    def _prepare_data(self) -> Splits:
        if self.config.optim.batch_size % self.context.world_size:
            raise ValueError(f"optim.batch_size = {self.config.optim.batch_size} is not "
                             f"divisible by the {self.context.world_size} processes")
        splits = prepare_splits(self.config.data, self.config.model.cutoff_angstrom,
                                self.config.seed, self.dtype, self.context.shard,
                                self.context.sum_array, self.show_progress)
        self.n_train_global = splits.train_summary.n_frames
        self.any_stress = splits.train_summary.n_stress > 0
        return splits

    def _build_model(self) -> EquivariantPotential:
        isolated = self.config.data.isolated_atoms_file
        if self.start_model is not None:
            model = self.start_model
            known = set(model.statistics.atomic_numbers)
            seen = set(np.nonzero(self.splits.train_summary.presence)[0].tolist())
            if seen - known:
                raise ConfigError(f"init_from model {self.config.init_from} knows elements "
                                  f"{sorted(known)}, the training data has {sorted(seen)}")
            if isolated:
                try:
                    model.replace_e0s(read_isolated_atoms(isolated))
                except ValueError as error:
                    raise ConfigError(f"data.isolated_atoms_file {isolated}: {error}") from None
            return model.train()
        statistics = compute_statistics(
            self.splits.train, read_isolated_atoms(isolated) if isolated else None,
            self.context.sum_array)
        return EquivariantPotential(self.config.model, statistics).to(self.dtype)

    def _check_force_element_weights(self) -> None:
        """Refuse a force weight for an element the model does not know: it would do nothing."""
        known = self.model.statistics.atomic_numbers
        for symbol in self.config.loss.forces_element_weights:
            if atomic_numbers[symbol] not in known:
                raise ConfigError(
                    f"loss.forces_element_weights: {symbol} is not in the training data "
                    f"(elements: {', '.join(chemical_symbols[z] for z in known)})")

    # -- one epoch ------------------------------------------------------------------------
    def loss_weights(self) -> LossWeights:
        loss = self.config.loss
        if self.state.stage == 2:
            terms = (loss.stage_two_energy_weight, loss.stage_two_forces_weight,
                     loss.stage_two_stress_weight)
        else:
            terms = (loss.energy_weight, loss.forces_weight, loss.stress_weight)
        if self.config.data.train_on_forces_only:
            terms = (0.0, *terms[1:])
        by_element = tuple((atomic_numbers[symbol], factor)
                           for symbol, factor in loss.forces_element_weights.items())
        return LossWeights(*terms, forces_by_element=by_element)

    @property
    def compute_stress(self) -> bool:
        """Stress is predicted for every batch when it is weighted and some frame has it."""
        return bool(self.loss_weights().stress) and self.any_stress

    def _train_step(self, graph: AtomicGraph | None, batch_number: int,
                    errors: ErrorAccumulator) -> float:
        """One optimisation step on ``graph`` (None: this process has no frames left)."""
        self.optimizer.zero_grad(set_to_none=False)
        weights = self.loss_weights()
        loss_value = torch.zeros((), dtype=self.dtype)
        if graph is not None:
            graph = graph.to(self.device)
            if self.compiled is not None:
                predicted = self.compiled(graph, compute_stress=self.compute_stress)
            else:
                predicted = predict(self.model, graph, compute_forces=bool(weights.forces),
                                    compute_stress=self.compute_stress, training=True)
            loss = weighted_loss(predicted, graph, weights, self.config.loss.huber_delta,
                                 self.context.sum)
            loss.backward()
            loss_value = loss.detach().cpu()
            errors.add({key: value.detach() for key, value in predicted.items()}, graph)
        else:  # this rank has no frames left in the epoch: contribute zero gradients
            self._zero_gradients_with_collectives()
        loss_value = float(self.context.sum(loss_value))
        if not math.isfinite(loss_value):
            raise NonFiniteLossError(
                f"loss is {loss_value} at epoch {self.state.epoch + 1}, batch {batch_number}; "
                f"the last good checkpoint is {self.output_dir / CHECKPOINT_NAME}")
        parameters = list(self.model.parameters())
        self.context.sum_gradients(parameters)
        if self.config.optim.grad_clip:
            torch.nn.utils.clip_grad_norm_(parameters, self.config.optim.grad_clip)
        self.optimizer.step()
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        return loss_value

    def _zero_gradients_with_collectives(self) -> None:
        """Join the three normaliser all-reduces that ranks with frames perform."""
        weights = self.loss_weights()
        active = [weights.energy, weights.forces, weights.stress and self.compute_stress]
        for _ in range(sum(1 for w in active if w)):
            self.context.sum(torch.zeros((), dtype=self.dtype))

    def _epoch_order(self) -> np.ndarray:
        if not self.config.optim.shuffle:
            return np.arange(len(self.splits.train))
        rng = np.random.default_rng([self.config.seed, self.state.epoch])
        return rng.permutation(len(self.splits.train))

    def _train_epoch(self) -> tuple[float, ErrorAccumulator]:
        """One pass over the training frames: (mean batch loss, errors of the batches)."""
        self.model.train()
        local_batch = self.config.optim.batch_size // self.context.world_size
        loader = batch_loader(self.splits.train, local_batch, self._epoch_order(),
                              self.config.data.num_workers)
        n_steps = math.ceil(self.n_train_global / self.config.optim.batch_size)
        batches = itertools.chain(loader, itertools.repeat(None, n_steps - len(loader)))
        progress = tqdm(batches, total=n_steps, desc=f"epoch {self.state.epoch + 1}",
                        leave=False, disable=not self.show_progress, unit="batch")
        total, errors = 0.0, ErrorAccumulator()
        for number, graph in enumerate(progress):
            total += self._train_step(graph, number, errors)
            progress.set_postfix(loss=f"{total / (number + 1):.4g}")
        errors.sum_over_ranks(self.context.sum_array)
        return total / max(n_steps, 1), errors

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> Path:
        """Train until a stopping criterion holds; export and report; return the model path."""
        self._log(self._describe())
        if self.context.is_main:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            (self.output_dir / "config.yaml").write_text(
                yaml.safe_dump(config_to_dict(self.config), sort_keys=False))
        while (reason := self._should_stop()) is None:
            self._maybe_start_stage_two()
            start, lr = time.perf_counter(), self.optimizer.param_groups[0]["lr"]
            train_loss, train_errors = self._train_epoch()
            valid_loss, valid_errors = self.evaluate_graphs(self.splits.valid)
            self.state.epoch += 1
            self.state.elapsed_seconds += self.context.max(time.perf_counter() - start)
            step_scheduler(self.scheduler, valid_loss, self.state.elapsed_seconds)
            self._record_epoch(lr, {"train_loss": train_loss, "valid_loss": valid_loss,
                                    **_prefixed("train", train_errors.summary()),
                                    **_prefixed("valid", valid_errors.summary())})
        self._log(f"stopped after epoch {self.state.epoch}: {reason}")
        return self._finish()

    def _describe(self) -> str:
        n_parameters = sum(p.numel() for p in self.model.parameters())
        return (f"training on {self.n_train_global} frames, validating on "
                f"{self.splits.valid_summary.n_frames}, {n_parameters} parameters, "
                f"{self.config.dtype} on {self.device}"
                f"{' (compiled: the first batch takes minutes)' if self.compiled else ''}, "
                f"{self.context.world_size} process(es){self._describe_start()}"
                f"{self._describe_loss_weights()}; statistics {self.model.statistics}")

    def _describe_loss_weights(self) -> str:
        """The force weights per element and frame weights per config_type, where set."""
        described = ""
        for weights, what in ((self.config.loss.forces_element_weights,
                               "force errors weighted per element"),
                              (self.config.data.config_type_weights,
                               "frames weighted per config_type")):
            if weights:
                listed = ", ".join(f"{name} {factor:g}" for name, factor in weights.items())
                described += f", {what} ({listed}; others 1)"
        return described

    def _describe_start(self) -> str:
        """Where fine-tuning starts and where its E0s come from; empty when training anew."""
        if self.start_model is None:
            return ""
        isolated = self.config.data.isolated_atoms_file
        e0s = (f"E0s from {isolated}" if isolated
               else "E0s of that model (no data.isolated_atoms_file)")
        return f", starting from {self.config.init_from} with {e0s}"

    def _record_epoch(self, lr: float, results: dict[str, float]) -> None:
        """Store the epoch's losses and metrics, export if best, checkpoint, log a line."""
        state = self.state
        record = {"epoch": state.epoch, "time_s": round(state.elapsed_seconds, 2), "lr": lr,
                  "stage": state.stage, **results}
        state.history.append(record)
        valid_loss = results["valid_loss"]
        if valid_loss < state.best_valid_loss:
            state.best_valid_loss, state.best_epoch = valid_loss, state.epoch
            state.epochs_without_improvement = 0
            if self.context.is_main:
                self._export(self.output_dir / "best.model")
        else:
            state.epochs_without_improvement += 1
        if self.context.is_main:
            torch_save_atomically(self._checkpoint_content(), self.output_dir / CHECKPOINT_NAME)
            write_history_csv(state.history, self.output_dir / "metrics.csv")
        if state.epoch % self.config.log_every == 0:
            valid = {k.removeprefix("valid_"): v for k, v in results.items()
                     if k.startswith("valid_")}
            self._log(f"epoch {state.epoch:5d}  {state.elapsed_seconds / 60:7.1f} min  "
                      f"lr {lr:.2e}  train loss {results['train_loss']:.4g}  valid loss "
                      f"{valid_loss:.4g}  {format_metrics(valid)}")

    def _export(self, path: Path) -> None:
        metadata = {"epoch": str(self.state.epoch),
                    "training_config": json.dumps(config_to_dict(self.config))}
        save_model(self.evaluation_model(), path, self.splits.train_sha256, metadata)

    def _finish(self) -> Path:
        """Evaluate the best model on every split in float64, write plots and the summary.

        Models are used in float64 whatever precision they were trained in, so a float32 run
        reads its validation and test frames again in float64 for this final evaluation: the
        numbers in summary.json are those of the model as it is used.
        """
        best = self.output_dir / "best.model"
        if self.context.is_main and not best.exists():
            self._export(best)
        self.context.barrier()
        splits: dict[str, Graphs] = {"valid": self.splits.valid, **self.splits.test}
        if self.dtype != torch.float64:
            self._log("final evaluation in float64, the precision the model is used in")
            self.dtype = torch.float64
            datasets = split_datasets(self.config.data, self.config.model.cutoff_angstrom,
                                      self.config.seed, self.dtype, self.context.shard,
                                      self.show_progress)
            splits = {"valid": datasets.valid, **datasets.test}
            self.evaluation_model().to(torch.float64)
        model = load_model(best, dtype=self.dtype, device=self.device)
        if self.ema is not None:
            self.ema.module.load_state_dict(model.state_dict())
        else:
            self.model.load_state_dict(model.state_dict())
        summary = {"epochs": self.state.epoch, "best_epoch": self.state.best_epoch,
                   "wall_time_s": round(self.state.elapsed_seconds, 1)}
        per_element = {}
        for name, graphs in splits.items():
            _, errors = self.evaluate_graphs(graphs, keep_predictions=True)
            summary[name] = errors.summary()
            per_element[name] = {chemical_symbols[number]: element for number, element
                                 in errors.summary_by_element().items()}
            if self.context.is_main:
                plot_parity(errors, name, self.output_dir / f"parity_{name}.png")
                self._log(f"{name}: {format_metrics(summary[name])}")
        summary["forces_per_element"] = per_element
        final = self.output_dir / f"{self.config.name}.model"
        if self.context.is_main:
            plot_learning_curves(self.state.history, self.output_dir / "learning_curves.png")
            (self.output_dir / "summary.json").write_text(json.dumps(summary, indent=2))
            shutil.copyfile(best, final)
        return final

    # -- validation ---------------------------------------------------------------------
    def evaluation_model(self) -> torch.nn.Module:
        """The averaged (EMA) weights if enabled, else the raw model."""
        return self.ema.module if self.ema is not None else self.model

    def evaluate_graphs(self, graphs: Graphs, keep_predictions: bool = False
                        ) -> tuple[float, ErrorAccumulator]:
        """(loss, accumulated errors) of the evaluation model on ``graphs`` (all ranks).

        The loss is that of all frames at once: each term's sums and normalisers are added
        over batches and processes before dividing, so it does not depend on
        ``valid_batch_size`` or on the number of processes.
        """
        model = self.evaluation_model().eval()
        # the final evaluation (keep_predictions) also sums force errors per element
        errors = ErrorAccumulator(keep_predictions=keep_predictions, by_element=keep_predictions)
        weights = self.loss_weights()
        sums = {name: np.zeros(2) for name in ("energy", "forces", "stress")}
        for graph in batch_loader(graphs, self.config.optim.valid_batch_size,
                                  np.arange(len(graphs)), self.config.data.num_workers):
            graph = graph.to(self.device)
            predicted = predict(model, graph, compute_stress=self.compute_stress)
            for name, term in loss_terms(predicted, graph, weights,
                                         self.config.loss.huber_delta).items():
                sums[name] += [float(term.total.detach()), float(term.normaliser)]
            errors.add(predicted, graph)
        totals = self.context.sum_array(np.stack(list(sums.values())))
        loss = sum(getattr(weights, name) * total / normaliser
                   for name, (total, normaliser) in zip(sums, totals, strict=True)
                   if normaliser > 0)
        errors.sum_over_ranks(self.context.sum_array)
        if keep_predictions:
            errors.gather_predictions(self.context.gather)
        return float(loss), errors

    # -- stages, checkpoints, stopping ----------------------------------------------------
    def _maybe_start_stage_two(self) -> None:
        start = self.config.loss.stage_two_start
        if self.state.stage == 2 or start is None:
            return
        by_epoch = self.state.epoch >= start * self.config.optim.max_epochs
        by_time = self.max_seconds is not None and (
            self.state.elapsed_seconds >= start * self.max_seconds)
        if not (by_epoch or by_time):
            return
        self.state.stage = 2
        if self.config.loss.stage_two_reset_optimizer:
            self.optimizer.state.clear()
        if self.config.loss.stage_two_lr is not None:
            for group in self.optimizer.param_groups:
                group["lr"] = self.config.loss.stage_two_lr
        self.scheduler = build_scheduler(self.optimizer, self.config.optim,
                                         self.config.optim.max_epochs - self.state.epoch,
                                         self.state.elapsed_seconds)
        self.state.best_valid_loss = math.inf  # the loss changed meaning
        self.state.epochs_without_improvement = 0
        self._log(f"stage two from epoch {self.state.epoch + 1}: loss weights "
                  f"{self.loss_weights()}")

    def _checkpoint_content(self) -> dict:
        return {
            "config": config_to_dict(self.config),
            "state": dataclasses.asdict(self.state),
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else {},
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else {},
            "torch_rng": torch.get_rng_state(),
        }

    def _restore(self, content: dict) -> None:
        check_resumable(content["config"], config_to_dict(self.config))
        self.state = TrainingState(**content["state"])
        if self.state.stage == 2 and self.config.loss.stage_two_start is not None:
            self.scheduler = build_scheduler(self.optimizer, self.config.optim,
                                             self.config.optim.max_epochs - self.state.epoch)
        self.model.load_state_dict(content["model"])
        if self.ema is not None:
            self.ema.load_state_dict(content["ema"])
        self.optimizer.load_state_dict(content["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(content["scheduler"])
            self._retime_cosine(content["config"]["optim"]["max_epochs"])
        torch.set_rng_state(content["torch_rng"])
        self._log(f"resumed after epoch {self.state.epoch} "
                  f"({self.state.elapsed_seconds / 60:.1f} min trained)")

    def _retime_cosine(self, saved_max_epochs: int) -> None:
        """Make a restored cosine schedule end at the config's max_epochs.

        The scheduler's saved state carries its old length; a resume that changes
        ``optim.max_epochs`` moves the end of the current cosine by the same number of epochs.
        """
        change = self.config.optim.max_epochs - saved_max_epochs
        if change == 0 or not isinstance(self.scheduler,
                                         torch.optim.lr_scheduler.CosineAnnealingLR):
            return
        self.scheduler.T_max = max(self.scheduler.T_max + change, self.scheduler.last_epoch + 1)
        self._log(f"optim.max_epochs changed from {saved_max_epochs} to "
                  f"{self.config.optim.max_epochs}: the cosine schedule now ends at epoch "
                  f"{self.state.epoch - self.scheduler.last_epoch + self.scheduler.T_max}")

    def _should_stop(self) -> str | None:
        optim = self.config.optim
        if self.state.epoch >= optim.max_epochs:
            return f"reached max_epochs = {optim.max_epochs}"
        if self.max_seconds is not None and self.state.elapsed_seconds >= self.max_seconds:
            return f"reached max_time = {optim.max_time}"
        patience = optim.early_stopping_patience
        if patience is not None and self.state.epochs_without_improvement >= patience:
            return f"no validation improvement for {patience} epochs"
        return None

    def _log(self, message: str) -> None:
        if self.context.is_main:
            tqdm.write(message)


def _prefixed(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}_{key}": value for key, value in metrics.items()}
