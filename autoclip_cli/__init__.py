"""The ``autoclip`` command line: ``autoclip demo`` and ``autoclip render``."""
