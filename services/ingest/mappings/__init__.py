"""Built-in CSV mappings (NYC 311, LA 311) and the declarative TOML mapping for other exports."""
