"""The bulk-order pages: paste or upload, check, plan, confirm, watch, download."""
