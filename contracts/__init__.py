"""JSON Schema contracts shared by the emulator and the conformance harness."""

from ._loader import Contract, Validator, Violation, load, pointer
from ._text import fill

__all__ = ["Contract", "Validator", "Violation", "fill", "load", "pointer"]
