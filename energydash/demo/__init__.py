"""Demo wiring: joins the provider sandbox to the product for `make run` and demos.

The one place allowed to import both energydash.sandbox and the product (it sits above the
console in the import contract); nothing imports it. It holds commands only.
"""
