"""Workflows: the only modules that know the whole sequence."""
