"""Replicate (`bytedance/seedream-4`) contract: request and response schemas, cross-field rules."""
