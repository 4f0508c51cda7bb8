"""One aiohttp server for the bot's HTTP routes, started and stopped with the application."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.config import ConfigError

logger = logging.getLogger(__name__)


class WebServer:
    """Serves `routes` on host:port (0: any free port) until stopped.

    `public_url` is the address people reach it by (links are built from it); without one
    it is `http://127.0.0.1:<port>`, the port it actually listens on.
    """

    def __init__(
        self,
        routes: list[web.RouteDef],
        *,
        host: str,
        port: int,
        public_url: str | None,
        port_variable: str,
    ) -> None:
        self.routes = routes
        self.host = host
        self.port = port
        self._public_url = public_url
        self._port_variable = port_variable
        self._runner: web.AppRunner | None = None

    @property
    def public_url(self) -> str:
        """The base of every link to this server (no trailing slash)."""
        if self._public_url:
            return self._public_url.rstrip("/")
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen; a port that is taken stops start-up with one line naming the variable."""
        app = web.Application()
        app.add_routes(self.routes)
        runner = web.AppRunner(app, access_log=None)  # tokens are in the paths: never logged
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"{self._port_variable}: can't listen on {self.host}:{self.port} "
                f"({exc.strerror or exc}); choose a free port"
            ) from None
        addresses = runner.addresses  # the bound port, when 0 (any free one) was asked for
        if addresses:
            self.port = int(addresses[0][1])
        self._runner = runner
        logger.info("HTTP server listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
