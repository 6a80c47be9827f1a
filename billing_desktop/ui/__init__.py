"""Qt widgets, models and wizards. Calls services only."""
