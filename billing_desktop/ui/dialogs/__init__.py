"""Dialogs opened from the account tabs and wizards (one module per dialog)."""
