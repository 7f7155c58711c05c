from tests.api.conftest import _sandbox_urls, http  # noqa: F401  (shared fixtures)
from tests.sandbox.conftest import live_sandbox, wsgi_app  # noqa: F401  (shared fixtures)
