"""Jiedao (街道): the platform on which a street office runs its daily governance."""

__version__ = "0.1.0"
