"""The money pages: dashboard, charts, balance refresh, alerts, ledger and CSV exports."""
