"""Slack, through Bolt for Python: the only module that imports slack_bolt and slack_sdk.

Requests reach `POST /slack/events` (or Socket Mode in development), are acknowledged at once,
and run through the same router as every other platform. Replies are rendered to Block Kit
(bot.blockkit); forms open as modals; the Home tab shows the person's own page.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import datetime, timezone
from typing import Any, Optional

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import blockkit
from bot.messages import ChannelAccess, Reply, Request
from bot.router import Router
from bot.senders import Outcome, RateLimit, Recipient, SendResult
from handlers.forms import FORMS

logger = logging.getLogger(__name__)

PLATFORM = "slack"
# Answer within this, or acknowledge now and answer through the response URL when done.
ACK_WITHIN_SECONDS = 2.0
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_FAILED = object()  # users.info did not answer
BOT_NAME = "Kent Connects"  # the bot user's display name in slack/manifest.yml
ACCESS_CHECK_SECONDS = 5.0


def _now() -> datetime:
    return datetime.now(timezone.utc)


class SlackAdapter:
    def __init__(self, router: Router, bot_token: str, signing_secret: str, api_url: str):
        self.router = router
        self.client = AsyncWebClient(token=bot_token, base_url=api_url)
        # Our own replies retry a 429 after Retry-After; deliveries have the dispatcher's buckets.
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        self.app = AsyncApp(client=self.client, signing_secret=signing_secret, process_before_response=False)
        self.emails: dict[tuple[str, str], Optional[str]] = {}
        self.lookups: dict[tuple[str, str], asyncio.Future] = {}
        self._register()

    # --- the HTTP route ------------------------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.Response:
        # slack_sdk's verifier would raise (500) on a timestamp that isn't a number: refuse it first.
        if not request.headers.get("X-Slack-Request-Timestamp", "").strip().isdigit():
            return web.json_response({"error": "invalid request"}, status=401)
        bolt_response = await self.app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def connect_socket_mode(self, app_token: str) -> None:
        """Development without a public URL: Socket Mode (no signature; an app-level token)."""
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        await AsyncSocketModeHandler(self.app, app_token).connect_async()
        logger.info("Slack Socket Mode connected")

    # --- turning Slack payloads into Requests ------------------------------------------------------

    async def _email(self, team: str, user: str) -> Optional[str]:
        """The person's e-mail (scope users:read.email), asked of Slack once per person and process,
        even when several of their messages arrive at once."""
        key = (team, user)
        if key in self.emails:
            return self.emails[key]
        pending = self.lookups.get(key)
        if pending is None:
            pending = self.lookups[key] = asyncio.ensure_future(self._ask_email(user))
        try:
            email = await asyncio.shield(pending)
        finally:
            if pending.done():
                self.lookups.pop(key, None)
        if email is not _FAILED:
            self.emails[key] = email
            return email
        return None  # not cached: try again next time

    async def _ask_email(self, user: str):
        try:
            info = await self.client.users_info(user=user)
        except SlackApiError:
            logger.exception("users.info failed for %s", user)
            return _FAILED
        profile = (info.get("user") or {}).get("profile") or {}
        return (profile.get("email") or "").strip().lower() or None

    async def _request(self, text: str, user: str, team: str, channel: str, forms: bool = True) -> Request:
        """`forms`: whether a form may open as a modal (there must be a trigger id to open it);
        in a DM or a mention, a form is asked step by step instead."""
        return Request(
            text=text, platform=PLATFORM, user_id=user, email=await self._email(team, user), now=_now(),
            workspace=team, conversation=channel, capabilities=frozenset({"forms"}) if forms else frozenset(),
            channel_access=self._access_check(channel) if channel[:1] in ("C", "G") else None,
        )

    def _access_check(self, channel: str):
        """For handlers, which run in a worker thread: ask Slack on this loop, wait for the answer."""
        loop = asyncio.get_running_loop()

        def check() -> ChannelAccess:
            future = asyncio.run_coroutine_threadsafe(self._channel_access(channel), loop)
            try:
                return future.result(timeout=ACCESS_CHECK_SECONDS)
            except Exception:  # Slack slow or down: say so rather than link a channel we can't post in
                future.cancel()
                logger.exception("checking whether the bot can post in %s failed", channel)
                return ChannelAccess(False, "I couldn't check with Slack whether I can post here; please try again "
                                            "in a moment.")

        return check

    async def _channel_access(self, channel: str) -> ChannelAccess:
        """Whether the bot is a member of the channel, joining it if it is public."""
        invite = f"Invite me first: type `/invite @{BOT_NAME}` in this channel, then ask again."
        try:
            info = (await self.client.conversations_info(channel=channel)).get("channel") or {}
        except SlackApiError as exc:
            error = exc.response.get("error", "") if exc.response is not None else ""
            if error == "missing_scope":  # installed before the app asked for channels:read
                return ChannelAccess(True, advice=f"(I couldn't check that I'm in this channel: if announcements "
                                                  f"don't appear, type `/invite @{BOT_NAME}` here.)")
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
            await self.client.conversations_join(channel=channel)
        except SlackApiError:
            logger.info("could not join public channel %s", channel, exc_info=True)
            return ChannelAccess(False, invite)
        return ChannelAccess(True, note="I've joined this channel so that I can post here.")

    async def _run(self, request: Request, once: Optional[str] = None) -> Optional[Reply]:
        return await asyncio.to_thread(self.router.handle, request, once)

    # --- sending -----------------------------------------------------------------------------------

    async def _post(self, channel: str, user: str, reply: Reply, thread_ts: Optional[str] = None,
                    ephemeral: bool = False) -> None:
        body = blockkit.message(reply)
        if ephemeral:
            await self.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **body)
        else:
            await self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, **body)
        if reply.attachment is not None:
            await self._upload(user, reply)

    async def _upload(self, user: str, reply: Reply) -> None:
        """A file (a calendar, a CSV) goes to the person's DM with the bot."""
        opened = await self.client.conversations_open(users=user)
        await self.client.files_upload_v2(
            channel=opened["channel"]["id"], content=reply.attachment.content,
            filename=reply.attachment.filename, title=reply.attachment.filename,
        )

    async def _open_modal(self, trigger_id: str, reply: Reply, channel: str) -> None:
        form = FORMS[reply.form.name]
        view = blockkit.modal(form, reply.form.prefilled, {"form": form.name, "prefilled": reply.form.prefilled,
                                                            "channel": channel})
        await self.client.views_open(trigger_id=trigger_id, view=view)

    # --- listeners -----------------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app

        @app.command("/kc")
        async def command(ack, body, respond):
            user, team, channel = body["user_id"], body.get("team_id", ""), body.get("channel_id", "")
            text = (body.get("text") or "").strip() or "help"
            task = asyncio.ensure_future(self._command(text, user, team, channel, body.get("trigger_id")))
            done, _ = await asyncio.wait({task}, timeout=ACK_WITHIN_SECONDS)
            if done:
                reply = task.result()
                if reply is None:  # a form was opened, or a repeat: nothing to say
                    await ack()
                    return
                await ack(response_type="ephemeral", **blockkit.message(reply))
                if reply.attachment is not None:
                    await self._upload(user, reply)
                return
            await ack(text="Working on it…")
            reply = await task
            if reply is not None:
                await respond(response_type="ephemeral", replace_original=False, **blockkit.message(reply))
                if reply.attachment is not None:
                    await self._upload(user, reply)

        @app.event("message")
        async def direct_message(event, body):
            if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
                return
            request = await self._request(event.get("text") or "", event["user"], body.get("team_id", ""),
                                          event["channel"], forms=False)
            reply = await self._run(request, once=f"event:{body.get('event_id') or event.get('client_msg_id')}")
            if reply is not None:
                await self._post(event["channel"], event["user"], reply)

        @app.event("app_mention")
        async def mention(event, body):
            text = _MENTION.sub("", event.get("text") or "").strip()
            request = await self._request(text, event["user"], body.get("team_id", ""), event["channel"], forms=False)
            reply = await self._run(request, once=f"event:{body.get('event_id')}")
            if reply is not None:
                # A channel is shared: only the person who asked sees the answer.
                await self._post(event["channel"], event["user"], reply,
                                 thread_ts=event.get("thread_ts") or event["ts"], ephemeral=True)

        @app.action(re.compile(f"^{re.escape(blockkit.ACTION_PREFIX)}"))
        async def button(ack, body, action, respond):
            await ack()
            user, team = body["user"]["id"], (body.get("team") or {}).get("id", "")
            channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or user
            request = await self._request(action.get("value") or "help", user, team, channel)
            reply = await self._run(request, once=f"action:{body.get('trigger_id')}")
            if reply is None:
                return
            if reply.form is not None and body.get("trigger_id"):
                await self._open_modal(body["trigger_id"], reply, channel)
                return
            if channel.startswith(("C", "G")) and body.get("response_url"):
                # A personal answer stays personal; the response URL works even in channels the
                # bot is not a member of, where chat.postEphemeral is refused.
                await respond(response_type="ephemeral", replace_original=False, **blockkit.message(reply))
                if reply.attachment is not None:
                    await self._upload(user, reply)
                return
            await self._post(channel if not channel.startswith(("C", "G")) else user, user, reply)

        @app.view(re.compile(f"^{re.escape(blockkit.FORM_PREFIX)}"))
        async def submission(ack, body, view):
            meta = json.loads(view.get("private_metadata") or "{}")
            user, team = body["user"]["id"], (body.get("team") or {}).get("id", "")
            request = await self._request("", user, team, meta.get("channel") or user)
            reply, errors = await asyncio.to_thread(
                self.router.submit_form, request, meta.get("form", ""), blockkit.modal_values(view),
                meta.get("prefilled") or {}, f"view:{view.get('id')}")
            if errors:
                await ack(response_action="errors", errors=blockkit.form_errors(_visible(errors, view)))
                return
            await ack()
            if reply is not None:
                await self._post(user, user, reply)

        @app.event("app_home_opened")
        async def home_opened(event, body):
            if event.get("tab") != "home":
                return
            request = await self._request("home", event["user"], body.get("team_id", ""), event.get("channel", ""))
            reply = await asyncio.to_thread(self.router.home, request)
            await self.client.views_publish(user_id=event["user"], view=blockkit.home_view(reply))

    async def _command(self, text: str, user: str, team: str, channel: str, trigger_id: Optional[str]) -> Optional[Reply]:
        request = await self._request(text, user, team, channel)
        reply = await self._run(request, once=f"command:{trigger_id}" if trigger_id else None)
        if reply is not None and reply.form is not None and trigger_id:
            await self._open_modal(trigger_id, reply, channel)
            return None
        return reply


def _visible(errors: dict[str, str], view: dict[str, Any]) -> dict[str, str]:
    """Errors can only attach to input blocks on the modal: others go to its first input."""
    shown = [b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"]
    result: dict[str, str] = {}
    for name, message in errors.items():
        target = name if name in shown else (shown[0] if shown else name)
        result[target] = (result[target] + " " + message) if target in result else message
    return result


# --- the sender for the delivery engine ------------------------------------------------------------

PERMANENT_ERRORS = {"user_not_found", "channel_not_found", "account_inactive", "cannot_dm_bot", "user_disabled",
                    "is_archived", "not_in_channel", "invalid_auth", "not_authed", "team_access_not_granted"}


class SlackSender:
    """Sends deliveries with chat.postMessage: to a person's DM (their user id) or a channel."""

    platform = PLATFORM
    by_email = False

    def __init__(self, bot_token: str, api_url: str, rate: float = 4.0, burst: float = 8.0):
        # No retry handlers: the dispatcher owns retries, back-off and Retry-After for deliveries.
        self.client = WebClient(token=bot_token, base_url=api_url, timeout=20, retry_handlers=[])
        self.rate, self.burst = rate, burst

    def rate_limit(self, recipient: Recipient) -> Optional[RateLimit]:
        return RateLimit(f"slack:{recipient.workspace or 'default'}", self.rate, self.burst)

    def send(self, recipient: Recipient, message: Reply) -> SendResult:
        try:
            self.client.chat_postMessage(channel=recipient.address, **blockkit.message(message))
            return SendResult.sent()
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error", "")) if exc.response is not None else ""
            if status == 429:
                retry_after = float(exc.response.headers.get("Retry-After", exc.response.headers.get("retry-after", 30)))
                return SendResult(Outcome.RATE_LIMITED, "rate limited by Slack", retry_after)
            if error in PERMANENT_ERRORS:
                return SendResult(Outcome.PERMANENT, f"Slack: {error}")
            return SendResult(Outcome.RETRY, f"Slack: {error or status}")
        except OSError as exc:  # network trouble: try again later
            return SendResult(Outcome.RETRY, f"{exc.__class__.__name__}: {exc}")
