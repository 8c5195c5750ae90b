"""The ballot package's commands: ``veche election`` (``admin``, the administrator's
side, on the local data directory) and ``veche vote`` (``vote``, the voter's side,
against a server's HTTP API). The composition root (``veche.cli``) registers them."""
