"""The seeds the emulator draws itself, when a request gives none, and wraps a given one into where the provider
states no range (fal): 32-bit, as every picture's evidence records them. One place, for the surfaces and the harness."""

DRAWN_SPACE = 2**32
