"""Emission targets for `pim_isa` programs: `-t pim-asm` (asm.py) and `-t pim-json` (json.py)."""
