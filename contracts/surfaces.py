"""The API surfaces this project knows, in the order they are listed everywhere: the one place a surface registers."""

SURFACES = ("runware", "wiro", "evolink", "replicate", "ark", "fal")
