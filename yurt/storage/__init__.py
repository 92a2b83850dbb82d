"""Storage behind small interfaces (``base``), each with an embedded and a Redis implementation."""
