"""gunicorn settings for energydash: `gunicorn -c gunicorn.conf.py energydash.wsgi`.

Everything an operator tunes comes from the environment (defaults in brackets):
  GUNICORN_BIND        [127.0.0.1:8000]  address:port, behind the TLS proxy
  WEB_WORKERS          [2 x CPUs + 1]    processes per host
  WEB_THREADS          [4]               threads per process (gthread worker)
  GUNICORN_TIMEOUT     [300]             seconds, see below
  GUNICORN_GRACEFUL_TIMEOUT [60]         seconds a stopping worker may finish requests
  GUNICORN_ACCESS_LOG  [-]               access log path, "-" for stdout (journald)
  GUNICORN_LOG_LEVEL   [info]

Timeout: with the gthread worker, `timeout` is the worker heartbeat, not a per-request limit:
the worker's main loop keeps reporting while a request thread streams, so a long CSV export
(streamed in chunks) is not cut off. 300 s is chosen so that even with the sync worker class
(one request per process, where `timeout` does bound the request) a full export of a large
order history finishes, while a truly stuck process is still replaced within five minutes.
Other requests are bounded far below that by their own timeouts (provider calls: 5-20 s).
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None


wsgi_app = "energydash.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1)
threads = _int("WEB_THREADS", 4)
worker_class = "gthread"
timeout = _int("GUNICORN_TIMEOUT", 300)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 60)
keepalive = 5
# Load the app once in the master: a failed start-up check (energydash.E00x) stops gunicorn
# with its message instead of a loop of crashing workers.
preload_app = True
# Recycle workers now and then so slow leaks cannot grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = 200
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Request line, status, size, time in microseconds, user agent; no cookies, no headers.
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(D)sus "%(a)s"'
# Only the local TLS proxy may set X-Forwarded-* (Django reads X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "energydash-web"
# gunicorn's control socket (for `gunicornc`) defaults to one path per user in $HOME, so two
# instances on a host would collide; off unless GUNICORN_CONTROL_SOCKET names a path.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]


def child_exit(server: object, worker: object) -> None:
    """prometheus-client multiprocess mode (README "Monitoring"): a finished worker's live
    gauges are dropped; its counters stay in PROMETHEUS_MULTIPROC_DIR and keep counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
