"""Readers that turn user files into canonical, UTC-indexed series in kW, EUR/kWh and kg/kWh."""
