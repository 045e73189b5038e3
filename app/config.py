"""Default settings: every one has a safe value; instance/config.py and FLASK_* variables override them."""

DEV_SECRET_KEY = "dev-only-secret-do-not-deploy"

SECRET_KEY = DEV_SECRET_KEY  # Refused outside debug and tests; `make run` writes a random one to instance/.
SQLALCHEMY_DATABASE_URI = "sqlite:///ticketwerk.sqlite"  # Relative SQLite paths land in instance/.
SQLALCHEMY_ENGINE_OPTIONS = {}  # Extra engine options; SQLite gets WAL and a busy timeout regardless.
SQLALCHEMY_QUERY_CACHE_SIZE = 200  # Compiled statements kept (about 23 KB each; SQLAlchemy's default of 500 ≈ 11 MB).
DATABASE_POOL_SIZE = 4  # Database connections per app process; further requests wait for one to come free …
DATABASE_POOL_TIMEOUT_SECONDS = 30  # … this long (SQLAlchemy's default), then 503 "busy" with Retry-After, unchanged.
SOCKETIO_MESSAGE_QUEUE = None  # e.g. redis://127.0.0.1:6379/0 when several app processes share sockets.
SOCKETIO_CORS_ORIGINS = []  # Further origins that may open sockets; the socket's own host and PUBLIC_BASE_URL always may.
SOCKET_CONNECTIONS_PER_ADDRESS = 50  # Open sockets per client address and process (an office behind one NAT shares it).
SOCKET_EVENT_LIMIT = 30  # Events one socket may send per SOCKET_EVENT_WINDOW_SECONDS; more are refused.
SOCKET_EVENT_WINDOW_SECONDS = 10
SOCKET_REFUSALS_BEFORE_DISCONNECT = 30  # Refused events after which a flooding socket is disconnected.
SOCKETIO_CHANNEL = "flask-socketio"  # The queue's channel; installations sharing one Redis need one each.
RATELIMIT_STORAGE_URI = "memory://"  # redis://… shares counters; with a Redis SOCKETIO_MESSAGE_QUEUE that is used.
RATELIMIT_HEADERS_ENABLED = True  # Tell clients how long to wait.
LOGIN_FREE_FAILURES = 5  # Wrong passwords or second-factor codes per account before it must wait.
LOGIN_FIRST_DELAY_SECONDS = 30  # The account's first wait; it doubles with each further failure …
LOGIN_MAX_DELAY_SECONDS = 900  # … up to 15 minutes. A complete sign-in forgets the account's failures.
LOGIN_ADDRESS_RATE_LIMIT = "30 per 10 minutes"  # Failed sign-ins per client address, whatever the accounts.
FAILURES_FORGOTTEN_HOURS = 24  # Failures in a row (sign-ins, PINs) are forgotten this long after the first.
PASSWORD_RESET_RATE_LIMIT = "10 per hour"  # Password reset requests per address.
PASSWORD_RESET_MINUTES = 60  # How long the link in a password reset e-mail works (once).
PIN_FREE_FAILURES = 5  # Wrong PINs per code and client address before that client must wait.
PIN_FIRST_DELAY_SECONDS = 30  # The first wait; it doubles with each further wrong PIN …
PIN_MAX_DELAY_SECONDS = 900  # … up to 15 minutes. The right PIN forgets the client's failures on the code.
PIN_CODE_RATE_LIMIT = "100 per hour"  # Wrong PINs per code from all clients together (many addresses at once).
PUBLIC_RATE_LIMIT = "300 per minute"  # Requests per address on the public code pages.
TICKET_CREATE_RATE_LIMIT = "30 per 10 minutes"  # New tickets and drafts per address (code users and staff).
MESSAGE_RATE_LIMIT = "120 per minute"  # Messages posted over HTTP per address.
UPLOAD_RATE_LIMIT = "60 per minute"  # Files uploaded per address (a request with 5 files counts 5).
UPLOAD_BYTES_RATE_LIMIT = "2000000000 per hour"  # Bytes uploaded per address (2 GB: a day's photos of a busy site).
DOWNLOAD_RATE_LIMIT = "1200 per minute"  # Files and thumbnails fetched per address (a thread shows many).
RECEIVER_SIGNUP_RATE_LIMIT = "20 per hour"  # Code users' e-mail or push sign-ups per address (each may send mail).
TRUSTED_PROXIES = 0  # Proxies in front that set X-Forwarded-For/-Proto/-Host (Caddy or nginx: 1); 0 trusts none.
PUBLIC_BASE_URL = None  # External URL for QR codes and e-mail links; falls back to the request's host.
VIDEO_BASE_URL = None  # e.g. https://meet.example.com/ for video sessions; the button hides without it.
UPLOAD_FOLDER = None  # Defaults to instance/uploads.
TEMPLATE_CACHE_FOLDER = None  # Compiled templates; defaults to instance/template-cache, "" turns the cache off.
UPLOAD_LIMIT_MB = 25  # Largest single upload.
MAX_FILES_PER_MESSAGE = 10  # Files one message, update or wizard media answer may hold.
MAX_IMAGE_PIXELS = 25_000_000  # Largest image (width × height) decoded: ~110 MB of memory at most, a HEIC ~140 MB.
MAX_CONTENT_LENGTH = 110 * 1024 * 1024  # Hard cap for a whole request (several files).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False  # True behind HTTPS (set FLASK_SESSION_COOKIE_SECURE=true).
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_DURATION = 14 * 24 * 3600  # seconds a "Stay logged in" cookie lasts (Flask-Login), 14 days.
SESSION_IDLE_MINUTES = 480  # A sign-in unused this long ends (8 h); "Stay logged in" signs the browser in again.
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
RECEIVER_EMAIL_CONFIRMATION_HOURS = 72  # How long the link confirming a code user's e-mail address works.
VAPID_SUBJECT = "mailto:admin@localhost"  # Contact for push services.
OUTBOUND_ALLOW_PRIVATE_ADDRESSES = False  # True lets web-push and webhook endpoints be http or on private/loopback hosts (tests, closed networks).
PUSH_ALLOW_PRIVATE_ENDPOINTS = False  # The older name of OUTBOUND_ALLOW_PRIVATE_ADDRESSES; True does the same.
WEBHOOK_TIMEOUT_SECONDS = 10  # How long one webhook request may take (connecting and answering) before it counts as failed.
NOTIFICATION_DISPATCHER_THREAD = True  # Send the outbox from a thread of the web process (off with a separate dispatcher).
DISPATCH_INTERVAL_SECONDS = 1.0  # How often the dispatcher looks for due deliveries.
SLA_CHECK_SECONDS = 60  # How often the dispatcher looks for service-level targets 80 % used or missed.
DELIVERY_MAX_ATTEMPTS = 8  # Attempts before a delivery is marked failed for good.
OVERVIEW_PAGE_SIZE = 50  # Tickets per overview page.
IMPORT_MAX_BYTES = 10 * 1024 * 1024  # Largest device import file (CSV or XLSX), in bytes.
IMPORT_MAX_ROWS = 10_000  # Rows one device import may have below its header.
IMPORT_KEEP_MINUTES = 60  # How long an uploaded import waits for its confirmation after the preview.
IMPORT_FOLDER = None  # Where uploads wait for their confirmation; defaults to instance/imports.
EXPORT_BATCH_SIZE = 1000  # Tickets read per query while an export streams (keyset batches keep memory flat).

# Responses are compressed by the app itself (Flask-Compress); only text that compresses well.
COMPRESS_MIMETYPES = [
    "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
    "application/manifest+json", "image/svg+xml",
]
MINIFY_STATIC = True  # our own .js and .css are sent minified (app/static_files.py); False sends the sources
COMPRESS_MIN_SIZE = 500  # bytes; smaller answers (htmx 204s, small fragments) are not worth a header
