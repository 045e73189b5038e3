"""Language choice: an explicit switch, the employee's setting, else the browser."""
from flask import current_app, g, has_request_context, request, session
from flask_login import current_user


def select_locale():
    """Pick de or en for this request (the default outside requests, unless a caller forced one); an API request's
    Accept-Language comes first."""
    languages = current_app.config["LANGUAGES"]
    forced = g.get("forced_locale") if g else None
    if forced in languages:
        return forced
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/") and request.headers.get("Accept-Language"):
        # API clients say what they read; without the header the token's employee's language applies.
        best = request.accept_languages.best_match(languages)
        if best:
            return best
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
