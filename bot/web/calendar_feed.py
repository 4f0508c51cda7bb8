"""`GET /calendar/<token>.ics`: a person's subscription feed (bot/services/calendar.py)."""

from __future__ import annotations

from aiohttp import web

from bot.services import calendar
from bot.telegram.context import Services

FEED_PATH = "/calendar/{token}.ics"
CACHE_CONTROL = "private, max-age=300"
"""Calendar apps may keep a copy for 5 minutes; after that they ask again with If-None-Match
and usually get a 304. `private`: a shared proxy must never keep someone's feed."""


def calendar_routes(services: Services) -> list[web.RouteDef]:
    """The feed's route (GET, and HEAD for the same answer without a body)."""

    async def feed(request: web.Request) -> web.Response:
        answer = await calendar.answer_feed(
            services.db,
            services.clock,
            token=request.match_info["token"],
            if_none_match=request.headers.get("If-None-Match"),
        )
        if answer.status == 404:
            # The same answer whether the token never existed, was revoked or is malformed.
            return web.Response(status=404, text="Not found.\n", content_type="text/plain")
        headers = {"ETag": answer.etag or "", "Cache-Control": CACHE_CONTROL}
        if answer.status == 304:
            return web.Response(status=304, headers=headers)
        headers["Content-Disposition"] = 'inline; filename="nextstep.ics"'
        return web.Response(
            body=answer.body, headers={**headers, "Content-Type": calendar.CONTENT_TYPE}
        )

    return [web.get(FEED_PATH, feed)]
