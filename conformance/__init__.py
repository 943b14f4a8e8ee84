"""Client conformance harness: drives a client against the emulator and gives a verdict."""
