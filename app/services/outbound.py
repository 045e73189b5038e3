"""Where the server may send requests of its own (web push today, webhooks later): https URLs of public hosts.

A URL a browser or an administrator gives us must not make the server talk to itself or to the closed network
it runs in (server-side request forgery): `http://127.0.0.1:22/`, `https://10.0.0.5/`, a name that resolves to
a link-local metadata service. `check_public_url` resolves the host (socket.getaddrinfo) and asks the stdlib
`ipaddress` module about every address it gets; callers check when the URL is stored and again right before
each request (the name may resolve elsewhere by then), and do not follow redirects.

One setting allows private addresses and plain http for tests and closed networks, for web push and webhooks
alike: OUTBOUND_ALLOW_PRIVATE_ADDRESSES (`private_addresses_allowed`; its older name PUSH_ALLOW_PRIVATE_ENDPOINTS
still works).
"""
import ipaddress
import socket
from urllib.parse import urlsplit

from flask_babel import gettext as _

from app.services.errors import ValidationError

NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address


class HostNotFound(ValidationError):
    """The URL's host does not resolve (now): worth another try later when it was fine before."""


class SendError(Exception):
    """Sending a request of the server's own failed; `permanent` says whether a retry cannot help."""

    def __init__(self, message, permanent=False):
        super().__init__(message)
        self.permanent = permanent


def check_before_sending(check, url, error_class, what):
    """Check `url` again right before a request (`check(url)` raises ValidationError, or HostNotFound when the
    host does not resolve): a host not found now raises `error_class` ("<what> not reachable: ...", a retry may
    help), a refused address `error_class` ("<what> refused: ...") with permanent=True. `error_class` is a
    SendError."""
    try:
        check(url)
    except HostNotFound as error:
        raise error_class(f"{what} not reachable: {error.message}") from None
    except ValidationError as error:
        raise error_class(f"{what} refused: {error.message}", permanent=True) from None


def is_public_address(address):
    """Whether an IP address (text or ipaddress object) is a public unicast address of the internet.

    Refused: loopback, private (RFC 1918, unique local), shared (100.64/10), link-local, multicast, reserved,
    unspecified and documentation ranges (everything `ipaddress` does not call global), and IPv6 forms that
    carry such an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64)."""
    ip = address if isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address) else ipaddress.ip_address(address)
    if ip.version == 6:
        embedded = ip.ipv4_mapped or (ip.sixtofour if ip.sixtofour is not None else None)
        if embedded is None and ip.teredo is not None:
            embedded = ip.teredo[1]
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(embedded):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback)


def private_addresses_allowed(config=None):
    """Whether the settings allow http and private or loopback hosts (OUTBOUND_ALLOW_PRIVATE_ADDRESSES, or its
    older name PUSH_ALLOW_PRIVATE_ENDPOINTS); `config` defaults to the current app's."""
    if config is None:
        from flask import current_app

        config = current_app.config
    return bool(config.get("OUTBOUND_ALLOW_PRIVATE_ADDRESSES") or config.get("PUSH_ALLOW_PRIVATE_ENDPOINTS"))


def resolve(host, port):
    """Every IP address `host` resolves to (text, without IPv6 zone ids); socket.gaierror when it does not."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0].split("%", 1)[0] for info in infos})


def check_public_url(url, *, allow_private=False, field="url"):
    """Return None when `url` may be requested; raise ValidationError on `field` otherwise.

    Without `allow_private`: the scheme must be https, the URL must carry no user name or password, and every
    address the host resolves to must be public (`is_public_address`). With `allow_private` (tests, closed
    networks): http is allowed too and so are private and loopback addresses. Raises HostNotFound (a
    ValidationError) when the host does not resolve. Resolves the host through DNS: up to the resolver's timeout.
    """
    try:
        parts = urlsplit(str(url or ""))
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError(_("This is not a valid web address."), field=field) from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise ValidationError(_("The address must start with https:// and name a host."), field=field)
    if parts.username is not None or parts.password is not None:
        raise ValidationError(_("The address must not contain a user name or password."), field=field)
    try:
        addresses = resolve(parts.hostname, port)
    except (socket.gaierror, UnicodeError, OSError):
        raise HostNotFound(_("The host of this address could not be found."), field=field) from None
    if not addresses:
        raise HostNotFound(_("The host of this address could not be found."), field=field)
    if not allow_private and not all(is_public_address(address) for address in addresses):
        raise ValidationError(
            _("This address leads to a local or private network; only public internet addresses are allowed. In a "
              "closed network the server's operator can allow private addresses "
              "(setting FLASK_OUTBOUND_ALLOW_PRIVATE_ADDRESSES)."),
            field=field,
        )
