"""``python main.py`` does what ``billing-desktop`` does."""

import sys

from billing_desktop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
