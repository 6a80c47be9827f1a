"""Guided walkthroughs for trainers: the Guide panel of a demo database (issue 7 item 3)."""

from billing_desktop.ui.guide.panel import GuidePanel, install_guide

__all__ = ["GuidePanel", "install_guide"]
