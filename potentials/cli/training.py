"""``potentials train`` and ``potentials evaluate``."""

from __future__ import annotations

import argparse

from potentials.cli.options import (
    MODEL_HELP,
    POSITIVE_INT,
    add_dtype_and_device_options,
    add_label_keys,
    number_type,
    read_options,
)


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="fit a potential to HDF5/extxyz reference data",
        description="Train an equivariant potential as described by a YAML config (every "
        "option and its default: docs/training.md). Launch with torchrun for data-parallel "
        "training on several processes or GPUs.")
    parser.add_argument("config", metavar="CONFIG.yaml", help="training configuration")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        dest="overrides", help="override a config key, e.g. optim.lr=0.005")
    parser.add_argument("--resume", action="store_true",
                        help="continue from OUTPUT_DIR/checkpoint.pt of a killed run")
    parser.add_argument("--no-progress", action="store_true",
                        help="no per-batch progress bar, only one line per epoch (for the log "
                        "file of a run in the background)")
    parser.set_defaults(func=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    from potentials.train.config import load_config
    from potentials.train.trainer import Trainer

    config = load_config(args.config, args.overrides)
    trainer = Trainer(config, resume=args.resume, show_progress=not args.no_progress)
    try:
        model_path = trainer.run()
    finally:  # a process group left to the interpreter's exit can abort it (SIGABRT)
        trainer.context.close()
    if trainer.context.is_main:
        print(f"model written to {model_path}")
    return 0


def _add_evaluate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="error metrics of a model on labelled data",
        description="Energy, force and stress MAE/RMSE of a model on each data file (HDF5 or "
        "anything ASE reads), per config_type when a file has several, force MAE/RMSE per "
        "element, and parity plots (forces coloured by element).")
    parser.add_argument("data", nargs="+", metavar="DATA", help="labelled data files")
    parser.add_argument("--model", default="acac", help=MODEL_HELP)
    parser.add_argument("--batch-size", type=POSITIVE_INT, default=16,
                        help="frames per evaluation batch (default %(default)s)")
    parser.add_argument("--worst", type=number_type(int, 0, inclusive=True), default=0,
                        metavar="N", help="also list the N frames with the largest per-atom "
                        "force error (file, frame from 0, |ΔE| per atom, largest |ΔF|)")
    add_dtype_and_device_options(parser)
    parser.add_argument("--plots", default=".", metavar="DIR",
                        help="directory for parity plots parity_STEM.png (default: current)")
    parser.add_argument("--json", metavar="FILE.json", help="also write every metric (per "
                        "file, config_type and element; meV, meV/atom, meV/Å, meV/Å³, as "
                        "the keys name) to this file")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing parity plots and JSON file")
    parser.add_argument("--cache-dir", default="~/.cache/potentials/converted",
                        help="where non-HDF5 inputs are converted to (default %(default)s)")
    add_label_keys(parser)
    parser.set_defaults(func=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    import json

    from potentials.atomic_write import open_atomically
    from potentials.data.output import prepare_output
    from potentials.train.evaluate import (
        config_type_table,
        element_table,
        evaluate_model,
        evaluations_record,
        format_table,
        parity_plot_path,
        save_parity_plots,
        worst_frames_table,
    )

    for path in args.data:
        prepare_output(parity_plot_path(args.plots, path), args.overwrite)
    if args.json is not None:
        prepare_output(args.json, args.overwrite)
    evaluations = evaluate_model(args.model, args.data, args.batch_size, args.dtype,
                                 args.device, args.cache_dir, options=read_options(args))
    print(format_table(evaluations))
    for title, table in (("errors per config_type", config_type_table(evaluations)),
                         ("force errors per element", element_table(evaluations))):
        if table:
            print(f"\n{title}:\n{table}")
    if args.worst:
        print(f"\nthe {args.worst} frames with the largest force errors:")
        print(worst_frames_table(evaluations, args.worst))
    for path in save_parity_plots(evaluations, args.plots):
        print(f"parity plot: {path}")
    if args.json is not None:
        with open_atomically(args.json) as stream:
            json.dump(evaluations_record(evaluations, args.model), stream, indent=1)
        print(f"metrics: {args.json}")
    return 0
