"""PooledHttpClient (engage/channels/twilio_http.py) against the SDK's own TwilioHttpClient: the
Twilio SDK, pointed at the fake provider, must send the same requests through either."""

from __future__ import annotations

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from engage.channels.twilio_http import PooledHttpClient
from tests.fakes.fixtures import fake_provider, fake_provider_server  # noqa: F401
from tests.fakes.provider import FakeProvider

# Content-Length differs with nothing else: both clients send the same body.
SAME_EVERY_TIME = ("method", "path", "form", "status")


def _client(provider: FakeProvider, http_client) -> Client:
    client = Client(provider.twilio_account_sid, provider.twilio_auth_token, http_client=http_client)
    client.edge = client.region = None
    client.api.base_url = provider.url
    return client


def _calls(client: Client) -> list:
    """A create with every kind of field (non-ASCII, reserved characters, a repeated key) and a
    filtered list: answers as the SDK parsed them."""
    created = client.messages.create(to="+15551234567", from_="+15005550006",
                                     body="Héllo & welcome = 100% ✓", status_callback="https://e.example/s?a=1&b=2",
                                     media_url=["https://e.example/a.png", "https://e.example/b.png"])
    listed = client.messages.list(to="+15551234567", from_="+15005550006", limit=5, page_size=2)
    return [created.body, created.to, created.num_segments, [m.body for m in listed]]


def test_the_pooled_client_sends_and_reads_what_the_sdks_client_does(fake_provider: FakeProvider):  # noqa: F811
    answers = []
    for http_client in (TwilioHttpClient(timeout=5), PooledHttpClient(5, 4)):
        fake_provider.reset()
        answers.append(_calls(_client(fake_provider, http_client)))
        [record] = fake_provider.requests("sms")
        answers.append({key: record[key] for key in SAME_EVERY_TIME})
        answers.append(record["headers"])
    sdk_answer, sdk_record, sdk_headers, answer, record, headers = answers
    assert answer == sdk_answer and answer[0] == "Héllo & welcome = 100% ✓" and len(answer[3]) == 1
    assert record == sdk_record and record["form"]["MediaUrl"] == ["https://e.example/a.png", "https://e.example/b.png"]
    assert headers == sdk_headers and headers["authorization"].startswith("Basic ")


def test_the_pooled_client_keeps_one_connection_across_calls(fake_provider: FakeProvider):  # noqa: F811
    http_client = PooledHttpClient(5, 4)
    client = _client(fake_provider, http_client)
    for _ in range(3):
        client.messages.create(to="+15551234567", from_="+15005550006", body="Hi")
    [pool] = http_client.session.get_adapter(fake_provider.url).poolmanager.pools._container.values()
    assert pool.num_connections == 1 and pool.num_requests == 3
