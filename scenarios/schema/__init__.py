"""The JSON Schema of scenario files (scenario.schema.json)."""
