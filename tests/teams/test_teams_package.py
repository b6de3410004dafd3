"""`python -m bot teams-package`: the zip a Teams admin uploads.

The manifest is checked field by field and against the official v1.25 MicrosoftTeams.schema.json, kept
in tests/teams/data (see SCHEMA); the icons are decoded from their PNG bytes (IHDR for the sizes, zlib
+ PNG filters for the pixels).
"""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

from bot import __version__
from tests.teams.harness import ROOT, serve_env

APP_ID = "0f5d3c2a-8b4e-4f61-9a7d-2c1e0b9f8a34"
PUBLIC = "https://kentconnects.example.org"
# Copied unchanged from the npm package @microsoft/app-manifest 1.1.2 (MIT; Microsoft's Teams manifest
# JSON schemas), build/json-schemas/teams/v1.25/MicrosoftTeams.schema.json: the schema published at
# https://developer.microsoft.com/json-schemas/teams/v1.25/MicrosoftTeams.schema.json.
SCHEMA = Path(__file__).parent / "data" / "MicrosoftTeams.v1.25.schema.json"
SCHEMA_SHA256 = "393557f89b0afc5b1134794d3af64c47a56ac29d44fdf977136c8121096f1503"


def run_package(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "teams-package", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env or serve_env("sqlite:///unused.db"),
    )


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("package") / "kc-teams.zip"
    done = run_package("--app-id", APP_ID, "--public-url", PUBLIC, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


# --- PNG decoding (no imaging library) -----------------------------------------------------------


def png_pixels(data: bytes) -> tuple[int, int, list[list[tuple[int, ...]]]]:
    """(width, height, rows of RGBA pixels) of an 8-bit RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks = 8, []
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        crc = struct.unpack(">I", data[position + 8 + length : position + 12 + length])[0]
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"bad CRC in {kind}"
        chunks.append((kind, body))
        position += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour, interlace) == (8, 6, 0), "expected 8-bit RGBA, not interlaced"
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride, bpp = width * 4, 4
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            up, corner = previous[x], previous[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
            else:
                assert kind == 0, f"unknown filter {kind}"
        rows.append([tuple(line[i : i + 4]) for i in range(0, stride, 4)])
        previous = line
    return width, height, rows


def header_size(data: bytes) -> tuple[int, int]:
    """Width and height straight from the IHDR bytes."""
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# --- the package ---------------------------------------------------------------------------------


def test_zip_holds_the_manifest_and_two_icons(package):
    assert sorted(package) == ["color.png", "manifest.json", "outline.png"]


def test_manifest_fields(package):
    manifest = json.loads(package["manifest.json"])
    assert manifest["manifestVersion"] == "1.25"
    assert manifest["$schema"].endswith("/v1.25/MicrosoftTeams.schema.json")
    assert manifest["id"] == APP_ID
    assert manifest["version"] == __version__
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    commands = [c for lst in bot["commandLists"] for c in lst["commands"]]
    assert 0 < len(commands) <= 10
    for command_list in bot["commandLists"]:
        assert len(command_list["commands"]) <= 10
        assert set(command_list["scopes"]) <= {"personal", "team", "groupChat"}
    assert all(len(c["title"]) <= 32 and 0 < len(c["description"]) <= 128 for c in commands)
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    assert manifest["validDomains"] == ["kentconnects.example.org"]
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert manifest["developer"][key].startswith("https://")


def test_the_bot_is_declared_for_chats_and_every_kind_of_channel(package):
    manifest = json.loads(package["manifest.json"])
    # personal and group chats and standard channels by the scopes; shared and private channels declared
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "groupChat", "team"}
    assert manifest["supportedChannelTypes"] == ["sharedChannels", "privateChannels"]
    assert manifest["supportsChannelFeatures"] == "tier1"


def test_the_default_version_is_the_bots_and_a_semantic_version():
    assert len(__version__.split(".")) == 3 and all(part.isdigit() for part in __version__.split("."))


def test_version_can_be_given_so_a_rebuilt_package_replaces_an_installed_one(tmp_path):
    out = tmp_path / "v2.zip"
    done = run_package("--app-id", APP_ID, "--version", "2.10.0", "--out", str(out))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as archive:
        assert json.loads(archive.read("manifest.json"))["version"] == "2.10.0"


@pytest.mark.parametrize(
    "version",
    ["", "2", "2.0", "v2.0.0", "2.0.0-beta.1", "2.0.0+build.5", "02.0.0", "2.0.x", " 2.0.0", "2." + "1" * 260 + ".0"],
)
def test_a_version_that_is_not_major_minor_patch_is_refused(tmp_path, version):
    out = tmp_path / "refused.zip"
    done = run_package("--app-id", APP_ID, "--version", version, "--out", str(out))
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.startswith("teams-package: --version") and "MAJOR.MINOR.PATCH" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()


def test_every_listed_command_is_one_the_bot_understands(package):
    from bot.router import understand

    manifest = json.loads(package["manifest.json"])
    for command in (c["title"] for lst in manifest["bots"][0]["commandLists"] for c in lst["commands"]):
        assert understand(command).command is not None, f"{command!r} is listed in the manifest but not understood"


def test_colour_icon_is_192_square_and_opaque(package):
    data = package["color.png"]
    assert header_size(data) == (192, 192)
    width, height, rows = png_pixels(data)
    assert (width, height) == (192, 192)
    assert all(p[3] == 255 for row in rows for p in row)
    assert len({p[:3] for row in rows for p in row}) >= 2  # a mark on a background


def test_outline_icon_is_32_square_white_on_transparent(package):
    data = package["outline.png"]
    assert header_size(data) == (32, 32)
    width, height, rows = png_pixels(data)
    pixels = [p for row in rows for p in row]
    transparent = [p for p in pixels if p[3] == 0]
    opaque = [p for p in pixels if p[3] > 0]
    assert transparent and opaque, "the outline needs both a transparent background and a mark"
    assert all(p[:3] == (255, 255, 255) for p in opaque), "the outline's visible pixels must be white"
    assert rows[0][0][3] == 0 and rows[16][16][3] == 0  # corner and centre are background


@pytest.mark.parametrize(
    "args, expected",
    [
        ((), "app id (a GUID)"),
        (("--app-id", "not-a-guid"), "app id (a GUID)"),
        (("--app-id", APP_ID[:-1]), "app id (a GUID)"),
        (("--app-id", APP_ID, "--public-url", "http://insecure.example.org"), "https"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(tmp_path, args, expected):
    out = tmp_path / "refused.zip"
    done = run_package(*args, "--out", str(out))
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.startswith("teams-package: ") and expected in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_app_id_can_come_from_the_environment(tmp_path):
    out = tmp_path / "env.zip"
    env = serve_env("sqlite:///unused.db", MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD="x")
    done = run_package("--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as archive:
        assert json.loads(archive.read("manifest.json"))["bots"][0]["botId"] == APP_ID


# --- the official manifest schema --------------------------------------------------------------------


def _validator():
    import jsonschema

    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256, "the copied schema was changed"
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["properties"]["manifestVersion"].get("const") == "1.25"
    # The schema says draft-04 but uses `const` (draft-06): teach the draft-04 validator that keyword,
    # and formats are checked too (uri, e-mail).
    base = jsonschema.validators.validator_for(schema)
    validator_class = jsonschema.validators.extend(base, {"const": jsonschema.Draft6Validator.VALIDATORS["const"]})
    # (No check_schema: a few patterns use \p{L}, which Python's re can't compile; they are for
    # properties this manifest doesn't have, and would raise, not pass, if it had them.)
    return validator_class(schema, format_checker=base.FORMAT_CHECKER)


def test_manifest_validates_against_the_official_schema_of_its_version(package):
    validator = _validator()
    manifest = json.loads(package["manifest.json"])
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(manifest)]
    assert errors == []
    # and the validator does catch a broken manifest, the channel declarations too
    broken = dict(
        manifest,
        manifestVersion="1.19",
        bots=[dict(manifest["bots"][0], scopes=["groupchat"])],
        supportsChannelFeatures="tier2",
        supportedChannelTypes=["standardChannels"],
    )
    found = {e.absolute_path[0] for e in validator.iter_errors(broken)}
    assert found >= {"manifestVersion", "bots", "supportsChannelFeatures", "supportedChannelTypes"}, found
