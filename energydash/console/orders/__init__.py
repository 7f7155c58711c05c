"""The orders pages: list (filters, search, keyset pages), new order, quotes, best price,
confirm and place, detail and review; and the itrx callback endpoint."""
