"""One reused SMTP connection, as the settings describe it (SSL, STARTTLS, login, timeout)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiosmtplib

from duyet.settings import Settings, SettingsError

# What ends a connection (or never opens one), as opposed to the server refusing one message.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPTimeoutError,
    aiosmtplib.SMTPAuthenticationError,
    aiosmtplib.SMTPHeloError,
    OSError,
    TimeoutError,
)

# What fails one message: the connection's end, or the server refusing it.
SEND_ERRORS: tuple[type[BaseException], ...] = (*CONNECTION_ERRORS, aiosmtplib.SMTPException)


class Connection:
    """Opened on demand, reopened after the server drops it, closed politely."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise SettingsError("DUYET_SMTP_HOST is not set")
        self.settings = settings
        self.host = settings.smtp_host
        self.port = settings.smtp_effective_port
        self.opened = 0  # connections made, for the report
        self._client: aiosmtplib.SMTP | None = None

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def open(self) -> None:
        settings = self.settings
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=settings.smtp_timeout,
            use_tls=settings.smtp_ssl,
            start_tls=settings.smtp_starttls and not settings.smtp_ssl,
        )
        await client.connect()
        self._client = client
        self.opened += 1
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            await client.login(settings.smtp_username, password)

    async def address(self, message: bytes, *, sender: str, recipient: str) -> None:
        """The envelope of `message` (MAIL FROM with its size, RCPT TO): the server takes
        nothing yet, and forgets the envelope if the connection ends before `hand_over`."""
        client = self._client_or_raise()
        options = [f"size={len(message)}"] if client.supports_extension("size") else []
        async with self._resetting(client):
            await client.mail(sender, options=options)
            await client.rcpt(recipient)

    async def hand_over(self, message: bytes) -> None:
        """DATA for the envelope `address` opened: returns once the server has accepted it."""
        client = self._client_or_raise()
        async with self._resetting(client):
            await client.data(message)

    def _client_or_raise(self) -> aiosmtplib.SMTP:
        if self._client is None:
            raise aiosmtplib.SMTPServerDisconnected("not connected")
        return self._client

    @staticmethod
    @contextlib.asynccontextmanager
    async def _resetting(client: aiosmtplib.SMTP) -> AsyncIterator[None]:
        # As aiosmtplib's `sendmail`: a refusal resets the envelope for the next message.
        try:
            yield
        except aiosmtplib.SMTPResponseException:
            with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
                await client.rset()
            raise

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except aiosmtplib.SMTPException:
            client.close()
