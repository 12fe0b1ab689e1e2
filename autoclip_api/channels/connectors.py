"""The platforms' side of connecting a channel, through the publishers' own OAuth clients
(``resources/publisher/google_oauth.py``, ``resources/publisher/tiktok_oauth.py``): one client
per platform, so the tokens the API stores are the ones the pipeline refreshes.

A platform is offered only when its OAuth client is configured (YouTube:
``AUTOCLIP_YOUTUBE_CLIENT_ID``/``_SECRET``; TikTok: ``AUTOCLIP_TIKTOK_CLIENT_KEY``/``_SECRET``).
"""

from __future__ import annotations

import httpx

from autoclip_api.channels.connect import ChannelConnector, ConnectedAccount, ConnectError
from autoclip_core.settings import Settings
from resources.errors import PublishError
from resources.publisher.google_oauth import (
    CHANNELS_MINE,
    GoogleOAuth,
    YouTubeChannel,
    authorization_url,
    challenge,
)
from resources.publisher.tiktok_oauth import TikTokOAuth


class YouTubeConnector:
    def __init__(self, settings: Settings, client_id: str, client_secret: str) -> None:
        self.oauth = GoogleOAuth(
            base_url=settings.google_oauth_base_url,
            client_id=client_id,
            client_secret=client_secret,
        )
        self.consent_endpoint = settings.google_authorization_endpoint
        self.api_base = settings.youtube_base_url
        self.timeout = settings.vendor_timeout_seconds

    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        return authorization_url(
            client_id=self.oauth.client_id,
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=challenge(code_verifier),
            endpoint=self.consent_endpoint,
        )

    def connect(self, *, code: str, redirect_uri: str, code_verifier: str) -> ConnectedAccount:
        try:
            tokens = self.oauth.exchange_code(
                code, code_verifier=code_verifier, redirect_uri=redirect_uri
            )
        except PublishError as refused:
            raise ConnectError(str(refused)) from None
        return ConnectedAccount(
            tokens.access_token,
            tokens.refresh_token,
            tokens.expires_at,
            self.identity(tokens.access_token),
        )

    def identity(self, access_token: str) -> dict[str, str]:
        """``channels.list?mine=true``: the channel the owner consented for."""
        try:
            response = httpx.get(
                f"{self.api_base}/youtube/v3/channels",
                params=CHANNELS_MINE,
                headers={"Authorization": f"Bearer {access_token}"},
                timeout=self.timeout,
            )
            response.raise_for_status()
            channel = YouTubeChannel.of(response.json())
        except (httpx.HTTPError, ValueError, AttributeError) as failed:
            raise ConnectError(f"youtube channels.list: {failed}") from None
        except PublishError:
            raise ConnectError("the Google account has no YouTube channel") from None
        return {"id": channel.id, "name": channel.title, "handle": channel.custom_url}


class TikTokConnector:
    def __init__(self, settings: Settings, client_key: str, client_secret: str) -> None:
        self.client = TikTokOAuth(
            settings.tiktok_base_url, client_key=client_key, client_secret=client_secret
        )

    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str) -> str:
        return self.client.authorization_url(
            redirect_uri=redirect_uri, state=state, code_verifier=code_verifier
        )

    def connect(self, *, code: str, redirect_uri: str, code_verifier: str) -> ConnectedAccount:
        try:
            grant = self.client.exchange_code(
                code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
            )
            creator = self.client.identity(grant.access_token)
        except PublishError as refused:
            raise ConnectError(str(refused)) from None
        return ConnectedAccount(
            grant.access_token,
            grant.refresh_token,
            grant.expires_at,
            {"id": grant.open_id, "name": creator.nickname, "handle": creator.username},
        )


def connectors(settings: Settings) -> dict[str, ChannelConnector]:
    """The platforms whose channels can be connected here."""
    offered: dict[str, ChannelConnector] = {}
    if settings.youtube_client_id and settings.youtube_client_secret:
        offered["youtube"] = YouTubeConnector(
            settings,
            settings.youtube_client_id,
            settings.youtube_client_secret.get_secret_value(),
        )
    if settings.tiktok_client_key and settings.tiktok_client_secret:
        offered["tiktok"] = TikTokConnector(
            settings,
            settings.tiktok_client_key,
            settings.tiktok_client_secret.get_secret_value(),
        )
    return offered
