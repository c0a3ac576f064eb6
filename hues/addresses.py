"""The client address: one definition of who is asking, for every limit that counts clients
(the API's throttles, the SMS limits, the login limits and django-axes).

A request's address is the socket's (REMOTE_ADDR) unless that socket is a proxy the operator
trusts (TRUSTED_PROXIES: addresses or networks, and `unix` for a peer on a unix socket, whose
REMOTE_ADDR is empty). Only then is X-Forwarded-For read, from its right end, which the
trusted proxy wrote: each entry that is itself a trusted proxy passes the question one hop to
the left; the first one that is not is the client. Whatever a client writes into the header
itself stays to the left of what its proxy appended, so it is never reached. An entry that is
not an address (`not-an-ip`, an empty one) ends the walk: the last address known stands.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# What the limits count a request under when no address is known at all (a unix-socket peer
# that is not trusted): one client, never a crash.
UNKNOWN_CLIENT = "0.0.0.0"  # noqa: S104  # an address value, not a bind
UNIX_SOCKET = "unix"


class TrustedProxiesInvalid(ValueError):
    """A TRUSTED_PROXIES entry that is neither an address, a network nor `unix`."""


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[IPNetwork, ...]
    unix_socket: bool

    def trust(self, address: IPAddress | None) -> bool:
        """Whether a hop with this address (None: a unix-socket peer) is a trusted proxy."""
        if address is None:
            return self.unix_socket
        return any(address in network for network in self.networks)


def parse_trusted_proxies(entries: Iterable[str]) -> TrustedProxies:
    """`127.0.0.1`, `10.0.0.0/8`, `::1`, `unix` -> TrustedProxies; anything else raises
    TrustedProxiesInvalid naming the entry."""
    networks: list[IPNetwork] = []
    unix_socket = False
    for entry in entries:
        text = entry.strip()
        if text.lower() == UNIX_SOCKET:
            unix_socket = True
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as error:
            raise TrustedProxiesInvalid(
                f"{text!r} is neither an address (10.0.0.5), a network (10.0.0.0/8) nor "
                f"{UNIX_SOCKET!r}"
            ) from error
    return TrustedProxies(tuple(networks), unix_socket)


@lru_cache(maxsize=8)
def _trusted(entries: tuple[str, ...]) -> TrustedProxies:
    return parse_trusted_proxies(entries)


def trusted_proxies() -> TrustedProxies:
    """The proxies of the settings (parsed once per value: tests change them)."""
    return _trusted(tuple(settings.TRUSTED_PROXIES))


def parse_address(text: str) -> IPAddress | None:
    """An address as a proxy writes it (`203.0.113.5`, `2001:db8::1`, `[2001:db8::1]`), an
    IPv4-mapped IPv6 address as its IPv4 address; None for anything else."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(request: HttpRequest) -> str:
    """The address of the client who sent `request` (see the module): always a valid IP
    address, as text. django-axes reads it too (AXES_CLIENT_IP_CALLABLE)."""
    meta = request.META
    proxies = trusted_proxies()
    remote = str(meta.get("REMOTE_ADDR") or "")
    hop = parse_address(remote) if remote else None
    if remote and hop is None:
        return UNKNOWN_CLIENT  # a socket address that is no address: trust nothing
    client: IPAddress | None = hop
    if proxies.trust(hop):
        for entry in reversed(str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")):
            forwarded = parse_address(entry)
            if forwarded is None:
                break
            client = forwarded
            if not proxies.trust(forwarded):
                break
    return str(client) if client is not None else UNKNOWN_CLIENT
