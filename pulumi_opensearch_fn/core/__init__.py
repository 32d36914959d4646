"""What every door shares: identity, settings, clients, reads, expectations and their
thresholds, verdicts and the output shape. Free of Pulumi and of the doors above it
(the Python door, the provider plugin, the command line); the HTTP client (`api`) is
below it. `tests/unit/test_layout.py` keeps it so."""
