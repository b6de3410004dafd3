"""Microsoft Teams, through the Bot Framework SDK 4.17.1: the only module that imports botbuilder.

The SDK is out of support (its successor is the Microsoft 365 Agents SDK), so everything it
does for us is behind this one file: inbound activities at `POST /api/messages`, replies as
Adaptive Cards, conversation references for messages the bot starts, and the Teams sender.
Two of its gaps are closed here: 4.17's `trust_service_url` does nothing, so every service URL
is checked against TEAMS_SERVICE_URL_ALLOWLIST before anything is sent to it; and failures
while authenticating a request are answered 401, never 500.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
import time
from datetime import datetime, timezone
from typing import Any, Optional
from urllib.parse import urlparse

import jwt
from aiohttp import web
from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from sqlalchemy.orm import Session, sessionmaker

from bot import cards
from bot.config import Settings
from bot.messages import Action, Reply, Request
from bot.router import Router
from bot.senders import Outcome, RateLimit, Recipient, SendResult
from handlers.forms import FORMS
from storage import references
from storage.people import person_by_identity

logger = logging.getLogger(__name__)

PLATFORM = "teams"
EXECUTE = "adaptiveCard/action"
# The answer to an Action.Execute: the card stays, and a short note says the answer is in the chat.
EXECUTE_DONE = {"statusCode": 200, "type": "application/vnd.microsoft.activity.message",
                "value": "Done: my answer is in the chat."}
ROUTE = "/api/messages"


def _now() -> datetime:
    return datetime.now(timezone.utc)


class _SdkConfig:
    """The settings object ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, settings: Settings):
        self.APP_ID = settings.teams_app_id
        self.APP_PASSWORD = settings.teams_app_password
        self.APP_TYPE = settings.teams_app_type or "MultiTenant"
        self.APP_TENANTID = settings.teams_tenant_id


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


def _tenant(activity: Activity) -> str:
    if activity.conversation is not None and activity.conversation.tenant_id:
        return activity.conversation.tenant_id
    data = activity.channel_data or {}
    return ((data.get("tenant") or {}).get("id") or "") if isinstance(data, dict) else ""


class KentConnectsTeamsBot(TeamsActivityHandler):
    def __init__(self, router: Router, sessions: sessionmaker[Session], settings: Settings):
        self.router = router
        self.sessions = sessions
        self.settings = settings
        self.emails: dict[tuple[str, str], Optional[str]] = {}

    # --- who is talking ----------------------------------------------------------------------

    async def _email(self, turn_context: TurnContext) -> Optional[str]:
        activity = turn_context.activity
        key = (_tenant(activity), activity.from_property.id)
        if key not in self.emails:
            try:
                member = await TeamsInfo.get_member(turn_context, activity.from_property.id)
            except Exception:  # the connector refused or is down: try again next message
                logger.exception("Teams member details failed for %s", activity.from_property.id)
                return None
            email = (getattr(member, "email", None) or getattr(member, "user_principal_name", None) or "").strip()
            self.emails[key] = email.lower() or None
        return self.emails[key]

    async def _request(self, turn_context: TurnContext, text: str) -> Request:
        activity = turn_context.activity
        return Request(
            text=text, platform=PLATFORM, user_id=activity.from_property.id, email=await self._email(turn_context),
            now=_now(), workspace=_tenant(activity), conversation=activity.conversation.id.split(";")[0],
            display_name=activity.from_property.name, capabilities=frozenset({"forms"}),
            shared=(activity.conversation.conversation_type or "personal") != "personal",
        )

    async def _remember(self, turn_context: TurnContext) -> None:
        """Keep the conversation reference, so that reminders can reach this chat later."""
        activity = turn_context.activity
        reference = TurnContext.get_conversation_reference(activity).serialize()
        conversation = reference.get("conversation") or {}
        if isinstance(conversation.get("id"), str):
            # Later messages start a new post, not a reply in the thread this one came from.
            conversation["id"] = conversation["id"].split(";")[0]
        key = _reference_key(activity)

        def save() -> None:
            with self.sessions.begin() as session:
                person = person_by_identity(session, PLATFORM, activity.from_property.id, _tenant(activity))
                references.save(session, PLATFORM, key, reference, activity.service_url, _tenant(activity),
                                person.id if person and key.startswith("user:") else None, _now())

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
            reply = Reply(reply.text + " (Teams can't take this file from the bot yet: ask for it in the console "
                          "or Slack, or subscribe to the calendar feed.)", title=reply.title, fields=reply.fields,
                          items=reply.items, actions=reply.actions, footer=reply.footer)
        await turn_context.send_activity(_card_activity(reply))

    # --- activities ----------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext):
        await self._remember(turn_context)
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
        await self._remember(turn_context)  # again: the first message has just linked the person

    async def _submit(self, turn_context: TurnContext, value: dict[str, Any]) -> None:
        name = str(value.get(cards.FORM_KEY))
        form = FORMS.get(name)
        if form is None:
            return
        # Everything comes back from the client, so every field is read and checked again:
        # answers given beforehand were shown on the card as ordinary inputs.
        raw = {k: str(v) for k, v in value.items() if not k.startswith("kc_") and k != "msteams"}
        prefilled: dict[str, Any] = {}
        request = await self._request(turn_context, "")
        activity = turn_context.activity
        reply, errors = await asyncio.to_thread(self.router.submit_form, request, name, raw, {},
                                                _once(activity, "form"))
        if errors:
            again = MessageFactory.attachment(CardFactory.adaptive_card(cards.form_card(form, prefilled, raw, errors)))
            again.text = "Please correct the fields marked on the form."
            await turn_context.send_activity(again)
        elif reply is not None:
            await self._send(turn_context, reply)

    async def on_invoke_activity(self, turn_context: TurnContext):
        """Action.Execute (invoke `adaptiveCard/action`): the same as Action.Submit.

        Handled here rather than in on_adaptive_card_invoke, because 4.17.1 cannot serialise the
        invoke's answer; TeamsAdapter.handle_http writes that answer itself."""
        activity = turn_context.activity
        if activity.name != EXECUTE:
            return await super().on_invoke_activity(turn_context)
        await self._remember(turn_context)
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        data = action.get("data") if isinstance(action.get("data"), dict) else {}
        if cards.FORM_KEY in data:
            await self._submit(turn_context, data)
        elif cards.COMMAND_KEY in data:
            request = await self._request(turn_context, str(data[cards.COMMAND_KEY]))
            reply = await asyncio.to_thread(self.router.handle, request, _once(activity, "execute"))
            if reply is not None:
                await self._send(turn_context, reply)
        else:
            return InvokeResponse(status=400)
        return InvokeResponse(status=200)

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
            title="Kent Connects", actions=(Action("Help", "help"), Action("Events", "events")),
        )
        await self._send(turn_context, welcome)


class TeamsAdapter:
    """`POST /api/messages`: authentication, the service-URL allowlist, then the SDK."""

    def __init__(self, router: Router, sessions: sessionmaker[Session], settings: Settings):
        self.settings = settings
        self.sdk = CloudAdapter(ConfigurationBotFrameworkAuthentication(_SdkConfig(settings)))
        self.bot = KentConnectsTeamsBot(router, sessions, settings)

        async def on_error(turn_context: TurnContext, error: Exception) -> None:
            logger.exception("Teams turn failed", exc_info=error)

        self.sdk.on_turn_error = on_error

    async def handle_http(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"error": "the body must be a JSON activity"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "the body must be a JSON activity"}, status=400)
        if self.settings.teams_app_id and not self._plausible_token(request.headers.get("Authorization", "")):
            return web.json_response({"error": "unauthorized"}, status=401)
        if not service_url_allowed(body.get("serviceUrl") or "", self.settings.teams_allowlist,
                                   self.settings.emulator):
            logger.warning("Teams: refusing an activity whose serviceUrl %r is not on the allowlist",
                           body.get("serviceUrl"))
            return web.json_response({"error": "service URL not allowed"}, status=403)
        try:
            response = await self.sdk.process(request, self.bot)
        except web.HTTPException as exc:
            if exc.status == 500:
                raise
            return web.json_response({"error": exc.reason}, status=exc.status)
        except Exception:
            if self.settings.teams_app_id:
                # The SDK's token validation can fail in many ways: all mean "not authenticated".
                logger.exception("Teams: the request could not be authenticated or processed")
                return web.json_response({"error": "unauthorized"}, status=401)
            logger.exception("Teams: the activity could not be processed")
            return web.json_response({"error": "the activity could not be processed"}, status=400)
        if body.get("type") == "invoke" and body.get("name") == EXECUTE and response is not None \
                and response.status == 200:
            return web.json_response(EXECUTE_DONE)
        return response or web.Response(status=201)

    def _plausible_token(self, header: str) -> bool:
        """Refuse what no signature check is needed to refuse: no token, another audience, expired."""
        if not header.startswith("Bearer "):
            return False
        try:
            claims = jwt.decode(header[7:], options={"verify_signature": False})
        except jwt.PyJWTError:
            return False
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.settings.teams_app_id not in audiences:
            return False
        try:
            return float(claims.get("exp", 0)) > time.time() - 300
        except (TypeError, ValueError):
            return False


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
        self.adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_SdkConfig(settings)))
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
            stored = (ref.reference, ref.service_url, ref.blocked_at) if ref else None
            tenant_url = fallback.service_url if fallback else None
        if stored and stored[2] is not None:
            return SendResult(Outcome.PERMANENT, "this person has blocked the bot")
        service_url = stored[1] if stored else tenant_url
        if not service_url:
            return SendResult(Outcome.PERMANENT, "no Teams conversation with this person yet")
        if not service_url_allowed(service_url, self.settings.teams_allowlist, self.settings.emulator):
            return SendResult(Outcome.PERMANENT, f"service URL {service_url} is not on the allowlist")
        activity = _card_activity(message)
        coroutine = (self._continue(stored[0], activity) if stored
                     else self._create(recipient, service_url, activity))
        try:
            asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)
            return SendResult.sent()
        except Exception as exc:  # mapped below: the SDK raises its own and aiohttp's errors
            return self._outcome(exc, key)

    async def _continue(self, reference: dict[str, Any], activity: Activity) -> None:
        async def callback(turn_context: TurnContext) -> None:
            await turn_context.send_activity(activity)

        await self.adapter.continue_conversation(ConversationReference().deserialize(reference), callback,
                                                 bot_app_id=self.settings.teams_app_id or None)

    async def _create(self, recipient: Recipient, service_url: str, activity: Activity) -> None:
        parameters = ConversationParameters(
            is_group=False, bot=ChannelAccount(id=f"28:{self.settings.teams_app_id}"),
            members=[ChannelAccount(id=recipient.address)], tenant_id=recipient.workspace,
            channel_data={"tenant": {"id": recipient.workspace}},
        )

        async def callback(turn_context: TurnContext) -> None:
            await turn_context.send_activity(activity)
            reference = TurnContext.get_conversation_reference(turn_context.activity).serialize()
            await asyncio.to_thread(self._keep, recipient, reference, service_url)

        await self.adapter.create_conversation(self.settings.teams_app_id or "", callback, parameters, "msteams",
                                               service_url)

    def _keep(self, recipient: Recipient, reference: dict[str, Any], service_url: str) -> None:
        """The new 1:1 chat is kept, so the next message continues it instead of opening another."""
        with self.sessions.begin() as session:
            person = person_by_identity(session, PLATFORM, recipient.address, recipient.workspace)
            references.save(session, PLATFORM, f"user:{recipient.address}", reference, service_url,
                            recipient.workspace, person.id if person else None, _now())

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
