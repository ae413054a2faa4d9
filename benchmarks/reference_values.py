"""Write trained_models/NAME/reference.json: the model's energy, forces (and stress) on its
shipped structure, in float64 on the CPU. `tests/test_shipped_models.py` checks every shipped
model against these values, so a change that alters a model's predictions is caught.

Usage: ``python benchmarks/reference_values.py NAME [NAME ...]``
"""

from __future__ import annotations

import argparse
import json

import ase.io

from potentials import EquiCalculator
from potentials.model.registry import resolve_model_path, shipped_structure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+")
    args = parser.parse_args()
    for name in args.names:
        path = resolve_model_path(name)
        atoms = ase.io.read(shipped_structure(path))
        atoms.calc = EquiCalculator(model=name, device="cpu", dtype="float64")
        values = {"energy_ev": atoms.get_potential_energy(),
                  "forces_ev_per_angstrom": atoms.get_forces().tolist()}
        if atoms.pbc.all():
            values["stress_ev_per_angstrom3"] = atoms.get_stress().tolist()
        (path.parent / "reference.json").write_text(json.dumps(values, indent=1) + "\n")
        print(f"{name}: E = {values['energy_ev']:.6f} eV written to {path.parent}")


if __name__ == "__main__":
    main()
