"""JSON Schema contracts shared by the emulator and the conformance harness."""

from ._loader import Contract, Validator, Violation, load, pointer

__all__ = ["Contract", "Validator", "Violation", "load", "pointer"]
