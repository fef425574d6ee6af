"""Collect, curate, render and send a Korean daily AI newsletter."""

__version__ = "0.1.0"
