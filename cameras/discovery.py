"""WS-Discovery of our own: one UDP probe, lenient parsing of the answers.

The `WSDiscovery` package skips loopback and drops some replies, so we send the Probe ourselves.
Multicast (239.255.255.250:3702) is the standard; a unicast target probes one address.
"""

from __future__ import annotations

import logging
import re
import select
import socket
import time
import uuid
from urllib.parse import urlsplit

from sqlmodel import Session, col
from sqlmodel import select as sql_select

from cameras.models import Camera, DiscoveredDevice

logger = logging.getLogger(__name__)

MULTICAST = "239.255.255.250"
PORT = 3702
MAX_REPLIES = 1000

PROBE = ('<?xml version="1.0" encoding="UTF-8"?>'
         '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" '
         'xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
         'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
         'xmlns:dn="http://www.onvif.org/ver10/network/wsdl">'
         '<e:Header><w:MessageID>uuid:{id}</w:MessageID>'
         '<w:To e:mustUnderstand="true">urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To>'
         '<w:Action e:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</w:Action>'
         '</e:Header><e:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></e:Body>'
         '</e:Envelope>')


def _all(xml: str, name: str) -> list[str]:
    return [m.strip() for m in re.findall(
        rf"<(?:[\w.-]+:)?{name}\b[^>]*>(.*?)</(?:[\w.-]+:)?{name}>", xml, re.S)]


def parse_probe_match(xml: str, sender: str) -> DiscoveredDevice | None:
    """Read one ProbeMatch leniently (ipycam and some firmware put fields in non-standard places)."""
    if "ProbeMatch" not in xml:
        return None
    xaddrs = [x for block in _all(xml, "XAddrs") for x in block.split()]
    if not xaddrs:
        return None
    scopes = [x for block in _all(xml, "Scopes") for x in block.split()]
    address = next(iter(_all(xml, "Address")), "") or f"urn:host:{sender}"
    first = urlsplit(xaddrs[0])

    def scope(kind: str) -> str:
        from urllib.parse import unquote

        for s in scopes:
            if f"/{kind}/" in s:
                return unquote(s.rsplit("/", 1)[-1])
        return ""

    return DiscoveredDevice(address=address, host=first.hostname or sender, port=first.port or 80,
                            xaddrs=xaddrs, scopes=scopes, name=scope("name"), hardware=scope("hardware"))


def discover(*, timeout: float = 3.0, target: str = MULTICAST, port: int = PORT,
             interface_ip: str | None = None, session: Session | None = None) -> list[DiscoveredDevice]:
    """Probe for ONVIF devices; with a session, mark those already registered."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    found: dict[str, DiscoveredDevice] = {}
    try:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        if interface_ip:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface_ip))
        sock.bind((interface_ip or "", 0))
        message = PROBE.format(id=uuid.uuid4()).encode()
        # UDP may drop a datagram; a second probe costs nothing and answers are de-duplicated.
        sock.sendto(message, (target, port))
        sock.sendto(message, (target, port))
        ends = time.monotonic() + timeout
        for _ in range(MAX_REPLIES):
            left = ends - time.monotonic()
            if left <= 0:
                break
            ready, _w, _x = select.select([sock], [], [], left)
            if not ready:
                break
            data, (sender, _port) = sock.recvfrom(65535)
            device = parse_probe_match(data.decode("utf-8", "replace"), sender)
            if device is not None:
                found.setdefault(device.address, device)
    except OSError as exc:
        logger.warning("WS-Discovery probe to %s failed: %s", target, exc)
    finally:
        sock.close()
    devices = sorted(found.values(), key=lambda d: (d.host, d.port))
    if session is not None and devices:
        rows = session.exec(sql_select(Camera.id, Camera.host, Camera.port).where(
            col(Camera.host).in_([d.host for d in devices]))).all()
        known = {(h, p): i for i, h, p in rows}
        for d in devices:
            d.registered_camera_id = known.get((d.host, d.port))
    return devices
