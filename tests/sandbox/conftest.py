from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.testcases import LiveServerThread, _StaticFilesHandler

from energydash.lib.tron import SUN_PER_TRX
from energydash.sandbox import faults
from energydash.sandbox.models import SandboxAccount


@pytest.fixture(autouse=True)
def _sandbox_on(settings):
    settings.ENERGYDASH_SANDBOX = True
    settings.ROOT_URLCONF = "tests.sandbox.urls"
    yield
    faults.set_random_source(None)


@pytest.fixture
def wsgi_app(db) -> Iterator[WSGIHandler]:
    """The project as a WSGI app in this thread, inside the test's transaction.

    Like Django's test client, keep request signals from closing the test's connection.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def http(wsgi_app) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=httpx.WSGITransport(app=wsgi_app), base_url="http://testserver"
    ) as c:
        yield c


def _box(provider: str, name: str, key: str, secret: str, **extra) -> SandboxAccount:
    return SandboxAccount.objects.create(
        provider=provider,
        name=name,
        api_key=key,
        api_secret=secret,
        balance_sun=100 * SUN_PER_TRX,
        delegation_delay_seconds=6,
        hang_seconds=0.2,
        **extra,
    )


@pytest.fixture
def itrx_box(db) -> SandboxAccount:
    return _box("itrx", "box itrx", "ITRXKEY0000000000000000000000001", "itrx-secret-1")


@pytest.fixture
def tronzap_box(db) -> SandboxAccount:
    return _box("tronzap", "box tronzap", "tz-token-1", "tz-secret-1")


@pytest.fixture
def netts_box(db) -> SandboxAccount:
    return _box("netts", "box netts", "n" * 32, "", whitelist_ips="127.0.0.1, 203.0.113.7")


class _OneAtATime:
    """SQLite's shared-cache in-memory test database answers "table is locked" to a second
    writer instead of making it wait as a real SQLite file does (WAL, busy timeout); so on
    SQLite requests take turns, which is what the production file database does to writers."""

    def __init__(self, app) -> None:
        self.app, self.lock = app, threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


class _Counted:
    """Counts the requests being handled, so teardown can wait until every one has finished
    (a held "lost" response included) instead of leaving it writing into the next test."""

    def __init__(self, app) -> None:
        self.app, self.active, self.changed = app, 0, threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            self.active += 1
        try:
            return list(self.app(environ, start_response))
        finally:
            with self.changed:
                self.active -= 1
                self.changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.active == 0, timeout=timeout)


class _JoinedServer(ThreadedWSGIServer):
    """Remembers its request threads and their sockets so server_close() can join them all:
    idle keep-alive connections are shut down first, since their threads would otherwise wait
    for a client that may never speak again."""

    block_on_close = True  # server_close() joins every request thread

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()

    def process_request(self, request, client_address):
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        with self.sockets_lock:
            lingering = list(self.open_sockets)
        for sock in lingering:
            with contextlib.suppress(OSError):  # already closed by its handler
                sock.shutdown(socket.SHUT_RDWR)
        super().server_close()


class _JoinedLiveServerThread(LiveServerThread):
    server_class = _JoinedServer


@pytest.fixture
def live_sandbox(transactional_db) -> Iterator[str]:
    """A real threaded HTTP server for this test only (started after the settings overrides,
    unlike pytest-django's session-wide live_server); yields its base URL.

    Request threads open their own database connections, so on PostgreSQL concurrent requests
    really race for the same rows. Teardown waits for requests still being handled, then stops
    the server and joins its threads: nothing of one test runs on into the next.
    """
    in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()
    counted: list[_Counted] = []

    def handler(app):
        inner = _OneAtATime(_StaticFilesHandler(app)) if in_memory else _StaticFilesHandler(app)
        counted.append(_Counted(inner))
        return counted[-1]

    thread = _JoinedLiveServerThread("127.0.0.1", handler)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        idle = all(c.wait_idle(timeout=60) for c in counted)
        thread.terminate()
        assert idle, "the live sandbox was still handling a request 60 s after the test"
