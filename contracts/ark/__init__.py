"""BytePlus ModelArk / Volcengine Ark image generation (Seedream 4.0 and 4.5): schemas and cross-field rules."""
