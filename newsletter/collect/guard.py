"""The address guard for pages a person asks us to fetch (add by URL): only http(s), and
never loopback, private, link-local or otherwise non-public addresses unless allowed. Every
address is checked when the host is resolved and again for each redirect hop, at the
transport, just before connecting. (A DNS-rebinding window remains between our resolve and
httpx's; documented in the README.)"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

from ..errors import RefusedAddress


def _non_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


async def check_address(url: str, allow_private: bool) -> None:
    """Refuse anything but http(s) to public addresses (all of a host's addresses are checked)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise RefusedAddress(f"only http(s) URLs can be added, not {parts.scheme or 'a bare'}: {url[:200]}")
    host = parts.hostname
    if not host:
        raise RefusedAddress(f"no host in {url[:200]}")
    if allow_private:
        return
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as e:
            raise RefusedAddress(f"cannot resolve {host}: {e}") from e
        addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    refused = sorted(str(a) for a in addresses if _non_public(a))
    if refused:
        raise RefusedAddress(f"{host} is a loopback, private or link-local address ({', '.join(refused)}); "
                             "the editor only fetches public pages")


class GuardedTransport(httpx.AsyncHTTPTransport):
    """Checks the address of every request, redirects included, before connecting."""

    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self.allow_private = allow_private

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await check_address(str(request.url), self.allow_private)
        return await super().handle_async_request(request)
