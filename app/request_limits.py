"""Per-client request budgets (flask-limiter) on what one client could flood: ticket creation, messages, uploads,
upload bytes per hour, file downloads and receiver sign-ups. The code pages have their own budget on the whole `public` blueprint
(PUBLIC_RATE_LIMIT); failed sign-ins and PINs are counted per account, code and address by
`app.services.attempts` in the same store.

Every budget is keyed on the client's address as the trusted proxies tell it (`TRUSTED_PROXIES`, werkzeug's
ProxyFix), shared by the endpoints of one kind, and counted in RATELIMIT_STORAGE_URI (Redis when several
processes serve, see `app.config`). Over budget a client gets the 429 page ("Too many attempts"); the messenger's
outbox retries 429 by itself.
"""
from flask import current_app, request
from flask_limiter.util import get_remote_address

from app.extensions import limiter


def _config(key):
    """A limit string read from the app's config at request time (tests and deployments change it)."""
    return lambda: current_app.config[key]


def files_in_request():
    """How many files this request uploads (every non-empty file field); 0 for none."""
    return sum(1 for _field, storage in request.files.items(multi=True) if storage and storage.filename)


def _no_files():
    """Requests without files do not spend the upload budget."""
    return files_in_request() == 0


# One budget per kind, shared by its endpoints; made once, so creating several apps (tests) adds nothing twice.
TICKET_CREATION = limiter.shared_limit(
    _config("TICKET_CREATE_RATE_LIMIT"), "ticket-creation", key_func=get_remote_address, methods=["POST"],
    override_defaults=False,
)
MESSAGES = limiter.shared_limit(
    _config("MESSAGE_RATE_LIMIT"), "messages", key_func=get_remote_address, methods=["POST"], override_defaults=False
)
UPLOADS = limiter.shared_limit(
    _config("UPLOAD_RATE_LIMIT"), "uploads", key_func=get_remote_address, methods=["POST"],
    exempt_when=_no_files, cost=lambda: max(files_in_request(), 1), override_defaults=False,
)
UPLOAD_BYTES = limiter.shared_limit(
    _config("UPLOAD_BYTES_RATE_LIMIT"), "upload-bytes", key_func=get_remote_address, methods=["POST"],
    exempt_when=_no_files, cost=lambda: max(request.content_length or 0, 1), override_defaults=False,
)
DOWNLOADS = limiter.shared_limit(
    _config("DOWNLOAD_RATE_LIMIT"), "downloads", key_func=get_remote_address, methods=["GET"], override_defaults=False
)
RECEIVER_SIGNUPS = limiter.shared_limit(
    _config("RECEIVER_SIGNUP_RATE_LIMIT"), "receiver-signups", key_func=get_remote_address, methods=["POST"],
    override_defaults=False,
)

# Which endpoints spend which budgets.
BUDGETS = {
    "public.start_flow": (TICKET_CREATION,),
    "tickets.start": (TICKET_CREATION,),
    "messenger.post": (MESSAGES, UPLOADS, UPLOAD_BYTES),
    "messenger.voice": (MESSAGES, UPLOADS, UPLOAD_BYTES),
    "messenger.assistant_link": (MESSAGES,),
    "public.post_update": (UPLOADS, UPLOAD_BYTES),
    "tickets.post_update": (UPLOADS, UPLOAD_BYTES),
    "public.wizard_step": (UPLOADS, UPLOAD_BYTES),
    "tickets.draft_step": (UPLOADS, UPLOAD_BYTES),
    "files.download": (DOWNLOADS,),
    "files.thumb": (DOWNLOADS,),
    "notifications.receiver_email": (RECEIVER_SIGNUPS,),
    "notifications.receiver_push_subscribe": (RECEIVER_SIGNUPS,),
}


def register(app):
    """Put each endpoint of BUDGETS behind its budgets. Raises KeyError for an endpoint that no longer exists."""
    for endpoint, budgets in BUDGETS.items():
        view = app.view_functions[endpoint]
        for budget in budgets:
            view = budget(view)
        app.view_functions[endpoint] = view
