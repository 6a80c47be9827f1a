"""The checkout and cancellation wizards (issue 5; seed articles 000–004).

Shared pieces (style, base page with an inline error, facts form, guarded
final action) live in :mod:`billing_desktop.ui.wizards.common`.
"""
