"""The dev mail sink and `/dev/inbox`: on only with DUYET_DEV_MAIL=1 and a loopback public URL."""

from __future__ import annotations

import re

import pytest

from definitions.stage_rules import Stage
from duyet.definition_files import definitions
from duyet.settings import Settings, SettingsError
from notifications.devsink import dev_sink, read_inbox, require_dev_mail
from notifications.sender import send_due
from portal.app import create_app
from tests.portal.asgi import app_client
from tests.portal.factories import open_at
from tests.prefect_server import free_port


def dev(settings: Settings, base: str = "http://127.0.0.1:8000", **more: object) -> Settings:
    return settings.model_copy(update={"dev_mail": True, "public_base_url": base, **more})


@pytest.mark.parametrize(
    "base", ["http://portal.test", "https://duyet.svhttdl.example", "http://10.0.0.5:8000"]
)
def test_refused_when_the_public_url_is_not_loopback(settings: Settings, base: str) -> None:
    with pytest.raises(SettingsError, match="loopback"):
        create_app(dev(settings, base))
    with pytest.raises(SettingsError, match="loopback"), dev_sink(dev(settings, base), port=1):
        pass


def test_off_by_default(settings: Settings) -> None:
    with pytest.raises(SettingsError, match="DUYET_DEV_MAIL"):
        require_dev_mail(settings)
    with app_client(create_app(settings)) as client:
        assert client.get("/dev/inbox").status_code == 404


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"]
)
def test_loopback_urls_are_accepted(settings: Settings, base: str) -> None:
    require_dev_mail(dev(settings, base))


def test_the_sink_keeps_what_the_sender_sends_and_the_inbox_links_it(settings: Settings) -> None:
    port = free_port()
    local = dev(settings, smtp_host="127.0.0.1", smtp_port=port)
    open_at(local, "2.1.a", Stage.REVIEW)
    with dev_sink(local, port=port):
        report = send_due(local, directory=definitions(local).directory)
    assert report.sent == 3
    kept = read_inbox(local)
    assert len(kept) == 3 and {m.to for m in kept} == {
        "qlvanhoa@svhttdl.example",
        "qlthethao@svhttdl.example",
        "qldulich@svhttdl.example",
    }
    with app_client(create_app(local)) as client:
        listing = client.get("/dev/inbox")
        assert listing.status_code == 200 and listing.text.count('href="/dev/inbox/') == 3
        key = re.findall(r'href="/dev/inbox/([^"]+)"', listing.text)[0]
        shown = client.get(f"/dev/inbox/{key}")
        assert shown.status_code == 200
        (link,) = kept[0].links
        assert link.startswith("http://127.0.0.1:8000/r/")
        assert f'<a href="{link}">' in shown.text
        token = link.rsplit("/r/", 1)[1]
        assert client.get(f"/r/{token}").status_code == 200  # the link works on this portal
        assert client.get("/dev/inbox/../../etc").status_code == 404
        assert client.get("/dev/inbox/khong-co").status_code == 404
