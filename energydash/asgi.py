from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "energydash.settings")
application = get_asgi_application()

from energydash.core.startup import refuse_if_misconfigured  # noqa: E402

refuse_if_misconfigured()
