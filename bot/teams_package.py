"""`python -m bot teams-package`: the zip a Teams admin uploads (manifest and the two icons)."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from bot import __version__

# 1.25 is the first manifest schema with supportsChannelFeatures, which Teams requires from 1.25 on for
# an app with the team scope, and which Microsoft's guidance names for shared and private channels.
MANIFEST_VERSION = "1.25"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Teams: "the version string must follow the semver standard (MAJOR.MINOR.PATCH)", at most 256 characters.
APP_VERSION = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
ACCENT = (0x1D, 0x4F, 0x91)
COMMANDS = [
    ("help", "What I can do for you"),
    ("next gis meeting", "When and where a group meets next"),
    ("my meetings", "Your groups' meetings"),
    ("events", "Business transformation events"),
    ("my events", "The events you're registered for"),
    ("idea", "Submit a business case to the development fund"),
    ("ideas mine", "Follow your business cases"),
    ("reminders", "Your reminders and their settings"),
    ("groups", "The Kent Connects groups"),
    ("whoami", "Your partner, groups and roles"),
]


def png(size: int, pixel: Callable[[int, int], tuple[int, int, int, int]]) -> bytes:
    """A small RGBA PNG drawn by `pixel(x, y)`: enough for two flat icons, no imaging library."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(size)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def _mark(x: float, y: float) -> bool:
    """Two linked rings ('connects'), at unit scale (0..1)."""

    def ring(cx: float) -> bool:
        distance = ((x - cx) ** 2 + (y - 0.5) ** 2) ** 0.5
        return 0.15 <= distance <= 0.23

    return ring(0.37) or ring(0.63)


def color_icon() -> bytes:
    """192x192, full colour: the mark in white on the accent colour."""
    return png(192, lambda x, y: (255, 255, 255, 255) if _mark(x / 191, y / 191) else (*ACCENT, 255))


def outline_icon() -> bytes:
    """32x32, white on transparent, as Teams requires."""
    return png(32, lambda x, y: (255, 255, 255, 255) if _mark(x / 31, y / 31) else (0, 0, 0, 0))


def manifest(app_id: str, public_url: str, version: str) -> dict:
    host = re.sub(r"^https?://", "", public_url).split("/")[0]
    scopes = ["personal", "team", "groupChat"]
    return {
        "$schema": f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json",
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": "Kent Connects Partnership Office",
            "websiteUrl": public_url,
            "privacyUrl": public_url.rstrip("/") + "/privacy",
            "termsOfUseUrl": public_url.rstrip("/") + "/terms",
        },
        "name": {"short": "Kent Connects", "full": "Kent Connects partnership assistant"},
        "description": {
            "short": "Groups, meetings, events and the development fund of Kent Connects",
            "full": "The assistant of the Kent Connects partnership of Kent's public bodies: when the groups meet, "
            "business transformation events and registration, business cases for the development fund, "
            "reminders and announcements.",
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": scopes,
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [{"scopes": scopes, "commands": [{"title": t, "description": d} for t, d in COMMANDS]}],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host] if host else [],
        # Personal and group chats and standard channels come with the scopes; shared and private
        # channels must be declared: supportedChannelTypes (schema 1.14 on) for the clients that read
        # it, supportsChannelFeatures "tier1" (1.25 on, its only value) for all channel features.
        "supportedChannelTypes": ["sharedChannels", "privateChannels"],
        "supportsChannelFeatures": "tier1",
    }


def build(app_id: str, public_url: str, out: Path, version: str = __version__) -> Path:
    if not GUID.match(app_id or ""):
        raise ValueError(
            "the Teams app needs the bot's Microsoft app id (a GUID): set MICROSOFT_APP_ID or pass --app-id"
        )
    if not public_url.startswith("https://"):
        raise ValueError("--public-url must be the https address where `serve` is reachable")
    if not APP_VERSION.match(version or "") or len(version) > 256:
        raise ValueError(
            f"--version {version!r} must be MAJOR.MINOR.PATCH, like 1.2.0 (a semantic version, numbers "
            "only), and higher than the installed app's to replace it"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest(app_id, public_url, version), indent=2))
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    out.write_bytes(buffer.getvalue())
    return out
