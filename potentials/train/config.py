"""Training configuration: typed dataclasses loaded from one YAML file, validated at start-up.

Every option, its default and its unit are listed in ``docs/training.md``. ``--set key=value``
on the command line overrides a dotted key, e.g. ``--set optim.lr=0.005``.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ase.data import chemical_symbols

from potentials.model.config import ModelConfig


class ConfigError(ValueError):
    """An invalid configuration; the message names the key and, if possible, a close match."""


@dataclass
class DataConfig:
    """Where the frames come from and how they are split."""

    train_files: list[str] = field(default_factory=list)
    valid_files: list[str] = field(default_factory=list)
    test_files: list[str] = field(default_factory=list)
    valid_fraction: float = 0.1
    split_seed: int | None = None
    max_train_frames: int | None = None
    isolated_atoms_file: str | None = None
    energy_key: str | None = None
    forces_key: str | None = None
    stress_key: str | None = None
    train_on_forces_only: bool = False
    in_memory: bool = True
    num_workers: int = 0
    cache_dir: str = "~/.cache/potentials/converted"
    config_type_weights: dict[str, float] = field(default_factory=dict)
    """config_type -> factor on the loss weight of its frames (other frames: 1), e.g. to
    weight rarer structures more."""


@dataclass
class LossConfig:
    """Weights of the loss terms; the second stage switches to its own weights and lr."""

    energy_weight: float = 1.0
    forces_weight: float = 100.0
    stress_weight: float = 1.0
    huber_delta: float | None = None
    forces_element_weights: dict[str, float] = field(default_factory=dict)
    """Element symbol -> factor on its atoms' force errors (others: 1); the force term is
    the weighted mean over atoms."""
    stage_two_start: float | None = None
    stage_two_energy_weight: float = 1000.0
    stage_two_forces_weight: float = 100.0
    stage_two_stress_weight: float = 1.0
    stage_two_lr: float | None = None
    stage_two_reset_optimizer: bool = False


@dataclass
class OptimConfig:
    """Optimiser, learning-rate schedule, averaging and stopping."""

    optimizer: str = "adamw"
    lr: float = 0.01
    weight_decay: float = 0.0
    amsgrad: bool = True
    scheduler: str = "plateau"
    plateau_factor: float = 0.8
    plateau_patience: int = 50
    min_lr: float = 1e-6
    ema_decay: float | None = 0.99
    grad_clip: float | None = 10.0
    batch_size: int = 5
    shuffle: bool = True
    valid_batch_size: int = 10
    max_epochs: int = 1000
    max_time: str | float | None = None
    early_stopping_patience: int | None = None


@dataclass
class TrainConfig:
    """Everything ``potentials train`` needs, from one YAML file."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    output_dir: str = "runs/model"
    name: str = "model"
    seed: int = 0
    dtype: str = "float64"
    device: str = "auto"
    compile: bool = False
    """Compile the training step with `torch.compile` (see `potentials.model.compiled`)."""
    init_from: str | None = None
    log_every: int = 1

    def validate(self) -> None:
        """Raise ConfigError for values that cannot work."""
        checks = [
            (self.dtype in ("float32", "float64"), "dtype", "'float32' or 'float64'"),
            (bool(self.data.train_files), "data.train_files", "at least one file"),
            (0.0 <= self.data.valid_fraction < 1.0, "data.valid_fraction", "in [0, 1)"),
            (self.optim.optimizer in ("adam", "adamw"), "optim.optimizer", "'adam' or 'adamw'"),
            (self.optim.scheduler in ("plateau", "cosine", "cosine_time", "none"),
             "optim.scheduler", "'plateau', 'cosine', 'cosine_time' or 'none'"),
            (self.optim.scheduler != "cosine_time" or self.optim.max_time is not None,
             "optim.max_time", "a budget such as '3h' when optim.scheduler is 'cosine_time'"),
            (self.optim.lr > 0, "optim.lr", "> 0"),
            (self.optim.batch_size >= 1, "optim.batch_size", ">= 1"),
            (self.optim.max_epochs >= 1, "optim.max_epochs", ">= 1"),
            (self.loss.stage_two_start is None or 0 <= self.loss.stage_two_start <= 1,
             "loss.stage_two_start", "a fraction of max_epochs in [0, 1]"),
            (self.optim.ema_decay is None or 0 < self.optim.ema_decay < 1,
             "optim.ema_decay", "in (0, 1) or null"),
        ]
        for valid, key, expected in checks:
            if not valid:
                raise ConfigError(f"{key} = {_get(self, key)!r} is invalid: expected {expected}")
        for symbol, weight in self.loss.forces_element_weights.items():
            if symbol not in chemical_symbols[1:]:
                raise ConfigError(f"loss.forces_element_weights: {symbol!r} is not an element "
                                  f"symbol")
            if not weight > 0:
                raise ConfigError(f"loss.forces_element_weights.{symbol} = {weight!r} is "
                                  f"invalid: expected > 0")
        for config_type, weight in self.data.config_type_weights.items():
            if not 0 < weight < float("inf"):
                raise ConfigError(f"data.config_type_weights.{config_type} = {weight!r} is "
                                  f"invalid: expected a finite number > 0")
        if not self.data.valid_files and self.data.valid_fraction == 0:
            raise ConfigError("no validation data: set data.valid_fraction > 0 or valid_files")


SECTIONS: dict[str, type] = {
    "model": ModelConfig, "data": DataConfig, "loss": LossConfig, "optim": OptimConfig,
}


def _get(config: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        config = getattr(config, part)
    return config


def _build(cls: type, values: dict[str, Any], prefix: str = "") -> Any:
    """Instantiate dataclass ``cls`` from ``values``, recursing into nested dataclasses."""
    if not isinstance(values, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a mapping, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    types_of = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(_unknown_key_message(prefix + key, list(fields), prefix))
        section = SECTIONS.get(key) if cls is TrainConfig else None
        kwargs[key] = (_build(section, value, prefix + key + ".") if section
                       else _checked(prefix + key, value, types_of[key]))
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: {error}") from None


def _checked(key: str, value: Any, annotation: Any) -> Any:
    """``value`` if it has the type ``annotation`` names (an int or a text like ``1e-5`` is a
    valid float, one string a valid one-element list of strings), else a ConfigError naming
    key, value and type."""
    for option in _union_members(annotation):
        if option is type(None) and value is None:
            return None
        if option is bool and isinstance(value, bool):
            return value
        if option in (int, float, str) and _is_instance(value, option):
            return value
        if option is float and isinstance(value, str) and _is_float_text(value):
            return float(value)  # PyYAML reads 1e-5 (no dot) as a string
        origin, arguments = typing.get_origin(option), typing.get_args(option)
        if origin is dict:
            if isinstance(value, dict) and all(
                    _is_instance(k, arguments[0]) and _is_instance(v, arguments[1])
                    for k, v in value.items()):
                return {k: arguments[1](v) for k, v in value.items()}
            continue
        if origin in (list, tuple):
            items = [value] if isinstance(value, str) and arguments[0] is str else value
            if isinstance(items, list) and all(_is_instance(v, arguments[0]) for v in items):
                return items
    raise ConfigError(f"{key} = {value!r} is invalid: expected {_describe_type(annotation)}")


def _union_members(annotation: Any) -> tuple[Any, ...]:
    """``(int, None)`` for ``int | None``; ``(int,)`` for ``int``."""
    if isinstance(annotation, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _is_instance(value: Any, kind: type) -> bool:
    """isinstance without bool counting as a number, and with an int counting as a float."""
    if isinstance(value, bool):
        return kind is bool
    return isinstance(value, int | float) if kind is float else isinstance(value, kind)


def _is_float_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _describe_type(annotation: Any) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
             type(None): "null"}
    described = []
    for option in _union_members(annotation):
        if option in names:
            described.append(names[option])
        elif typing.get_origin(option) is dict:
            key, value = (names[kind].split(" ", 1)[1] for kind in typing.get_args(option))
            described.append(f"a mapping of {key}s to {value}s")
        else:
            item = names[typing.get_args(option)[0]].split(" ", 1)[1]
            described.append(f"a list of {item}s")
    return " or ".join(described)


def _unknown_key_message(key: str, known: list[str], prefix: str) -> str:
    leaf = key.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(leaf, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{prefix}{close[0]}'?" if close else ""
    return f"unknown config key '{key}'{hint} (known here: {', '.join(sorted(known))})"


def _set_dotted(values: dict[str, Any], dotted: str, raw: str) -> None:
    """Set ``values[a][b] = yaml(raw)`` for ``dotted = "a.b"``."""
    parts = dotted.split(".")
    target = values
    for part in parts[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise ConfigError(f"--set {dotted}: '{part}' is not a section")
    target[parts[-1]] = _parse_yaml(raw, f"--set {dotted}")


def _parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source} is not valid YAML: {error}") from None


def load_config(path: str | Path | None, overrides: list[str] = ()) -> TrainConfig:
    """Read ``path`` (YAML), apply ``key=value`` overrides, build and validate the config."""
    values: dict[str, Any] = {}
    if path is not None:
        values = _parse_yaml(Path(path).read_text(), str(path)) or {}
    for override in overrides:
        if "=" not in override:
            raise ConfigError(f"--set expects key=value, got '{override}'")
        key, raw = override.split("=", 1)
        _set_dotted(values, key.strip(), raw)
    config = _build(TrainConfig, values)
    config.validate()
    return config


def config_to_dict(config: TrainConfig) -> dict[str, Any]:
    """Plain dictionary (YAML-serialisable) of ``config``."""
    values = dataclasses.asdict(config)
    values["model"] = config.model.to_dict()
    return values
