"""Local HTTP servers that speak third-party APIs, failures included, for tests without a network."""
