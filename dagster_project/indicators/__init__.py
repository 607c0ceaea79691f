"""Indicator types: one module each (domain form, unit, measurement as dialect-neutral SQL, what it reads, GX mapping,
engines) and its spec model in models/ (pydantic, loaded at first use), listed once in registry.py. Below the spec:
it imports nothing else of the service."""
