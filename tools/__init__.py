"""Command-line tools, each run as ``python -m tools.<name>``, over the service's own pipeline."""
