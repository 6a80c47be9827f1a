"""The account page and its tabs (SPEC §4 "Account")."""
