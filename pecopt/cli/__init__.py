"""The thin Typer command line."""
