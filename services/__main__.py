"""``python -m services`` is the ``servicetrace`` command."""

from services.cli import main

main()
