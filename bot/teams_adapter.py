"""Microsoft Teams, through the Bot Framework SDK 4.17.1: the only module that imports botbuilder.

The SDK is out of support (its successor is the Microsoft 365 Agents SDK), so everything it
does for us is behind this one file: inbound activities at `POST /api/messages`, replies as
Adaptive Cards, conversation references for messages the bot starts, and the Teams sender.
Its gaps closed here:
- 4.17's `trust_service_url` does nothing, so every service URL is checked against
  TEAMS_SERVICE_URL_ALLOWLIST before anything is sent to it;
- a request is authenticated before its turn runs, and only a token refused for a token's reason
  is 401: `CloudAdapter.process` mixes the two and answers 401 for a PermissionError raised
  anywhere in the turn (MSAL raises one when it can't get the bot's own token);
- Microsoft's signing keys were fetched by a blocking `requests.get` without a timeout, on the
  event loop, and never again for an unknown key (see _SigningKeys);
- it cannot serialise the answer to a Universal Action (see KentConnectsTeamsBot.on_invoke_activity);
- it reads and writes a conversation's tenant as `tenantID` (Teams: `tenantId`), so references lost
  the tenant: kept in the stored reference, and sent in `channelData.tenant.id` (TeamsSender._continue);
- it asked Microsoft's login service for a new token on every turn and every send (_KeptCredentials).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Optional
from urllib.parse import urlparse

import jwt
import requests
from aiohttp import web
from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext, serializer_helper
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.auth import (
    AuthenticationConstants,
    ChannelValidation,
    JwtTokenExtractor,
    ServiceClientCredentialsFactory,
)
from botframework.connector.auth.jwt_token_extractor import _OpenIdConfig, _OpenIdMetadata
from cachetools import TTLCache
from jwt.algorithms import RSAAlgorithm
from msrest.serialization import Model
from msrest.universal_http.requests import ClientRetryPolicy
from sqlalchemy.orm import Session, sessionmaker

from bot import cards
from bot.router import Router
from bot.senders import Outcome, RateLimit, Recipient, SendResult
from core.forms import FORMS
from core.messages import Action, KeptReference, Reply, Request
from core.settings import Settings
from storage import references
from storage.people import person_by_identity

logger = logging.getLogger(__name__)

# botbuilder's CloudAdapter makes a ConnectorClient and a UserTokenClient for every activity, and
# each builds msrest's ClientRetryPolicy, whose status list is `[i for i in range(999) if i not in
# safe_codes]` over a 501-item list: some 375,000 comparisons, a third of serve's CPU for a Teams
# message (py-spy, bench/teams_bench.py). The same codes, looked up in a set.
ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]

PLATFORM = "teams"
EXECUTE = "adaptiveCard/action"
# Universal Actions: every adaptiveCard/action is answered HTTP 200, whatever happened, with the
# outcome in the body as {statusCode, type, value}: a card to show in place of this one, a message,
# or an error {code, message} (Microsoft's Universal Action Model, "Response format").
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
ERROR_TYPE = "application/vnd.microsoft.error"
# The card stays, and a short note says the answer is in the chat.
EXECUTE_DONE = "Done: my answer is in the chat."
EXECUTE_CORRECT = "Please correct the fields marked on the form I've put in the chat."
EXECUTE_UNREADABLE = "I couldn't read that button press, sorry. Type help to see what I can do."
EXECUTE_OLD_CARD = (
    "This card is from an older version of the Kent Connects assistant, and I can't act on it any "
    "more, sorry. Type help to see what I can do now."
)
EXECUTE_OLD_FORM = (
    "This form is from an older version of the Kent Connects assistant, and I can't take it any "
    "more, sorry. Type help to start again."
)
EXECUTE_NO_REFRESH = "This card can't be refreshed."
EXECUTE_FAILED = (
    "Sorry, something went wrong on my side. Please try again in a moment; if it keeps happening, "
    "tell the Partnership Office."
)
ROUTE = "/api/messages"

# Who a Teams user is (the e-mail address the connector gives) is kept this long, so that a changed
# address is seen within the hour, for at most this many people a server.
EMAIL_CACHE_SECONDS = 3600.0
EMAIL_CACHE_SIZE = 10_000

# Microsoft's signing keys: each fetch may take this long, a good set is kept this long, a token
# signed with a key not in the set fetches them again at most this often (keys rotate), and while
# a due fetch fails the set in hand is used and the fetch tried again after this long.
KEYS_TIMEOUT = 10.0
KEYS_MAX_AGE = 24 * 3600.0
KEYS_UNKNOWN_KID_INTERVAL = 300.0
KEYS_RETRY_INTERVAL = 300.0
# 4.17.1 raises bare Exceptions with these words for a key not endorsed for the activity's channel
# and for an algorithm it doesn't allow (HS256, say): both refuse the token.
SDK_TOKEN_REFUSALS = ("Could not validate endorsement key", "Token signing algorithm not in allowed list")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class KeysUnavailable(Exception):
    """Microsoft's signing keys could not be fetched, so no token can be checked."""


# 4.17.1's _OpenIdMetadata._refresh calls `requests.get` with no timeout, synchronously, on the
# event loop: one slow answer from Microsoft stalls every request the server is handling, for ever
# if it never comes. Here the fetch runs in a thread with KEYS_TIMEOUT. Its `_find` raises
# IndexError for an unknown `kid`, so the refresh it means to do for a rotated key never happens and
# a new key is refused for up to a day: here an unknown key fetches the keys again (at most every
# KEYS_UNKNOWN_KID_INTERVAL) and is then refused with a PermissionError, like any other bad token.
class _SigningKeys(_OpenIdMetadata):
    """The SDK's key cache for one OpenID metadata URL, with 4.17.1's defects worked around."""

    def __init__(self, url: str):
        super().__init__(url)
        self.keys: list[dict[str, Any]] = []
        self.due = 0.0  # time.monotonic() when the keys should be fetched again
        self.attempted = float("-inf")  # time.monotonic() of the last fetch, good or not
        self.lock = threading.Lock()

    async def get(self, key_id: Optional[str]) -> _OpenIdConfig:
        asked = time.monotonic()
        if not self.keys or asked >= self.due:
            await asyncio.to_thread(self._refresh_blocking, asked, True)
        key = self._find(key_id)
        if key is None and asked - self.attempted >= KEYS_UNKNOWN_KID_INTERVAL:
            await asyncio.to_thread(self._refresh_blocking, asked, False)
            key = self._find(key_id)
        if key is None:
            raise PermissionError(f"no signing key {str(key_id)[:80]!r} is published at {self.url}")
        return key

    def _refresh_blocking(self, asked: float, keep_old_keys: bool) -> None:
        with self.lock:
            if self.attempted >= asked:  # another request fetched them while this one waited
                if not self.keys:
                    raise KeysUnavailable(f"{self.url}: the last fetch failed")
                return
            self.attempted = time.monotonic()
            try:
                keys = self._fetch()
            except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
                if keep_old_keys and self.keys:
                    # Keys rotate slowly and new ones are published ahead of use: the set in hand
                    # is better than refusing every request while Microsoft's endpoint is down.
                    logger.warning(
                        "Teams: Microsoft's signing keys could not be fetched again from %s (%s: %s); "
                        "using the ones fetched before",
                        self.url,
                        exc.__class__.__name__,
                        exc,
                    )
                    self.due = self.attempted + KEYS_RETRY_INTERVAL
                    return
                raise KeysUnavailable(f"{self.url}: {exc.__class__.__name__}: {exc}") from exc
            self.keys = keys
            self.due = self.attempted + KEYS_MAX_AGE
            self.last_updated = datetime.now()

    def _fetch(self) -> list[dict[str, Any]]:
        document = requests.get(self.url, timeout=KEYS_TIMEOUT)
        document.raise_for_status()
        answer = requests.get(document.json()["jwks_uri"], timeout=KEYS_TIMEOUT)
        answer.raise_for_status()
        keys = answer.json()["keys"]
        if not isinstance(keys, list):
            raise ValueError("the key set's `keys` is not a list")
        return [key for key in keys if isinstance(key, dict)]

    def _find(self, key_id: Optional[str]) -> Optional[_OpenIdConfig]:
        for key in self.keys:
            if key_id and key.get("kid") == key_id:
                try:
                    public_key = RSAAlgorithm.from_jwk(json.dumps(key))
                except (jwt.PyJWTError, ValueError, KeyError, TypeError):
                    logger.warning("Teams: the signing key %r at %s is not a usable RSA key", key_id, self.url)
                    return None
                return _OpenIdConfig(public_key, key.get("endorsements") or [])
        return None


def _use_our_signing_keys(channel_metadata_url: str) -> None:
    """Point the SDK's channel-token checks at this metadata URL (Microsoft's if empty), with our key cache."""
    # The class-level override is read by ChannelValidation.authenticate_channel_token, the public
    # cloud's path; the SDK caches key sets by URL in JwtTokenExtractor.metadataCache and takes the
    # one it finds there, so an entry put there first is the one every check uses.
    ChannelValidation.open_id_metadata_endpoint = channel_metadata_url or None
    for url in (
        channel_metadata_url or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
        AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
    ):
        if not isinstance(JwtTokenExtractor.metadataCache.get(url), _SigningKeys):
            JwtTokenExtractor.metadataCache[url] = _SigningKeys(url)


def _token_refusal(exc: BaseException) -> Optional[str]:
    """Why the SDK refused the token, or None when the exception is not about the token."""
    if isinstance(exc, (PermissionError, jwt.PyJWTError, ValueError)):
        return f"{exc.__class__.__name__}: {exc}"
    if type(exc) is Exception and exc.args and exc.args[0] in SDK_TOKEN_REFUSALS:
        return str(exc)
    return None


class _SdkConfig:
    """The settings object ConfigurationBotFrameworkAuthentication reads.

    SingleTenant (the registration Microsoft allows for new bots: an Azure Bot in the host partner's
    tenant whose Entra app accepts accounts in any organisation) changes only where the bot asks for
    its own token: 4.17.1 asks https://login.microsoftonline.com/APP_TENANTID, where MultiTenant asks
    .../botframework.com. Activities from every tenant are accepted either way: the Bot Framework
    signs their tokens, with its own issuer and the bot's app id as audience, whichever tenant they
    come from."""

    def __init__(self, settings: Settings):
        self.APP_ID = settings.teams_app_id
        self.APP_PASSWORD = settings.teams_app_password
        self.APP_TYPE = settings.teams_app_type or "MultiTenant"
        self.APP_TENANTID = settings.teams_tenant_id


class _KeptCredentials(ServiceClientCredentialsFactory):
    """4.17.1 makes new credentials, with a new MSAL application and so an empty token cache, for every
    turn and every message the bot starts, and so asks Microsoft's login service for a new token each
    time (a fan-out to hundreds of people, hundreds of requests: it throttles). Here the credentials
    for one (app, scope, authority) are made once and kept, so MSAL's cache serves the token until it
    is due for renewal."""

    def __init__(self, inner: ServiceClientCredentialsFactory):
        self.inner = inner
        self.kept: dict[tuple[Any, ...], Any] = {}
        self.lock = threading.Lock()

    async def is_valid_app_id(self, app_id: str) -> bool:
        return await self.inner.is_valid_app_id(app_id)

    async def is_authentication_disabled(self) -> bool:
        return await self.inner.is_authentication_disabled()

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool):
        key = (app_id, oauth_scope, login_endpoint, validate_authority)
        with self.lock:
            found = self.kept.get(key)
        if found is None:
            made = await self.inner.create_credentials(app_id, oauth_scope, login_endpoint, validate_authority)
            with self.lock:
                found = self.kept.setdefault(key, made)
        return found


def _authentication(settings: Settings) -> ConfigurationBotFrameworkAuthentication:
    config = _SdkConfig(settings)
    return ConfigurationBotFrameworkAuthentication(
        config, credentials_factory=_KeptCredentials(ConfigurationServiceClientCredentialFactory(config))
    )


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return host == "localhost" or host.endswith(".localhost")


def service_url_allowed(url: str, allowlist: tuple[str, ...], emulator: bool = False) -> bool:
    """Whether the bot may talk to this service URL: https, and its host listed or under a `*.`
    entry. A loopback host or plain http only with BOT_EMULATOR=1 (the Emulator's own address),
    so a public server never sends its token, or anything, to its own host."""
    parsed = urlparse(url or "")
    host = (parsed.hostname or "").lower()
    if not host or parsed.scheme not in ("https", "http"):
        return False
    if not emulator and (parsed.scheme != "https" or _loopback(host)):
        return False
    for entry in allowlist:
        entry = entry.lower()
        if entry.startswith("*.") and (host.endswith(entry[1:]) and host != entry[2:]):
            return True
        if host == entry:
            return True
    return False


def _reference_key(activity: Activity) -> str:
    kind = (activity.conversation.conversation_type or "personal") if activity.conversation else "personal"
    if kind == "personal":
        return f"user:{activity.from_property.id}"
    return f"conversation:{activity.conversation.id.split(';')[0]}"


def _card_activity(reply: Reply) -> Activity:
    """The reply as a card, with its plain text for notifications and screen readers. The text is
    marked plain, so that people's words in it are never read as Markdown (a disguised link)."""
    activity = MessageFactory.attachment(CardFactory.adaptive_card(cards.card(reply)))
    activity.text = reply.plain_text()[:4000]
    activity.text_format = "plain"
    return activity


def _once(activity: Activity, kind: str) -> Optional[str]:
    """The key of a delivery for once-only handling: activity ids are unique within a conversation."""
    if not activity.id:
        return None
    return f"{kind}:{activity.conversation.id.split(';')[0]}:{activity.id}"


def _execute_answer(status: int, kind: str, value: Any) -> InvokeResponse:
    """An answer to an Action.Execute: HTTP 200, the outcome in the body."""
    return InvokeResponse(status=200, body={"statusCode": status, "type": kind, "value": value})


def _execute_error(status: int, code: str, message: str) -> InvokeResponse:
    return _execute_answer(status, ERROR_TYPE, {"code": code, "message": message})


def _tenant(activity: Activity) -> str:
    if activity.conversation is not None and activity.conversation.tenant_id:
        return activity.conversation.tenant_id
    data = activity.channel_data or {}
    return ((data.get("tenant") or {}).get("id") or "") if isinstance(data, dict) else ""


class KentConnectsTeamsBot(TeamsActivityHandler):
    def __init__(
        self,
        router: Router,
        sessions: sessionmaker[Session],
        settings: Settings,
        timer: Callable[[], float] = time.monotonic,
    ):
        self.router = router
        self.sessions = sessions
        self.settings = settings
        # (tenant, user) -> (e-mail, a guest in the tenant)
        self.emails: TTLCache[tuple[str, str], tuple[Optional[str], bool]] = TTLCache(
            EMAIL_CACHE_SIZE, EMAIL_CACHE_SECONDS, timer=timer
        )

    # --- who is talking ----------------------------------------------------------------------

    async def _member(self, turn_context: TurnContext) -> tuple[Optional[str], bool]:
        """The person's e-mail, and whether they are a guest in the activity's tenant (a guest's
        tenant is their host's, not their employer's: it must not make them a partner's staff)."""
        activity = turn_context.activity
        tenant = _tenant(activity)
        key = (tenant, activity.from_property.id)
        try:
            return self.emails[key]
        except KeyError:  # never asked, or asked over an hour ago
            pass
        try:
            member = await TeamsInfo.get_member(turn_context, activity.from_property.id)
        except Exception:  # the connector refused or is down: try again next message
            logger.exception("Teams member details failed for %s", activity.from_property.id)
            return None, False
        principal = str(getattr(member, "user_principal_name", None) or "")
        email = (getattr(member, "email", None) or principal).strip().lower() or None
        # Teams says so in userRole; a guest's principal name in the host tenant carries #EXT#.
        guest = str(getattr(member, "user_role", None) or "").lower() in ("guest", "anonymous") or (
            "#ext#" in principal.lower()
        )
        self.emails[key] = (email, guest)
        return email, guest

    async def _request(self, turn_context: TurnContext, text: str) -> Request:
        activity = turn_context.activity
        email, guest = await self._member(turn_context)
        return Request(
            text=text,
            platform=PLATFORM,
            user_id=activity.from_property.id,
            email=email,
            guest=guest,
            now=_now(),
            workspace=_tenant(activity),
            conversation=activity.conversation.id.split(";")[0],
            display_name=activity.from_property.name,
            capabilities=frozenset({"forms"}),
            shared=(activity.conversation.conversation_type or "personal") != "personal",
            keep_reference=self._reference(activity),
        )

    @staticmethod
    def _reference(activity: Activity) -> KeptReference:
        """The conversation reference to keep, so that reminders can reach this chat later."""
        reference = TurnContext.get_conversation_reference(activity).serialize()
        conversation = reference.get("conversation") or {}
        if isinstance(conversation.get("id"), str):
            # Later messages start a new post, not a reply in the thread this one came from.
            conversation["id"] = conversation["id"].split(";")[0]
        if _tenant(activity) and isinstance(reference.get("conversation"), dict):
            # 4.17.1 reads and writes a conversation's tenant as `tenantID`, where Teams writes
            # `tenantId`, so the SDK's reference has none: kept here as Teams spells it.
            conversation.setdefault("tenantId", _tenant(activity))
        return KeptReference(_reference_key(activity), reference, activity.service_url, _tenant(activity))

    async def _remember(self, turn_context: TurnContext) -> None:
        """Keep the conversation reference where no request runs (the welcome). A message's is kept
        by the router, in the request's own transaction (Request.keep_reference)."""
        activity = turn_context.activity
        kept = self._reference(activity)

        def save() -> None:
            with self.sessions.begin() as session:
                person = person_by_identity(session, PLATFORM, activity.from_property.id, kept.tenant)
                references.keep(
                    session,
                    PLATFORM,
                    kept.key,
                    kept.reference,
                    kept.service_url,
                    kept.tenant,
                    person.id if person and kept.key.startswith("user:") else None,
                    _now(),
                )

        await asyncio.to_thread(save)

    # --- replying ----------------------------------------------------------------------------

    async def _send(self, turn_context: TurnContext, reply: Reply) -> None:
        if reply.form is not None:
            form = FORMS[reply.form.name]
            activity = MessageFactory.attachment(CardFactory.adaptive_card(cards.form_card(form, reply.form.prefilled)))
            activity.text = reply.text
            await turn_context.send_activity(activity)
            return
        if reply.attachment is not None:
            reply = Reply(
                reply.text + " (Teams can't take this file from the bot yet: ask for it in the console "
                "or Slack, or subscribe to the calendar feed.)",
                title=reply.title,
                fields=reply.fields,
                items=reply.items,
                actions=reply.actions,
                footer=reply.footer,
            )
        await turn_context.send_activity(_card_activity(reply))

    # --- activities ----------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext):
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else None
        if value and cards.FORM_KEY in value:
            await self._submit(turn_context, value)
            return
        if value and cards.COMMAND_KEY in value:
            text = str(value[cards.COMMAND_KEY])
        else:
            text = (TurnContext.remove_recipient_mention(activity) or activity.text or "").strip()
        request = await self._request(turn_context, text)
        reply = await asyncio.to_thread(self.router.handle, request, _once(activity, "activity"))
        if reply is not None:
            await self._send(turn_context, reply)

    async def _submit(self, turn_context: TurnContext, value: dict[str, Any]) -> bool:
        """A form's card sent back; True when it is shown again with fields to correct."""
        name = str(value.get(cards.FORM_KEY))
        form = FORMS.get(name)
        if form is None:
            return False
        # Everything comes back from the client, so every field is read and checked again:
        # answers given beforehand were shown on the card as ordinary inputs.
        raw = {k: str(v) for k, v in value.items() if not k.startswith("kc_") and k != "msteams"}
        prefilled: dict[str, Any] = {}
        request = await self._request(turn_context, "")
        activity = turn_context.activity
        reply, errors = await asyncio.to_thread(
            self.router.submit_form, request, name, raw, {}, _once(activity, "form")
        )
        if errors:
            again = MessageFactory.attachment(CardFactory.adaptive_card(cards.form_card(form, prefilled, raw, errors)))
            again.text = "Please correct the fields marked on the form."
            await turn_context.send_activity(again)
            return True
        if reply is not None:
            await self._send(turn_context, reply)
        return False

    async def on_invoke_activity(self, turn_context: TurnContext):
        """Action.Execute (invoke `adaptiveCard/action`) works as Action.Submit; other invokes as the SDK does."""
        # Not through on_adaptive_card_invoke: 4.17.1 answers a malformed one HTTP 400 with a body it
        # can't serialise (an Exception as the error's value), and Teams wants HTTP 200 whatever
        # happened. TeamsAdapter.handle_http writes the body (_http_answer).
        activity = turn_context.activity
        if activity.name != EXECUTE:
            return await super().on_invoke_activity(turn_context)
        try:
            return await self._execute(turn_context)
        except Exception:
            logger.exception(
                "Teams turn failed: Action.Execute from %s in %s", activity.from_property.id, activity.conversation.id
            )
            return _execute_error(500, "InternalServerError", EXECUTE_FAILED)

    async def _execute(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action")
        if not isinstance(action, dict) or action.get("type") != "Action.Execute":
            return _execute_error(400, "BadRequest", EXECUTE_UNREADABLE)
        if value.get("trigger") == "automatic":
            # Sent only for a card's `refresh`, and the bot's cards have none: nothing runs unasked.
            return _execute_error(400, "NotSupported", EXECUTE_NO_REFRESH)
        data = action.get("data", {})
        if not isinstance(data, dict):
            return _execute_error(400, "BadRequest", EXECUTE_UNREADABLE)
        if cards.FORM_KEY in data:
            if not isinstance(data[cards.FORM_KEY], str) or data[cards.FORM_KEY] not in FORMS:
                return _execute_error(400, "BadRequest", EXECUTE_OLD_FORM)
            corrected = await self._submit(turn_context, data)
            return _execute_answer(200, MESSAGE_TYPE, EXECUTE_CORRECT if corrected else EXECUTE_DONE)
        if cards.COMMAND_KEY in data:
            command = data[cards.COMMAND_KEY]
            if not isinstance(command, str) or not command.strip():
                return _execute_error(400, "BadRequest", EXECUTE_UNREADABLE)
            request = await self._request(turn_context, command)
            reply = await asyncio.to_thread(self.router.handle, request, _once(activity, "execute"))
            if reply is not None:
                await self._send(turn_context, reply)
            return _execute_answer(200, MESSAGE_TYPE, EXECUTE_DONE)
        logger.info(
            "Teams: an Action.Execute with verb %r and none of this version's data (a card sent by an older version?)",
            str(action.get("verb"))[:80],
        )
        return _execute_error(400, "NotSupported", EXECUTE_OLD_CARD)

    async def on_conversation_update_activity(self, turn_context: TurnContext):
        activity = turn_context.activity
        added = activity.members_added or []
        if any(m.id == activity.recipient.id for m in added):
            await self._welcome(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext):
        await self._welcome(turn_context)

    async def _welcome(self, turn_context: TurnContext) -> None:
        await self._remember(turn_context)
        welcome = Reply(
            "Hello! I'm the Kent Connects assistant: ask me when the groups meet, what events are coming up, "
            "or submit an idea to the development fund. In a channel, @mention me first.",
            title="Kent Connects",
            actions=(Action("Help", "help"), Action("Events", "events")),
        )
        await self._send(turn_context, welcome)


class TeamsAdapter:
    """`POST /api/messages`: the activity, its token, the service-URL allowlist, then the turn."""

    def __init__(self, router: Router, sessions: sessionmaker[Session], settings: Settings):
        self.settings = settings
        self.sdk = CloudAdapter(_authentication(settings))
        self.bot = KentConnectsTeamsBot(router, sessions, settings)
        _use_our_signing_keys(settings.teams_openid_metadata_url)

        async def on_error(turn_context: TurnContext, error: Exception) -> None:
            # The SDK would swallow a failed turn and answer as if all went well: handle_http
            # answers it 500, with the traceback in the log.
            raise error

        self.sdk.on_turn_error = on_error

    async def handle_http(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return web.json_response({"error": "the body must be a JSON activity"}, status=415)
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"error": "the body must be a JSON activity"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "the body must be a JSON activity"}, status=400)
        try:
            activity = Activity().deserialize(body)
        except Exception:  # msrest's DeserializationError, wrapping whatever the field's parser raised
            return web.json_response({"error": "the body is not a Bot Framework activity"}, status=400)
        if not (
            activity.type
            and activity.conversation
            and activity.conversation.id
            and activity.from_property
            and activity.from_property.id
        ):
            return web.json_response({"error": "an activity needs a type, a conversation and a sender"}, status=400)
        header = request.headers.get("Authorization", "")
        if self.settings.teams_authenticated and not self._plausible_token(header):
            return web.json_response({"error": "unauthorized"}, status=401)
        if not service_url_allowed(activity.service_url or "", self.settings.teams_allowlist, self.settings.emulator):
            logger.warning(
                "Teams: refusing an activity whose serviceUrl %r is not on the allowlist", activity.service_url
            )
            return web.json_response({"error": "service URL not allowed"}, status=403)
        try:
            authenticated = await self.sdk.bot_framework_authentication.authenticate_request(activity, header)
        except (KeysUnavailable, requests.RequestException) as exc:
            logger.error(
                "Teams: a request could not be authenticated, because Microsoft's signing keys could not "
                "be fetched: %s",
                exc,
            )
            return web.json_response({"error": "authentication is unavailable, try again later"}, status=503)
        except Exception as exc:
            reason = _token_refusal(exc)
            if reason is None:
                logger.exception("Teams request failed: authenticating it raised an unexpected error")
                return web.json_response({"error": "the request could not be authenticated"}, status=500)
            logger.warning("Teams: refused a request whose token is not valid (%s)", reason[:300])
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            response = await self.sdk.process_activity(authenticated, activity, self.bot.on_turn)
        except Exception:
            logger.exception(
                "Teams turn failed: %s activity %s in %s", activity.type, activity.id, activity.conversation.id
            )
            return web.json_response({"error": "the activity could not be processed"}, status=500)
        return _http_answer(response)

    def _plausible_token(self, header: str) -> bool:
        """Refuse what no signature check is needed to refuse: no token, not RS256, another audience, expired."""
        if not header.startswith("Bearer "):
            return False
        try:
            claims = jwt.decode(header[7:], options={"verify_signature": False})
            signed = jwt.get_unverified_header(header[7:])
        except jwt.PyJWTError:
            return False
        # 4.17.1 verifies RS256 only, with the key named by `kid`: anything else is refused before
        # Microsoft's keys are fetched for it.
        if signed.get("alg") != "RS256" or not isinstance(signed.get("kid"), str) or not signed["kid"]:
            return False
        if not isinstance(claims.get("iss"), str):  # 4.17.1 reads claims["iss"] and fails without one
            return False
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.settings.teams_app_id not in audiences:
            return False
        try:
            return float(claims.get("exp", 0)) > time.time() - 300
        except (TypeError, ValueError):
            return False


def _http_answer(response: Optional[InvokeResponse]) -> web.Response:
    """The HTTP answer to a turn: 201, or the invoke's status and body."""
    # Serialised here: 4.17.1's CloudAdapter.process runs every body through msrest and fails on a dict.
    if response is None:
        return web.Response(status=201)
    body = serializer_helper(response.body) if isinstance(response.body, Model) else response.body
    if body is None:
        return web.Response(status=int(response.status or 200))
    return web.json_response(body, status=int(response.status or 200))


# --- the sender for the delivery engine ------------------------------------------------------------

PERMANENT_STATUS = {401, 403, 404}
RETRY_STATUS = {412, 500, 502, 503, 504}


class TeamsSender:
    """Sends deliveries by continuing a stored conversation, or opening a 1:1 chat in the tenant."""

    platform = PLATFORM
    by_email = False

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, rate: float = 20.0, burst: float = 40.0):
        self.sessions = sessions
        self.settings = settings
        self.rate, self.burst = rate, burst
        self.adapter = CloudAdapter(_authentication(settings))
        # The SDK is async; the dispatcher is not: one private event loop for all sends.
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="teams-sender", daemon=True).start()

    def rate_limit(self, recipient: Recipient) -> Optional[RateLimit]:
        # Teams allows about 50 requests a second per app and tenant; stay well under it.
        return RateLimit(f"teams:{recipient.workspace or 'default'}", self.rate, self.burst)

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        key = recipient.address if recipient.address.startswith("conversation:") else f"user:{recipient.address}"
        with self.sessions() as session:
            ref = references.find(session, PLATFORM, key)
            fallback = None if ref else references.any_in_tenant(session, PLATFORM, recipient.workspace)
            stored = (ref.reference, ref.service_url, ref.blocked_at, ref.tenant_id) if ref else None
            tenant_url = fallback.service_url if fallback else None
        if stored and stored[2] is not None:
            return SendResult(Outcome.PERMANENT, "this person has blocked the bot")
        service_url = stored[1] if stored else tenant_url
        if not service_url:
            return SendResult(Outcome.PERMANENT, "no Teams conversation with this person yet")
        if not service_url_allowed(service_url, self.settings.teams_allowlist, self.settings.emulator):
            return SendResult(Outcome.PERMANENT, f"service URL {service_url} is not on the allowlist")
        activity = _card_activity(message)
        coroutine = (
            self._continue(stored[0], activity, stored[3] or recipient.workspace)
            if stored
            else self._create(recipient, service_url, activity)
        )
        try:
            asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)
            return SendResult.sent()
        except Exception as exc:  # mapped below: the SDK raises its own and aiohttp's errors
            return self._outcome(exc, key)

    async def _continue(self, reference: dict[str, Any], activity: Activity, tenant: str) -> None:
        """Into the stored conversation, in the person's own tenant: Teams reads it from
        `channelData.tenant.id` (4.17.1 drops the reference's `conversation.tenantId`, see _remember)."""
        conversation = ConversationReference().deserialize(reference)
        if tenant:
            if conversation.conversation is not None and not conversation.conversation.tenant_id:
                conversation.conversation.tenant_id = tenant
            data = dict(activity.channel_data) if isinstance(activity.channel_data, dict) else {}
            activity.channel_data = {**data, "tenant": {"id": tenant}}

        async def callback(turn_context: TurnContext) -> None:
            await turn_context.send_activity(activity)

        await self.adapter.continue_conversation(conversation, callback, bot_app_id=self.settings.teams_app_id or None)

    async def _create(self, recipient: Recipient, service_url: str, activity: Activity) -> None:
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=f"28:{self.settings.teams_app_id}"),
            members=[ChannelAccount(id=recipient.address)],
            tenant_id=recipient.workspace,
            channel_data={"tenant": {"id": recipient.workspace}},
        )

        async def callback(turn_context: TurnContext) -> None:
            await turn_context.send_activity(activity)
            try:
                reference = TurnContext.get_conversation_reference(turn_context.activity).serialize()
                await asyncio.to_thread(self._keep, recipient, reference, service_url)
            except Exception:
                # The message has gone: reporting a failure would have it sent again, in yet another
                # new chat. The next message opens one more chat and keeps that one.
                logger.exception(
                    "Teams: the message reached %s in a new chat, but the chat could not be kept", recipient.address
                )

        await self.adapter.create_conversation(
            self.settings.teams_app_id or "", callback, parameters, "msteams", service_url
        )

    def _keep(self, recipient: Recipient, reference: dict[str, Any], service_url: str) -> None:
        """The new 1:1 chat is kept, so the next message continues it instead of opening another."""
        with self.sessions.begin() as session:
            person = person_by_identity(session, PLATFORM, recipient.address, recipient.workspace)
            references.save(
                session,
                PLATFORM,
                f"user:{recipient.address}",
                reference,
                service_url,
                recipient.workspace,
                person.id if person else None,
                _now(),
            )

    def _outcome(self, exc: Exception, key: str) -> SendResult:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        headers = getattr(response, "headers", {}) or {}
        retry_after = headers.get("Retry-After") if hasattr(headers, "get") else None
        if status == 403:
            with self.sessions.begin() as session:
                references.mark_blocked(session, PLATFORM, key, _now())
            return SendResult(Outcome.PERMANENT, "Teams: 403, the person has blocked the bot or left")
        if status == 429:
            return SendResult(Outcome.RATE_LIMITED, "Teams: 429", float(retry_after or 30))
        if status in PERMANENT_STATUS:
            return SendResult(Outcome.PERMANENT, f"Teams: {status}")
        if status in RETRY_STATUS and retry_after:
            return SendResult(Outcome.RATE_LIMITED, f"Teams: {status}", float(retry_after))
        return SendResult(Outcome.RETRY, f"Teams: {status or exc.__class__.__name__}: {exc}"[:500])

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
