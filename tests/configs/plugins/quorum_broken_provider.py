"""A third-party provider kind whose SDK is missing: importing it fails."""

raise ImportError("the broken-sdk client library is not installed")
