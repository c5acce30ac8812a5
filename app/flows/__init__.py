"""Qt-free use cases that compose the fingerprint engine and the registry client."""
