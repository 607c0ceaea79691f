"""Schema names of the built tables (the product schema is part of the public contract)."""

STAGING_SCHEMA = "staging"
PRODUCT_SCHEMA = "product_affinity"
