"""The provider accounts page (the accounts themselves are managed in admin)."""
