"""The app served for real on a free loopback port, in a background thread (HTTP and Socket.IO over WebSocket),
for the browser tests and the schemathesis run against the API."""
import threading

from werkzeug.serving import make_server


class LiveServer:
    """`app` on a free loopback port; `url` is its base address ("http://127.0.0.1:<port>")."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        """Serve in a background thread; returns the server."""
        self.thread.start()
        return self

    def stop(self):
        """Stop serving (waits up to 5 s for the thread)."""
        self.server.shutdown()
        self.thread.join(timeout=5)
