"""The whatif commands, registered on the ``servicetrace`` group by :mod:`services.cli`."""

from __future__ import annotations

import click

__all__ = ["register"]


def register(cli: click.Group) -> None:
    """Add this module's commands to ``cli``."""
