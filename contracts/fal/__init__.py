"""fal's queue and direct APIs for the Seedream 4.0 and 4.5 apps: request schemas, replies, rules."""
