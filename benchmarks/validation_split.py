"""Write the validation (or training) frames of a training config to an extended XYZ file.

Training splits its training files into training and validation frames with a seeded
permutation (`potentials.train.data_setup.pool_split`, seeded by ``data.split_seed``, else by
``seed``); this writes the same validation frames, in file order, so that any model, a
committee among them, can be measured on them with ``potentials evaluate``:

    python benchmarks/validation_split.py trained_models/acac/config.yaml -o acac_valid.xyz
    potentials evaluate acac_valid.xyz ../shared/data/acac/train_600K.xyz --model acac

With ``--training`` it writes the frames the model was trained on instead, to measure the gap
between training and validation errors of the same weights.

Only for configs without ``valid_files`` whose training files ASE reads (extended XYZ...).
"""

from __future__ import annotations

import argparse

import ase.io

from potentials.train.config import load_config
from potentials.train.data_setup import pool_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="training config (YAML)")
    parser.add_argument("-o", "--output", required=True, help="extended XYZ file to write")
    parser.add_argument("--training", action="store_true",
                        help="write the training frames instead of the validation frames")
    args = parser.parse_args()
    config = load_config(args.config)
    if config.data.valid_files:
        raise SystemExit(f"{args.config} names its validation files: {config.data.valid_files}")
    frames = [frame for path in config.data.train_files for frame in ase.io.read(path, ":")]
    train, valid = pool_split(len(frames), config.data, config.seed)
    chosen = train if args.training else valid
    ase.io.write(args.output, [frames[i] for i in chosen], format="extxyz")
    kind = "training" if args.training else "validation"
    print(f"wrote {len(chosen)} {kind} frames of {len(frames)} to {args.output}")


if __name__ == "__main__":
    main()
