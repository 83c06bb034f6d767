"""Cassettes: real exchanges recorded by the proxy (``--record DIR``) and answered again offline
(``--backend replay --cassettes DIR``). One human-readable JSON file per exchange."""
