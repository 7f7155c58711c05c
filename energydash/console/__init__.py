"""The console: the staff pages' views, forms and URLs (the top layer; see README, Layout)."""
