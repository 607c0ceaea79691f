"""Each indicator type's spec model (pydantic: what a YAML file may say), one module per type named after it,
defining `MODEL`; reached through `Definition.model` (indicators/base.py), which imports the module at first use, so
that the domain forms, the registry and the evaluation load no pydantic."""
