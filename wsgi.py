"""Entry point: `gunicorn -w 1 --threads 100 wsgi:app` in production, `python wsgi.py` to serve with Socket.IO."""
import gc
import os
import signal
import sys
import threading

# Building the app allocates objects by the hundred thousand that all live as long as the process. The collector's
# automatic passes over them during the imports took about 160 ms of CPU, and one more pass afterwards another
# 60-150 ms, for about 3,000 objects of garbage in cycles (0.5 MiB, no visible change in RSS). So it stays off
# until the app is built, as the gc module's documentation advises for long-lived heaps (gc.freeze).
gc.disable()

from app import create_app
from app.extensions import socketio

app = create_app()
# Modules, templates and mappers live as long as the process: keep them out of the garbage collector's full
# passes, which otherwise walk them all every few requests (tens of ms each at the overview's p95).
gc.freeze()
gc.enable()

SHUTDOWN_GRACE_SECONDS = 5


def _stop(signum, frame):
    """Leave the serve loop on SIGTERM so the process ends with status 0, like after Ctrl-C."""
    # A worker thread stuck in a long request must not keep the process alive past the grace period.
    watchdog = threading.Timer(SHUTDOWN_GRACE_SECONDS, os._exit, args=(0,))
    watchdog.daemon = True
    watchdog.start()
    sys.exit(0)


def main():
    """Serve on HOST:PORT (default 127.0.0.1:5000) with the development server and Socket.IO."""
    signal.signal(signal.SIGTERM, _stop)
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
