"""Collectors: one module per source kind, each a fetch step and a pure parse step."""
