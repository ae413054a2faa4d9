"""MD and relaxation runners behind ``potentials md`` and ``potentials relax``."""
