"""Slack, through Bolt for Python: the only module that imports slack_bolt and slack_sdk.

Requests reach `POST /slack/events` (or Socket Mode in development), are acknowledged at once,
and run through the same router as every other platform. Replies are rendered to Block Kit
(bot.blockkit); forms open as modals; the Home tab shows the person's own page.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, NamedTuple, Optional
from urllib.parse import parse_qsl

from aiohttp import web
from cachetools import TTLCache
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine, and_, case, desc, or_

from bot import blockkit
from bot.router import Router
from bot.senders import Outcome, RateLimit, Recipient, SendResult
from core.forms import FORMS
from core.messages import ChannelAccess, Reply, Request
from core.settings import Settings
from storage import identities, locks
from storage.models.slack import BOTS, INSTALLATIONS

logger = logging.getLogger(__name__)

PLATFORM = "slack"
# Answer within this, or acknowledge now and answer through the response URL when done.
ACK_WITHIN_SECONDS = 2.0
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_FAILED = object()  # users.info did not answer
BOT_NAME = "Kent Connects"  # the bot user's display name in slack/manifest.yml
ACCESS_CHECK_SECONDS = 5.0
# Slack refuses to sign for more than 5 minutes either way; a timestamp is whole seconds in ASCII digits.
SIGNATURE_TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# E-mail addresses from users.info: bounded, and asked again after an hour so that a changed
# address (or one newly made visible) is seen within the hour.
EMAIL_CACHE_SIZE = 10_000
EMAIL_TTL_SECONDS = 3600.0
_MISSING = object()
# Message subtypes that are something a person typed: a message with a file, a thread reply also
# sent to the conversation. Edits, deletions, joins and bots' messages are not.
_TYPED_SUBTYPES = (None, "file_share", "thread_broadcast")


# The Web API client of the request in hand: its workspace's token (Bolt's per-request client).
_CLIENT: contextvars.ContextVar[AsyncWebClient] = contextvars.ContextVar("slack_client")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class SlackAdapter:
    def __init__(
        self,
        router: Router,
        bot_token: str,
        signing_secret: str,
        api_url: str,
        *,
        installs: Optional[SlackInstalls] = None,
        oauth: Optional[AsyncOAuthSettings] = None,
        public_url: str = "",
        email_cache_size: int = EMAIL_CACHE_SIZE,
        email_ttl: float = EMAIL_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        """One workspace's `bot_token`, or (the distributed app) `installs` and `oauth`: then every
        request is authorised with the token of the workspace it came from. `clock` times the e-mail
        cache (tests pass their own to see it expire)."""
        self.router = router
        self.installs = installs
        self._client = AsyncWebClient(token=bot_token or None, base_url=api_url)
        # Our own replies retry a 429 after Retry-After; deliveries have the dispatcher's buckets.
        # Bolt copies the handlers into each request's client.
        self._client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        if installs is not None:
            self.app = AsyncApp(
                client=self._client,
                signing_secret=signing_secret,
                process_before_response=True,
                # Bolt takes an AsyncAuthorize instance as it is (its type hint says a function).
                authorize=_Authorize(installs),  # type: ignore[arg-type]
                oauth_settings=oauth,
                user_facing_authorize_error_message=not_installed(public_url),
            )
        else:
            self.app = AsyncApp(client=self._client, signing_secret=signing_secret, process_before_response=True)
        self._secret = signing_secret.encode()
        # Only touched on the event loop's thread, so the cache (not thread-safe) needs no lock.
        self.emails: TTLCache = TTLCache(maxsize=email_cache_size, ttl=email_ttl, timer=clock)
        self.lookups: dict[tuple[str, str], asyncio.Future] = {}
        self._later_tasks: set[asyncio.Future] = set()
        self._register()

    @property
    def client(self) -> AsyncWebClient:
        """The client for the request in hand (its workspace's token), else the app's own."""
        return _CLIENT.get(self._client)

    # --- the HTTP routes -----------------------------------------------------------------------

    @property
    def distributed(self) -> bool:
        return self.app.oauth_flow is not None

    async def handle_install(self, request: web.Request) -> web.Response:
        """`GET /slack/install`: the "Add to Slack" page, with a state kept in the database."""
        flow = self.app.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        return await to_aiohttp_response(await flow.handle_installation(bolt_request))

    async def handle_oauth_redirect(self, request: web.Request) -> web.Response:
        """`GET /slack/oauth_redirect`: Slack sends the installer back with a code; the tokens are
        asked for (oauth.v2.access) and kept, then a page says it worked or why not."""
        flow = self.app.oauth_flow
        if flow is None:
            raise web.HTTPNotFound()
        bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        return await to_aiohttp_response(await flow.handle_callback(bolt_request))

    async def handle_http(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if not self._signed_by_slack(raw, request.headers):
            return web.json_response({"error": "invalid request"}, status=401)
        # Slack sends UTF-8 whatever the Content-Type says; aiohttp's request.text() (which Bolt's
        # aiohttp adapter uses) raises on anything else, or on an unknown charset: a 500.
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _refused("a signed Slack request whose body is not UTF-8")
        # Bolt's own reading of the body (slack_bolt.request.internals.parse_body) raises, a 500, on
        # JSON that doesn't parse or a `payload` that isn't JSON, and gives a non-dict that every
        # later step fails on for JSON that isn't an object. Read it here first.
        content_type = request.headers.get("Content-Type", "").split(";")[0]  # as Bolt reads it
        body = _parse_body(text, content_type)
        if body is None:
            return _refused(
                f"a signed body that is no Slack request ({content_type or 'no content type'}, {len(text)} characters)"
            )
        odd = _odd_shape(body)
        if odd:
            # Bolt's listener matchers and its self-event filter index into these without checking
            # their shape (body["actions"][0]["action_id"], body["event"]["type"], ...) and a 500 follows.
            # Slack signed it, so it is acknowledged (nothing to do) rather than retried.
            logger.warning("acknowledged a Slack request without acting on it: %s (%s)", odd, _kind(body))
            return web.Response(status=200)
        try:
            # Bolt reads any mapping of header names to values, as its own aiohttp adapter passes this one.
            bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
            if bolt_request.body != body:
                # parse_body takes any form body containing the word "payload" anywhere (a slash command
                # "/kc payload", a channel called #payload-team) for an interaction, finds no `payload`
                # field and reads it as {}: no listener, 404, the command lost. Give Bolt our reading,
                # and the context it derives from the body.
                bolt_request.body = body
                bolt_request.context = build_async_context(AsyncBoltContext({}), body)
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            # build_context assumes each id field has its documented shape (team, user, channel and
            # enterprise objects, authorizations and response_urls lists of objects).
            logger.exception("refused a signed Slack request Bolt cannot read (%s)", _kind(body))
            return web.json_response({"error": "invalid request"}, status=400)
        bolt_response = await self.app.async_dispatch(bolt_request)
        if bolt_response.status == 404:
            # Bolt answers 404 {"error": "unhandled request"} when no listener matches: an event type we
            # don't act on, a view_closed, a shortcut, a button or view that isn't ours. Slack takes a
            # non-2xx for a failure: it retries an event (and turns off the subscription of an app that
            # keeps failing) and shows the person an error for an interaction. Acknowledge it instead.
            logger.info("acknowledged a Slack request no listener handles (%s)", _kind(body))
            return web.Response(status=200)
        return await to_aiohttp_response(bolt_response)

    def _signed_by_slack(self, raw: bytes, headers) -> bool:
        """Slack's v0 signature, checked on the raw bytes before Bolt sees anything: Bolt parses the
        body (and answers ssl_check requests with 200) before its RequestVerification middleware runs,
        and slack_sdk's SignatureVerifier.is_valid raises rather than answers False for a timestamp
        that isn't an integer (int()), a non-ASCII signature (hmac.compare_digest) or a body that isn't
        UTF-8 — each a 500. Bolt still checks the signature again, which passes."""
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not _TIMESTAMP.fullmatch(timestamp) or not signature.isascii():
            return False
        if abs(time.time() - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
            return False
        digest = hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest("v0=" + digest, signature)

    async def connect_socket_mode(self, app_token: str) -> None:
        """Development without a public URL: Socket Mode (no signature; an app-level token)."""
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        await AsyncSocketModeHandler(self.app, app_token).connect_async()
        logger.info("Slack Socket Mode connected")

    # --- turning Slack payloads into Requests ------------------------------------------------------

    async def _email(self, team: str, user: str, enterprise: str = "") -> Optional[str]:
        """The person's e-mail (scope users:read.email), asked of Slack once per person, process and
        hour (EMAIL_TTL_SECONDS), even when several of their messages arrive at once."""
        key = (team, user)
        # One look-up, not `in` then `[]`: an entry may expire between the two.
        cached = self.emails.get(key, _MISSING)
        if cached is not _MISSING:
            return cached
        pending = self.lookups.get(key)
        if pending is None:
            pending = self.lookups[key] = asyncio.ensure_future(self._ask_email(user, team, enterprise))
        try:
            email = await asyncio.shield(pending)
        finally:
            if pending.done():
                self.lookups.pop(key, None)
        if email is not _FAILED:
            self.emails[key] = email
            return email
        return None  # not cached: try again next time

    async def _ask_email(self, user: str, team: str = "", enterprise: str = ""):
        try:
            info = await (await self._client_of(team, enterprise)).users_info(user=user)
        except SlackApiError:
            logger.exception("users.info failed for %s", user)
            return _FAILED
        profile = (info.get("user") or {}).get("profile") or {}
        return (profile.get("email") or "").strip().lower() or None

    async def _client_of(self, team: str, enterprise: str) -> AsyncWebClient:
        """The client that asks about a person of `team`: the request's own, or, for someone from
        another workspace in a Slack Connect channel, that workspace's if the app is installed
        there (their profile and e-mail are their own workspace's to give)."""
        client = self.client
        # Bolt gives each request's client the team it authorised for (as a default parameter).
        if self.installs is None or not team or team == client.default_params.get("team_id"):
            return client
        bot = await asyncio.to_thread(self.installs.bot, enterprise, team)
        if bot is None or not bot.bot_token:
            return client
        return AsyncWebClient(
            token=bot.bot_token, base_url=client.base_url, team_id=team, retry_handlers=list(client.retry_handlers)
        )

    async def _request(self, text: str, user: str, who: Who, channel: str, forms: bool = True) -> Request:
        """`who`: the person's own workspace and Enterprise Grid org (see _who). `forms`: whether a
        form may open as a modal (there must be a trigger id to open it); in a DM or a mention, a
        form is asked step by step instead."""
        return Request(
            text=text,
            platform=PLATFORM,
            user_id=user,
            email=await self._email(who.team, user, who.enterprise),
            now=_now(),
            workspace=who.team,
            enterprise=who.enterprise,
            host_workspace=who.host_team,
            host_enterprise=who.host_enterprise,
            conversation=channel,
            capabilities=frozenset({"forms"}) if forms else frozenset(),
            channel_access=self._access_check(channel) if channel[:1] in ("C", "G") else None,
        )

    def _access_check(self, channel: str):
        """For handlers, which run in a worker thread: ask Slack on this loop, wait for the answer."""
        loop = asyncio.get_running_loop()
        client = self.client  # the request's: the check runs later, in a worker thread

        def check() -> ChannelAccess:
            future = asyncio.run_coroutine_threadsafe(self._channel_access(channel, client), loop)
            try:
                return future.result(timeout=ACCESS_CHECK_SECONDS)
            except Exception:  # Slack slow or down: say so rather than link a channel we can't post in
                future.cancel()
                logger.exception("checking whether the bot can post in %s failed", channel)
                return ChannelAccess(
                    False, "I couldn't check with Slack whether I can post here; please try again in a moment."
                )

        return check

    async def _channel_access(self, channel: str, client: AsyncWebClient) -> ChannelAccess:
        """Whether the bot is a member of the channel, joining it if it is public."""
        invite = f"Invite me first: type `/invite @{BOT_NAME}` in this channel, then ask again."
        try:
            info = (await client.conversations_info(channel=channel)).get("channel") or {}
        except SlackApiError as exc:
            error = exc.response.get("error", "") if exc.response is not None else ""
            if error == "missing_scope":  # installed before the app asked for channels:read
                return ChannelAccess(
                    True,
                    advice=f"(I couldn't check that I'm in this channel: if announcements "
                    f"don't appear, type `/invite @{BOT_NAME}` here.)",
                )
            if error == "channel_not_found":  # a private channel the bot isn't in
                return ChannelAccess(False, invite)
            raise
        if info.get("is_archived"):
            return ChannelAccess(False, "This channel is archived.")
        if info.get("is_member"):
            return ChannelAccess(True)
        if info.get("is_private"):
            return ChannelAccess(False, invite)
        try:
            await client.conversations_join(channel=channel)
        except SlackApiError:
            logger.info("could not join public channel %s", channel, exc_info=True)
            return ChannelAccess(False, invite)
        return ChannelAccess(True, note="I've joined this channel so that I can post here.")

    async def _run(self, request: Request, once: Optional[str] = None) -> Optional[Reply]:
        return await asyncio.to_thread(self.router.handle, request, once)

    # --- sending -----------------------------------------------------------------------------------

    async def _post(
        self, channel: str, user: str, reply: Reply, thread_ts: Optional[str] = None, ephemeral: bool = False
    ) -> None:
        body = blockkit.message(reply)
        if ephemeral:
            await self.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **body)
        else:
            await self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, **body)
        if reply.attachment is not None:
            await self._upload(user, reply)

    async def _upload(self, user: str, reply: Reply) -> None:
        """A file (a calendar, a CSV) goes to the person's DM with the bot."""
        attachment = reply.attachment
        if attachment is None:
            return
        opened = await self.client.conversations_open(users=user)
        await self.client.files_upload_v2(
            channel=opened["channel"]["id"],
            content=attachment.content,
            filename=attachment.filename,
            title=attachment.filename,
        )

    async def _open_modal(self, trigger_id: str, reply: Reply, channel: str) -> None:
        asked = reply.form
        if asked is None:
            return
        form = FORMS[asked.name]
        view = blockkit.modal(
            form, asked.prefilled, {"form": form.name, "prefilled": asked.prefilled, "channel": channel}
        )
        await self.client.views_open(trigger_id=trigger_id, view=view)

    # --- listeners -----------------------------------------------------------------------------------

    # Bolt answers Slack's HTTP request when the listener returns (process_before_response=True):
    # with Bolt's other mode it runs the listener as a task and looks every 10 ms whether it has
    # acknowledged yet, so that every answer waited up to 10 ms more. What comes after the
    # acknowledgement (a message posted, a file uploaded, a deferred answer) is left to `_later`.

    def _later(self, work, body: dict[str, Any]) -> None:
        """Run `work` (a coroutine) after the listener has returned and Slack has its answer; a
        failure is logged as Bolt logs a listener's (and a token Slack refused is read again)."""
        task = asyncio.ensure_future(work)  # with this request's context: its client, its request id
        self._later_tasks.add(task)  # held until done (the loop keeps only a weak reference)

        def ended(done: asyncio.Future) -> None:
            self._later_tasks.discard(done)
            if done.cancelled() or done.exception() is None:
                return
            error = done.exception()
            if self.installs is not None and isinstance(error, SlackApiError) and _auth_error(error):
                self.installs.forget()
            logger.error("Slack: a listener failed (%s): %s", _kind(body), error, exc_info=error)

        task.add_done_callback(ended)

    def _register(self) -> None:
        app = self.app

        @app.middleware
        async def per_workspace(context, next):
            # Every Web API call made for this request (its reply, users.info, a modal) uses the
            # client Bolt authorised for its workspace; tasks started from here inherit it.
            _CLIENT.set(context.client)
            return await next()

        if self.installs is not None:
            installs = self.installs

            @app.error
            async def failed(error, body):
                # A token Slack no longer takes (refreshed or revoked elsewhere): read it again next time.
                if isinstance(error, SlackApiError) and _auth_error(error):
                    installs.forget()
                logger.error("Slack: a listener failed (%s): %s", _kind(body), error, exc_info=error)

            @app.event("app_uninstalled")
            async def uninstalled(body, context):
                team, enterprise = _installed_where(body)

                async def work() -> None:
                    gone = await asyncio.to_thread(installs.uninstalled, enterprise, team, _now())
                    logger.info(
                        "Slack: uninstalled from %s; %d people's accounts there marked gone", team or enterprise, gone
                    )

                self._later(work(), body)

            @app.event("team_access_revoked")
            async def access_revoked(body, event):
                # An org-wide install no longer reaches some workspaces of its org (the org keeps it).
                async def work() -> None:
                    for team in [t for t in event.get("team_ids") or [] if isinstance(t, str) and t]:
                        gone = await asyncio.to_thread(identities.gone, installs.engine, PLATFORM, _now(), team)
                        logger.info("Slack: no longer in workspace %s of its org; %d accounts marked gone", team, gone)

                self._later(work(), body)

            @app.event("team_access_granted")
            async def access_granted(body, event):
                async def work() -> None:
                    for team in [t for t in event.get("team_ids") or [] if isinstance(t, str) and t]:
                        await asyncio.to_thread(identities.back, installs.engine, PLATFORM, team)

                self._later(work(), body)

            @app.event("tokens_revoked")
            async def revoked(body, event):
                team, enterprise = _installed_where(body)
                tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
                users = [u for u in tokens.get("oauth") or [] if isinstance(u, str)]

                async def work() -> None:
                    if users:
                        await asyncio.to_thread(installs.users_revoked, enterprise, team, users)
                    if tokens.get("bot"):
                        gone = await asyncio.to_thread(installs.uninstalled, enterprise, team, _now())
                        logger.info("Slack: the bot token of %s was revoked; %d accounts marked gone", team, gone)

                self._later(work(), body)

        # Slack sends an app only its own commands. The manifest's is /kc, but a workspace may have
        # renamed it (to make way for another app's /kc): every command is answered the same way.
        @app.command(re.compile(""))
        async def command(ack, body, respond, context):
            user = _text(body.get("user_id"))
            if not user:
                logger.warning("a slash command without a user id (%s)", _kind(body))
                await ack(text="Sorry, Slack didn't tell me who you are, so I can't answer that. Please try again.")
                return
            channel = _text(body.get("channel_id"))
            text = _text(body.get("text")).strip() or "help"
            task = asyncio.ensure_future(
                self._command(text, user, _who(context, body), channel, _text(body.get("trigger_id")))
            )
            done, _ = await asyncio.wait({task}, timeout=ACK_WITHIN_SECONDS)
            if done:
                reply = task.result()
                if reply is None:  # a form was opened, or a repeat: nothing to say
                    await ack()
                    return
                await ack(response_type="ephemeral", **blockkit.message(reply))
                if reply.attachment is not None:
                    self._later(self._upload(user, reply), body)
                return
            await ack(text="Working on it…")

            async def answer_later() -> None:
                reply = await task
                if reply is not None:
                    await self._answer_privately(respond, _text(body.get("response_url")), user, reply)

            self._later(answer_later(), body)

        @app.event("message")
        async def direct_message(event, body, context):
            # What a person typed in their DM with the bot; not edits, deletions or other bots' messages
            # (Bolt drops the bot's own), and not channels (the bot subscribes to message.im only).
            if event.get("channel_type") != "im" or event.get("subtype") not in _TYPED_SUBTYPES or event.get("bot_id"):
                return
            user, channel = _text(event.get("user")), _text(event.get("channel"))
            if not user or not channel:
                logger.warning("a direct message without a user or a channel (%s)", _kind(body))
                return
            ts, thread = _text(event.get("ts")), _text(event.get("thread_ts"))
            who = _who(context, body)

            async def answer() -> None:
                request = await self._request(_text(event.get("text")), user, who, channel, forms=False)
                once = _once("event", body.get("event_id"), event.get("client_msg_id"), ts and f"{channel}:{ts}")
                reply = await self._run(request, once=once)
                if reply is not None:
                    # Asked in a thread of the DM: answered in that thread.
                    await self._post(channel, user, reply, thread_ts=thread or None)

            self._later(answer(), body)

        @app.event("app_mention")
        async def mention(event, body, context):
            user, channel = _text(event.get("user")), _text(event.get("channel"))
            if not user or not channel:
                logger.warning("a mention without a user or a channel (%s)", _kind(body))
                return
            ts = _text(event.get("ts"))
            text = _MENTION.sub("", _text(event.get("text"))).strip()
            who = _who(context, body)

            async def answer() -> None:
                request = await self._request(text, user, who, channel, forms=False)
                reply = await self._run(request, once=_once("event", body.get("event_id"), ts and f"{channel}:{ts}"))
                if reply is not None:
                    # A channel is shared: only the person who asked sees the answer.
                    await self._post(
                        channel, user, reply, thread_ts=_text(event.get("thread_ts")) or ts or None, ephemeral=True
                    )

            self._later(answer(), body)

        @app.action(re.compile(f"^{re.escape(blockkit.ACTION_PREFIX)}"))
        async def button(ack, body, action, respond, context):
            await ack()
            user = _text(_get(body, "user", "id"))
            if not user:
                logger.warning("a button press without a user (%s)", _kind(body))
                return
            channel = _text(_get(body, "channel", "id")) or _text(_get(body, "container", "channel_id")) or user
            trigger_id, action_ts = _text(body.get("trigger_id")), _text(action.get("action_ts"))
            who = _who(context, body)

            async def answer() -> None:
                request = await self._request(
                    _text(action.get("value")) or "help", user, who, channel, forms=bool(trigger_id)
                )
                reply = await self._run(request, once=_once("action", trigger_id, action_ts and f"{user}:{action_ts}"))
                if reply is None:
                    return
                if reply.form is not None and trigger_id:
                    await self._open_modal(trigger_id, reply, channel)
                    return
                response_url = _text(body.get("response_url"))
                if channel.startswith(("C", "G")) and response_url:
                    # A personal answer stays personal; the response URL works even in channels the
                    # bot is not a member of, where chat.postEphemeral is refused.
                    await self._answer_privately(respond, response_url, user, reply)
                    return
                await self._post(channel if not channel.startswith(("C", "G")) else user, user, reply)

            self._later(answer(), body)

        @app.view(re.compile(f"^{re.escape(blockkit.FORM_PREFIX)}"))
        async def submission(ack, body, view, context):
            user = _text(_get(body, "user", "id"))
            form = _text(view.get("callback_id"))[len(blockkit.FORM_PREFIX) :]
            if not user or form not in FORMS:
                # A modal opened by another version of the bot, or one that names nobody: close it.
                logger.warning("a modal submission for form %r by %r that can't be taken", form[:60], user)
                await ack()
                return
            meta = _metadata(view)
            given = meta.get("prefilled")
            prefilled = given if isinstance(given, dict) else {}
            request = await self._request("", user, _who(context, body), _text(meta.get("channel")) or user)
            reply, errors = await asyncio.to_thread(
                self.router.submit_form, request, form, _modal_values(view), prefilled, _once("view", view.get("id"))
            )
            if errors:
                await ack(response_action="errors", errors=blockkit.form_errors(_visible(errors, view)))
                return
            await ack()
            if reply is not None:
                self._later(self._post(user, user, reply), body)

        @app.event("app_home_opened")
        async def home_opened(event, body, context):
            if event.get("tab") != "home":
                return
            user = _text(event.get("user"))
            if not user:
                logger.warning("app_home_opened without a user (%s)", _kind(body))
                return
            who = _who(context, body)

            async def publish() -> None:
                request = await self._request("home", user, who, _text(event.get("channel")))
                reply = await asyncio.to_thread(self.router.home, request)
                await self.client.views_publish(user_id=user, view=blockkit.home_view(reply))

            self._later(publish(), body)

    async def _command(self, text: str, user: str, who: Who, channel: str, trigger_id: str) -> Optional[Reply]:
        # A modal needs a trigger id: without one, a form is asked step by step.
        request = await self._request(text, user, who, channel, forms=bool(trigger_id))
        reply = await self._run(request, once=_once("command", trigger_id))
        if reply is not None and reply.form is not None and trigger_id:
            await self._open_modal(trigger_id, reply, channel)
            return None
        return reply

    async def _answer_privately(self, respond, response_url: str, user: str, reply: Reply) -> None:
        """An answer after the ack that only the person sees: through the response URL, or, without
        one (Slack sends it, but a request without it is still answered), in their DM with the bot."""
        if response_url:
            await respond(response_type="ephemeral", replace_original=False, **blockkit.message(reply))
        else:
            await self.client.chat_postMessage(channel=user, **blockkit.message(reply))
        if reply.attachment is not None:
            await self._upload(user, reply)


# --- reading what Slack sends ------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A string field of a payload, or "" when it is missing, null or not a string."""
    return value if isinstance(value, str) else ""


class Who(NamedTuple):
    """Where a person is from, and where the conversation is when that is elsewhere."""

    team: str  # the person's own workspace ("" when Slack doesn't say)
    enterprise: str  # the person's own Enterprise Grid org, if any
    host_team: str = ""  # a Slack Connect channel's host workspace, when not the person's
    host_enterprise: str = ""


def _who(context: AsyncBoltContext, body: dict[str, Any]) -> Who:
    """The person's own workspace and Enterprise Grid org. In a Slack Connect channel that is the
    person's side (Bolt's actor team: the event's user_team), never the channel's host's, nor the
    host's org; elsewhere the request's workspace (for an org-wide install, the workspace inside
    the org)."""
    here_team = (
        _text(context.team_id)
        or _text(body.get("team_id"))
        or _text(_get(body, "team", "id"))
        or _text(_get(body, "user", "team_id"))
    )
    here_enterprise = _text(context.enterprise_id) or _text(body.get("enterprise_id"))
    actor_team, actor_enterprise = _text(context.actor_team_id), _text(context.actor_enterprise_id)
    if actor_team and actor_team != here_team:  # someone from another workspace (Slack Connect)
        return Who(actor_team, actor_enterprise, here_team, here_enterprise)
    if body.get("is_ext_shared_channel") is True and not actor_team:
        # A Slack Connect channel where Slack doesn't say which workspace the person is from (a
        # Grid org's member, in some events): unknown, rather than taken for the host's.
        return Who("", actor_enterprise, here_team, here_enterprise)
    return Who(here_team or actor_team, here_enterprise or actor_enterprise)


def _installed_where(body: dict[str, Any]) -> tuple[str, str]:
    """The install an event is about: (workspace, org), the workspace "" for an org-wide install."""
    team, enterprise = _text(body.get("team_id")), _text(body.get("enterprise_id"))
    authorizations = body.get("authorizations")
    first = authorizations[0] if isinstance(authorizations, list) and authorizations else None
    if isinstance(first, dict) and first.get("is_enterprise_install") is True and enterprise:
        return "", enterprise
    return team, enterprise


def _get(node: Any, *path: str) -> Any:
    """node[path[0]][path[1]]..., or None where a step is missing or not an object."""
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _once(kind: str, *candidates: Any) -> Optional[str]:
    """The once-only key of a delivery: the first id it carries. None (no de-duplication) when it has
    none, so that it is answered, possibly twice, rather than taken for a repeat of every other."""
    for candidate in candidates:
        if isinstance(candidate, str) and candidate:
            return f"{kind}:{candidate}"
    return None


def _kind(body: dict[str, Any]) -> str:
    """What a request is, for the log (never its text)."""
    kind = _text(body.get("type")) or (f"command {_text(body.get('command'))}" if "command" in body else "no type")
    if isinstance(body.get("event"), dict):
        kind += f"/{_text(body['event'].get('type'))}"
    return kind[:120]


def _parse_body(text: str, content_type: str) -> Optional[dict[str, Any]]:
    """The body as Bolt means to read it (JSON for application/json or a body starting with "{", else a
    form whose `payload` field, if any, is JSON), or None if it is no request Slack sends: every
    Events API body and interaction payload is an object with a type; every other form is a slash
    command or an ssl_check."""
    try:
        if content_type == "application/json" or text.startswith("{"):
            body = json.loads(text)
        else:
            fields = dict(parse_qsl(text, keep_blank_values=True))
            if "payload" not in fields:
                return fields if "command" in fields or "ssl_check" in fields else None
            body = json.loads(fields["payload"])
    except ValueError:  # json.JSONDecodeError, or a number too long for int()
        return None
    return body if isinstance(body, dict) and isinstance(body.get("type"), str) else None


def _odd_shape(body: dict[str, Any]) -> Optional[str]:
    """Why Bolt would fail on a body (see handle_http), or None."""
    if "event" in body and not (isinstance(body["event"], dict) and isinstance(body["event"].get("type"), str)):
        return "an event that is not an object with a type"
    if "command" in body and not isinstance(body["command"], str):
        return "a command that is not a string"
    if "callback_id" in body and not isinstance(body["callback_id"], str):
        return "a callback_id that is not a string"
    kind = body.get("type")
    # Bolt reads body["actions"][0] for every listener it tries, once the type says there are actions.
    if (kind == "block_actions" and "actions" in body) or (kind == "interactive_message" and "callback_id" in body):
        actions = body.get("actions")
        if not (isinstance(actions, list) and actions and isinstance(actions[0], dict)):
            return f"{kind} without an action"
        if kind == "block_actions" and not isinstance(actions[0].get("action_id"), str):
            return "block_actions whose action has no action_id"
    if kind in ("view_submission", "view_closed") and "view" in body:
        view = body["view"]
        if not (isinstance(view, dict) and isinstance(view.get("callback_id", ""), str)):
            return "a view that is not an object with a callback_id"
        # Bolt's to_step, run for every listener it tries, reads view["type"] (and then
        # body["workflow_step"] for a workflow step's view). The bot's own views are modals.
        if kind == "view_submission" and "callback_id" in view and view.get("type") != "modal":
            return "a submission of a view that is not a modal"
    if kind == "workflow_step_edit" and "callback_id" in body and "workflow_step" not in body:
        return "a workflow_step_edit without its workflow_step"
    return None


def _refused(why: str) -> web.Response:
    logger.warning("refused %s", why)
    return web.json_response({"error": "invalid request"}, status=400)


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The private_metadata a modal was opened with (a JSON object), or {} for anything else."""
    try:
        meta = json.loads(_text(view.get("private_metadata")) or "{}")
    except ValueError:
        logger.warning("a modal's private_metadata is not JSON")
        return {}
    return meta if isinstance(meta, dict) else {}


def _modal_values(view: dict[str, Any]) -> dict[str, str]:
    """blockkit.modal_values of a copy of the modal's state holding only strings where a modal of ours
    has them: Slack sends null for an input left empty, and nothing else is assumed of its shape."""
    values = _get(view, "state", "values")
    clean: dict[str, Any] = {}
    for block_id, actions in values.items() if isinstance(values, dict) else ():
        element = _get(actions, "value")
        element = element if isinstance(element, dict) else {}
        clean[block_id] = {
            "value": {
                "type": _text(element.get("type")),
                "value": _text(element.get("value")),
                "selected_date": _text(element.get("selected_date")),
                "selected_option": {"value": _text(_get(element, "selected_option", "value"))},
            }
        }
    return blockkit.modal_values({"state": {"values": clean}})


def _visible(errors: dict[str, str], view: dict[str, Any]) -> dict[str, str]:
    """Errors can only attach to input blocks on the modal: others go to its first input."""
    given = view.get("blocks")
    blocks = given if isinstance(given, list) else []
    shown = [
        str(b["block_id"]) for b in blocks if isinstance(b, dict) and b.get("type") == "input" and b.get("block_id")
    ]
    result: dict[str, str] = {}
    for name, message in errors.items():
        target = name if name in shown else (shown[0] if shown else name)
        result[target] = (result[target] + " " + message) if target in result else message
    return result


# --- the sender for the delivery engine ------------------------------------------------------------

PERMANENT_ERRORS = {
    "user_not_found",
    "channel_not_found",
    "account_inactive",
    "cannot_dm_bot",
    "user_disabled",
    "is_archived",
    "not_in_channel",
    "invalid_auth",
    "not_authed",
    "team_access_not_granted",
    "token_revoked",
    "app_uninstalled",
}


class SlackSender:
    """Sends deliveries with chat.postMessage: to a person's DM (their user id) or a channel, with
    one workspace's token, or (the distributed app) the token of the recipient's own workspace."""

    platform = PLATFORM
    by_email = False

    def __init__(
        self,
        bot_token: str,
        api_url: str,
        rate: float = 4.0,
        burst: float = 8.0,
        installs: Optional[SlackInstalls] = None,
    ):
        # No retry handlers: the dispatcher owns retries, back-off and Retry-After for deliveries.
        self.api_url = api_url
        self.client = WebClient(token=bot_token or None, base_url=api_url, timeout=20, retry_handlers=[])
        self.installs = installs
        self.rate, self.burst = rate, burst

    def rate_limit(self, recipient: Recipient) -> Optional[RateLimit]:
        # Each workspace's limits are its own.
        return RateLimit(f"slack:{recipient.workspace or 'default'}", self.rate, self.burst)

    def _client_for(self, recipient: Recipient) -> WebClient | SendResult:
        if self.installs is None:
            return self.client
        bot = self.installs.bot(recipient.enterprise, recipient.workspace)
        if bot is None or not bot.bot_token:
            return _not_installed_here(recipient)
        return WebClient(token=bot.bot_token, base_url=self.api_url, timeout=20, retry_handlers=[])

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        try:
            client = self._client_for(recipient)
            if isinstance(client, SendResult):
                return client
            client.chat_postMessage(channel=recipient.address, **blockkit.message(message))
            return SendResult.sent()
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error", "")) if exc.response is not None else ""
            if self.installs is not None and _auth_error(exc):
                self.installs.forget()  # the next try reads the workspace's token again
                if self.installs.bot(recipient.enterprise, recipient.workspace) is None:  # removed meanwhile
                    return _not_installed_here(recipient)
            if status == 429:
                retry_after = float(
                    exc.response.headers.get("Retry-After", exc.response.headers.get("retry-after", 30))
                )
                return SendResult(Outcome.RATE_LIMITED, "rate limited by Slack", retry_after)
            if error in PERMANENT_ERRORS:
                return SendResult(Outcome.PERMANENT, f"Slack: {error}")
            return SendResult(Outcome.RETRY, f"Slack: {error or status}")
        except OSError as exc:  # network trouble: try again later
            return SendResult(Outcome.RETRY, f"{exc.__class__.__name__}: {exc}")


def _not_installed_here(recipient: Recipient) -> SendResult:
    """The app is not (any more) in the recipient's workspace: a person's message is held (the
    console shows it, or it goes once they are reached elsewhere); a channel's fails."""
    where = f"the Slack app is not installed in workspace {recipient.workspace or '(unknown)'}"
    if recipient.address[:1] in ("U", "W"):  # a person (user ids), not a channel
        return SendResult(Outcome.UNREACHABLE, f"{where}; held")
    return SendResult(Outcome.PERMANENT, where)


# --- the distributed app: installed in many workspaces through OAuth v2 -------------------------

# A token is refreshed this long before it expires (Slack's rotating bot tokens last 12 hours).
REFRESH_MINUTES_BEFORE_EXPIRY = 120
OAUTH_STATE_SECONDS = 600  # an "Add to Slack" link works for ten minutes
# A workspace's bot is read from the database at most this often by a process (a request needs it
# before anything else). A token another process refreshed meanwhile still works until it expires;
# after an uninstall, Slack refuses the old token and the next look-up finds none.
BOT_CACHE_SECONDS = 30.0
BOT_CACHE_SIZE = 1000
# After Slack refuses a refresh, the workspace's token is not refreshed again for this long (each
# try takes the lock and calls Slack): the token in hand is used while it lasts.
REFRESH_RETRY_SECONDS = 60.0
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


class SlackInstalls:
    """The workspaces and Enterprise Grid orgs the app is installed in: slack_sdk's SQLAlchemy
    installation store on our own database (tables from migration 0013), and each bot token
    refreshed before it expires, one refresh at a time across every process (storage.locks)."""

    def __init__(
        self,
        engine: Engine,
        client_id: str,
        client_secret: str,
        api_url: str,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.engine = engine
        # (enterprise, team) -> Bot; read and written from worker threads, so under a lock.
        self.cache: TTLCache = TTLCache(maxsize=BOT_CACHE_SIZE, ttl=BOT_CACHE_SECONDS, timer=clock)
        self.refused: TTLCache = TTLCache(maxsize=BOT_CACHE_SIZE, ttl=REFRESH_RETRY_SECONDS, timer=clock)
        self.cache_lock = threading.Lock()
        self.store = SQLAlchemyInstallationStore(
            client_id=client_id, engine=engine, bots_table_name=BOTS, installations_table_name=INSTALLATIONS
        )
        self.states = SQLAlchemyOAuthStateStore(expiration_seconds=OAUTH_STATE_SECONDS, engine=engine)
        self.rotator = TokenRotator(
            client_id=client_id,
            client_secret=client_secret,
            client=WebClient(base_url=api_url, timeout=20, retry_handlers=[]),
        )

    def find(self, enterprise: str, team: str) -> Optional[Bot]:
        """The bot installed for the workspace: its own install, else its org's org-wide install."""
        bots = self.store.bots
        c = bots.c
        where = [c.team_id == team] if team else []
        if enterprise:
            where.append(and_(c.enterprise_id == enterprise, c.is_enterprise_install.is_(True)))
        if not where:
            return None
        query = (
            bots.select()
            .where(c.client_id == self.store.client_id, c.bot_token.is_not(None), or_(*where))
            .order_by(case((c.team_id == team, 0), else_=1), desc(c.installed_at))
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else SQLAlchemyInstallationStore.build_bot_entity(row)

    def bot(self, enterprise: str, team: str) -> Optional[Bot]:
        """The workspace's bot, with a token good for a while longer: refreshed first if it expires
        within REFRESH_MINUTES_BEFORE_EXPIRY, by one process at a time (a refresh token works once)."""
        key = (enterprise, team)
        with self.cache_lock:
            cached = self.cache.get(key)
        if cached is not None and not _expiring(cached):
            return cached
        bot = self._bot(enterprise, team)
        with self.cache_lock:
            if bot is not None and not _expiring(bot):
                self.cache[key] = bot
            else:
                self.cache.pop(key, None)
        return bot

    def forget(self) -> None:
        with self.cache_lock:
            self.cache.clear()

    def _bot(self, enterprise: str, team: str) -> Optional[Bot]:
        bot = self.find(enterprise, team)
        if bot is None or not _expiring(bot):
            return bot
        with self.cache_lock:
            refused_lately = (enterprise, team) in self.refused
        if refused_lately:
            return None if _expired(bot) else bot
        with locks.held(self.engine, f"slack-token:{bot.enterprise_id or ''}:{bot.team_id or ''}"):
            bot = self.find(enterprise, team)  # another process may have refreshed it meanwhile
            if bot is None or not _expiring(bot):
                return bot
            try:
                refreshed = self.rotator.perform_bot_token_rotation(
                    bot=bot, minutes_before_expiration=REFRESH_MINUTES_BEFORE_EXPIRY
                )
            except SlackTokenRotationError as exc:
                with self.cache_lock:
                    self.refused[(enterprise, team)] = True
                logger.error(
                    "Slack: refreshing the bot token of %s failed (%s); not tried again for %d s",
                    bot.team_id or bot.enterprise_id,
                    exc.api_error.response.get("error", "") if exc.api_error.response is not None else exc,
                    REFRESH_RETRY_SECONDS,
                )
                return None if _expired(bot) else bot
            if refreshed is None:
                return bot
            self.store.save_bot(refreshed)
            logger.info("Slack: refreshed the bot token of %s", bot.team_id or bot.enterprise_id)
            return refreshed

    def installed(self, installation: Installation) -> None:
        """A workspace or org installed the app (again): its people are reached there again."""
        self.store.save(installation)
        self.forget()
        org_wide = bool(installation.is_enterprise_install)
        identities.back(
            self.engine,
            PLATFORM,
            workspace=None if org_wide else installation.team_id,
            enterprise=installation.enterprise_id if org_wide else None,
        )

    def uninstalled(self, enterprise: str, team: str, now: datetime) -> int:
        """The app was removed from a workspace (or an org), or its bot token revoked: its tokens go
        (the app asks for no others), its people stay, and their identities there are marked gone.
        How many were marked."""
        org_wide = bool(enterprise) and not team
        self.store.delete_all(enterprise_id=enterprise or None, team_id=None if org_wide else team)
        self.forget()  # after the delete: a look-up in between would keep the old bot
        return identities.gone(
            self.engine,
            PLATFORM,
            now,
            workspace=None if org_wide else team,
            enterprise=enterprise if org_wide else None,
        )

    def users_revoked(self, enterprise: str, team: str, users: list[str]) -> None:
        """People's own tokens revoked (the bot asks for none, but an install may carry one)."""
        for user in users:
            self.store.delete_installation(enterprise_id=enterprise or None, team_id=team or None, user_id=user)


def not_installed(public_url: str) -> str:
    """What someone is told who uses the bot from a workspace where the app isn't (any more) installed."""
    where = f"{public_url}{INSTALL_PATH}" if public_url else "this bot's /slack/install page"
    return (
        "Kent Connects isn't installed in this Slack workspace, or was removed from it, so I can't answer "
        f"here yet. Your Slack admin can add it at {where}; the Partnership Office can help."
    )


AUTH_ERRORS = ("token_expired", "invalid_auth", "token_revoked", "not_authed", "account_inactive")


def _auth_error(exc: SlackApiError) -> bool:
    return exc.response is not None and str(exc.response.get("error", "")) in AUTH_ERRORS


def _expiring(bot: Bot) -> bool:
    expires = bot.bot_token_expires_at
    return expires is not None and expires <= time.time() + REFRESH_MINUTES_BEFORE_EXPIRY * 60


def _expired(bot: Bot) -> bool:
    return bot.bot_token_expires_at is not None and bot.bot_token_expires_at <= time.time()


class _Authorize(AsyncAuthorize):
    """Bolt's per-request authorisation from our installs, so that each request (and each reply to
    it) uses the token of the workspace it came from, refreshed under the cross-process lock."""

    def __init__(self, installs: SlackInstalls):
        super().__init__()
        self.installs = installs

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: Optional[str],
        team_id: Optional[str],
        user_id: Optional[str],
        actor_enterprise_id: Optional[str] = None,
        actor_team_id: Optional[str] = None,
        actor_user_id: Optional[str] = None,
    ) -> Optional[AuthorizeResult]:
        bot = await asyncio.to_thread(self.installs.bot, enterprise_id or "", team_id or "")
        if bot is None:
            logger.warning("Slack: a request from %s, where the app is not installed", team_id or enterprise_id)
            return None
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id,
            team_id=team_id or bot.team_id,
            user_id=user_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
        )


class _AsyncInstallationStore(AsyncInstallationStore):
    """What Bolt's OAuth flow saves an installation through: our installs, in a worker thread."""

    def __init__(self, installs: SlackInstalls):
        self.installs = installs

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_save(self, installation: Installation):
        await asyncio.to_thread(self.installs.installed, installation)

    async def async_save_bot(self, bot: Bot):
        await asyncio.to_thread(self.installs.store.save_bot, bot)

    async def async_find_bot(
        self, *, enterprise_id: Optional[str], team_id: Optional[str], is_enterprise_install: Optional[bool] = False
    ) -> Optional[Bot]:
        team = "" if is_enterprise_install else team_id or ""
        return await asyncio.to_thread(self.installs.bot, enterprise_id or "", team)

    async def async_find_installation(
        self,
        *,
        enterprise_id: Optional[str],
        team_id: Optional[str],
        user_id: Optional[str] = None,
        is_enterprise_install: Optional[bool] = False,
    ) -> Optional[Installation]:
        return await asyncio.to_thread(
            self.installs.store.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_delete_bot(self, *, enterprise_id: Optional[str], team_id: Optional[str]) -> None:
        await asyncio.to_thread(self.installs.store.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: Optional[str], team_id: Optional[str], user_id: Optional[str] = None
    ) -> None:
        await asyncio.to_thread(
            self.installs.store.delete_installation, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )


class _AsyncStateStore(AsyncOAuthStateStore):
    """The OAuth `state` values, in our database (slack_sdk's SQLAlchemy state store)."""

    def __init__(self, states: SQLAlchemyOAuthStateStore):
        self.states = states

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_issue(self, *args, **kwargs) -> str:
        return await asyncio.to_thread(self._issue)

    def _issue(self) -> str:
        # Anyone may open the install page: states it issued that have expired go first, so the
        # table holds only the last few minutes' (slack_sdk never deletes an unused one).
        table = self.states.oauth_states
        with self.states.engine.begin() as connection:
            connection.execute(
                table.delete().where(table.c.expire_at < datetime.now(timezone.utc).replace(tzinfo=None))
            )
        return self.states.issue()

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self.states.consume, state)


def oauth_settings(settings: Settings, installs: SlackInstalls) -> AsyncOAuthSettings:
    """Bolt's OAuth v2 flow, on our stores: /slack/install and /slack/oauth_redirect."""
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(settings.slack_scopes),
        redirect_uri=settings.slack_redirect_url or None,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=_AsyncInstallationStore(installs),
        installation_store_bot_only=True,
        state_store=_AsyncStateStore(installs.states),
        state_expiration_seconds=OAUTH_STATE_SECONDS,
        token_rotation_expiration_minutes=REFRESH_MINUTES_BEFORE_EXPIRY,
    )
