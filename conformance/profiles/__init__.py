"""Provider profiles, loaded by name so the engine never imports provider knowledge."""

from __future__ import annotations

from importlib import import_module

from contracts.surfaces import SURFACES

from .base import Case, Expectation, Profile, Scenario

PROVIDERS = SURFACES


def load_profile(provider: str) -> Profile:
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; choose one of {', '.join(PROVIDERS)}")
    profile: Profile = import_module(f"{__name__}.{provider}").PROFILE
    return profile


__all__ = ["PROVIDERS", "Case", "Expectation", "Profile", "Scenario", "load_profile"]
