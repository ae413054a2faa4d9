"""What a model file holds, as ``potentials info MODEL`` prints it: who wrote it, its
elements and reference energies, and each member's architecture and training."""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Sequence

import torch
from ase.data import chemical_symbols

from potentials.model.io import COMMITTEE_FORMAT_NAME, read_model_file
from potentials.model.registry import (
    load_named_model,
    resolve_model_path,
    split_member_selection,
)
from potentials.text_table import fixed_width_table


def describe_model(model: str | os.PathLike) -> str:
    """The description of a shipped model name or model file (``NAME[i,j]``: only those
    members): a header, the elements and E0s, one table row per member (counted from 1, as
    ``NAME[k]`` counts; "saved at epoch" is the training epoch whose weights the file holds)
    and the data each member was trained on."""
    name, selection = split_member_selection(model)
    path = resolve_model_path(name)
    content = read_model_file(path)
    loaded = load_named_model(model)  # checks the selection
    modules = list(getattr(loaded, "members", [loaded]))
    if content["format"] == COMMITTEE_FORMAT_NAME:
        every = content["members"]
        numbers = selection or list(range(1, len(every) + 1))
        members = [every[number - 1] for number in numbers]
        kind = f"a committee of {len(every)} models (energies averaged)"
        if selection:
            kind += f", of which members {_ranges(sorted(selection))} are described"
    else:
        members, numbers, kind = [content], [1], "a single model"
    lines = [f"{path}: {kind}, written by potentials {content['package_version']} (model "
             f"file format {content['format_version']})"]
    lines += [f"E0 [eV]{where}: {e0s}"
              for where, e0s in _grouped(numbers, [_e0_text(m) for m in members])]
    lines.append(fixed_width_table(_member_rows(numbers, members, modules)))
    lines += [f"trained on{where}: {data}"
              for where, data in _grouped(numbers, [_training_data_text(m) for m in members])]
    return "\n".join(lines)


def _e0_text(member: dict) -> str:
    """Elements with their isolated-atom energies, e.g. "H -13.5684, C -1025.2771"."""
    statistics = member["statistics"]
    return ", ".join(f"{chemical_symbols[z]} {e0:.4f}" for z, e0 in
                     zip(statistics["atomic_numbers"], statistics["e0s_ev"], strict=True))


def _training_config(member: dict) -> dict:
    """The training config stored by ``potentials train`` ({} for models saved otherwise)."""
    return json.loads(member["metadata"].get("training_config", "{}"))


def _training_data_text(member: dict) -> str:
    """The training files and the hash of their content, or what is known of them."""
    files = _training_config(member).get("data", {}).get("train_files")
    digest = member.get("training_data_sha256") or ""
    text = ", ".join(files) if files else "not recorded"
    return f"{text} (sha256 {digest[:16]}…)" if digest else text


def _member_rows(numbers: list[int], members: list[dict], modules: list[torch.nn.Module]
                 ) -> list[list[str]]:
    rows = [["member", "layers", "channels", "l nodes/edges", "cutoff [Å]", "parameters",
             "stored as", "saved at epoch", "seed", "time budget", "started from"]]
    for number, member, module in zip(numbers, members, modules, strict=True):
        config, training = member["config"], _training_config(member)
        optim = training.get("optim", {})
        rows.append([
            str(number), str(config["num_layers"]), str(config["num_channels"]),
            f"{config['l_max']}/{config['l_max_edge']}", f"{config['cutoff_angstrom']:g}",
            f"{sum(p.numel() for p in module.parameters()):,}", member["dtype"],
            member["metadata"].get("epoch", "-"), str(training.get("seed", "-")),
            str(optim.get("max_time") or "-"),
            "-" if not training else str(training.get("init_from") or "random"),
        ])
    return rows


def _grouped(numbers: list[int], values: Sequence[Hashable]) -> list[tuple[str, Hashable]]:
    """Distinct values in order of first appearance, each with the numbers of the members
    holding it (" (members 1-4, 6)"), or with "" when every member holds the same value."""
    holders: dict[Hashable, list[int]] = {}
    for number, value in zip(numbers, values, strict=True):
        holders.setdefault(value, []).append(number)
    if len(holders) == 1:
        return [("", values[0])]
    return [(f" (members {_ranges(numbers)})", value) for value, numbers in holders.items()]


def _ranges(numbers: list[int]) -> str:
    """Ascending numbers as ranges: [1, 2, 3, 5] -> "1-3, 5"."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)
