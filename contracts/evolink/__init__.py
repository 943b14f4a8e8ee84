"""EvoLink contract: JSON Schema documents, rules.json and the cross-field rules that read it."""
