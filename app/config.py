"""Default settings: every one has a safe value; instance/config.py and FLASK_* variables override them."""

DEV_SECRET_KEY = "dev-only-secret-do-not-deploy"

SECRET_KEY = DEV_SECRET_KEY  # Refused outside debug and tests; `make run` writes a random one to instance/.
SQLALCHEMY_DATABASE_URI = "sqlite:///ticketwerk.sqlite"  # Relative SQLite paths land in instance/.
SQLALCHEMY_ENGINE_OPTIONS = {}  # Extra engine options; SQLite gets WAL and a busy timeout regardless.
SOCKETIO_MESSAGE_QUEUE = None  # e.g. redis://127.0.0.1:6379/0 when several app processes share sockets.
RATELIMIT_STORAGE_URI = "memory://"  # Use redis://… when several processes must share the counters.
RATELIMIT_HEADERS_ENABLED = True  # Tell clients how long to wait.
LOGIN_RATE_LIMIT = "5 per minute"  # Wrong passwords per address before a pause.
PIN_RATE_LIMIT = "5 per minute"  # Wrong PINs per address and code before a pause.
PUBLIC_RATE_LIMIT = "300 per minute"  # Requests per address on the public code pages.
PUBLIC_BASE_URL = None  # External URL for QR codes and e-mail links; falls back to the request's host.
VIDEO_BASE_URL = None  # e.g. https://meet.example.com/ for video sessions; the button hides without it.
UPLOAD_FOLDER = None  # Defaults to instance/uploads.
UPLOAD_LIMIT_MB = 25  # Largest single upload.
MAX_FILES_PER_MESSAGE = 10  # Files one message, update or wizard media answer may hold.
MAX_IMAGE_PIXELS = 25_000_000  # Largest image (width × height) decoded: ~110 MB of memory at most, a HEIC ~140 MB.
MAX_CONTENT_LENGTH = 110 * 1024 * 1024  # Hard cap for a whole request (several files).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False  # True behind HTTPS (set FLASK_SESSION_COOKIE_SECURE=true).
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
CODE_USER_COOKIE = "tw_code_user"  # Signed cookie naming an anonymous code-user browser.
CODE_USER_COOKIE_DAYS = 365  # How long a phone stays recognised.
WTF_CSRF_TIME_LIMIT = None  # Tokens live as long as the session, so long forms do not expire.
BABEL_DEFAULT_LOCALE = "de"
LANGUAGES = ["de", "en"]
MAIL_SERVER = None  # SMTP host; e-mail channel is off without it.
MAIL_PORT = 25
MAIL_USERNAME = None
MAIL_PASSWORD = None
MAIL_USE_TLS = False
MAIL_DEFAULT_SENDER = "ticketwerk@localhost"
CODE_USER_LINK_DAYS = 30  # How long the signed ticket link in a code user's e-mail works.
VAPID_SUBJECT = "mailto:admin@localhost"  # Contact for push services.
NOTIFICATION_DISPATCHER_THREAD = True  # Send the outbox from a thread of the web process (off with a separate dispatcher).
DISPATCH_INTERVAL_SECONDS = 1.0  # How often the dispatcher looks for due deliveries.
DELIVERY_MAX_ATTEMPTS = 8  # Attempts before a delivery is marked failed for good.
OVERVIEW_PAGE_SIZE = 50  # Tickets per overview page.

# Responses are compressed by the app itself (Flask-Compress); only text that compresses well.
COMPRESS_MIMETYPES = [
    "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
    "application/manifest+json", "image/svg+xml",
]
MINIFY_STATIC = True  # our own .js and .css are sent minified (app/static_files.py); False sends the sources
COMPRESS_MIN_SIZE = 500  # bytes; smaller answers (htmx 204s, small fragments) are not worth a header
