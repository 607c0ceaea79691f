"""Indicator types: one module each (spec model, domain form, unit, measurement as dialect-neutral SQL, what it
reads, GX mapping, engines), listed once in registry.py. Below the spec: it imports nothing else of the service."""
