"""Command-line interface: parse, call a service, render. One module per command group."""
