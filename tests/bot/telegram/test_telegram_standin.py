"""The stand-in Bot API server itself: the protocol details the bot tests rely on."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from tests.telegram_standin import TOKEN, StandInServer


@pytest.fixture
def server():
    with StandInServer() as running:
        yield running


def call(server: StandInServer, method: str, token: str = TOKEN, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.base_url}{token}/{method}", timeout=10, **kwargs)


def test_json_and_form_bodies_and_errors_like_telegram(server: StandInServer) -> None:
    me = call(server, "getMe").json()
    assert me["ok"] and me["result"]["is_bot"]
    assert call(server, "getMe", token="1:wrong").status_code == 401
    assert call(server, "sendSticker").json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found",
    }
    sent = call(
        server, "sendMessage", json={"chat_id": 5, "text": "<b>hi</b>", "parse_mode": "HTML"}
    )
    assert sent.json()["result"]["text"] == "hi"
    markup = {"inline_keyboard": [[{"text": "x", "callback_data": "cite:1:1"}]]}
    form = {
        "chat_id": "5",
        "text": "a &amp; b",
        "parse_mode": "HTML",
        "reply_markup": json.dumps(markup),
    }
    sent = call(server, "sendMessage", data=form).json()["result"]
    assert sent["text"] == "a & b" and sent["reply_markup"] == markup
    refused = call(
        server, "sendMessage", data={"chat_id": "5", "text": "a & b", "parse_mode": "HTML"}
    )
    assert refused.status_code == 400
    assert refused.json()["description"].startswith("Bad Request: can't parse entities")
    long = call(server, "sendMessage", json={"chat_id": 5, "text": "x" * 4097})
    assert long.json()["description"] == "Bad Request: message is too long"


def test_get_updates_long_polls_and_confirms_by_offset(server: StandInServer) -> None:
    api = server.api
    started = time.monotonic()
    assert call(server, "getUpdates", json={"timeout": 0.3}).json()["result"] == []
    assert time.monotonic() - started >= 0.25
    first = api.user_message(5, "/start")
    assert first["message"]["entities"][0]["type"] == "bot_command"
    threading.Timer(0.2, api.push, args=(first,)).start()
    got = call(server, "getUpdates", json={"timeout": 5}).json()["result"]
    assert [u["update_id"] for u in got] == [first["update_id"]]
    second = api.user_message(5, "hello")
    api.push(second)
    again = call(server, "getUpdates", json={"offset": first["update_id"], "timeout": 0})
    assert len(again.json()["result"]) == 2  # not confirmed yet: offset is inclusive
    after = call(server, "getUpdates", json={"offset": second["update_id"] + 1, "timeout": 0})
    assert after.json()["result"] == [] and api.pending_updates() == 0


def test_buttons_edits_actions_and_commands(server: StandInServer) -> None:
    api = server.api
    sent = call(server, "sendMessage", json={"chat_id": 5, "text": "answer"}).json()["result"]
    press = api.button_press(5, sent["message_id"], "cite:1:1")
    query_id = press["callback_query"]["id"]
    assert call(server, "answerCallbackQuery", json={"callback_query_id": query_id}).json()["ok"]
    twice = call(server, "answerCallbackQuery", json={"callback_query_id": query_id})
    assert twice.status_code == 400
    edit = {"chat_id": 5, "message_id": sent["message_id"], "text": "<i>edited</i>"}
    assert call(server, "editMessageText", json={**edit, "parse_mode": "HTML"}).json()["ok"]
    unchanged = call(server, "editMessageText", json={**edit, "text": "edited"})
    assert unchanged.json()["description"] == "Bad Request: message is not modified"
    assert call(server, "sendChatAction", json={"chat_id": 5, "action": "typing"}).json()["ok"]
    assert (
        call(server, "sendChatAction", json={"chat_id": 5, "action": "dancing"}).status_code == 400
    )
    commands = [{"command": "ask", "description": "Ask"}]
    assert call(server, "setMyCommands", json={"commands": commands}).json()["ok"]
    assert call(server, "getMyCommands").json()["result"] == commands
    bad = [{"command": "Ask Me", "description": "x"}]
    assert call(server, "setMyCommands", json={"commands": bad}).status_code == 400
    api.fail_next("deleteWebhook", 502, "Bad Gateway")
    assert call(server, "deleteWebhook").status_code == 502
    assert call(server, "deleteWebhook").json()["ok"]
    assert [c.method for c in api.failures()] == [
        "answerCallbackQuery",
        "editMessageText",
        "sendChatAction",
        "setMyCommands",
        "deleteWebhook",
    ]


def test_injected_faults_look_like_telegram_and_are_not_carried_out(
    server: StandInServer,
) -> None:
    api = server.api
    message = {"json": {"chat_id": 7, "text": "hello"}}
    api.rate_limit_next("sendMessage", retry_after=3)
    flood = call(server, "sendMessage", **message)
    assert flood.status_code == 429
    assert flood.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    api.drop_next("sendMessage")
    with pytest.raises(httpx.RemoteProtocolError):
        call(server, "sendMessage", **message)
    api.stall_next("sendMessage", seconds=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{server.base_url}{TOKEN}/sendMessage", timeout=0.2, **message)
    assert api.reply_counts() == {} and api.sent() == []
    assert call(server, "sendMessage", **message).json()["ok"]
    assert call(server, "sendMessage", json={"chat_id": 8, "text": "hi"}).json()["ok"]
    assert api.reply_counts() == {7: 1, 8: 1} and api.reply_count(7) == 1
    assert [c.description for c in api.failures()] == [
        "Too Many Requests: retry after 3",
        "connection dropped",
        "stalled, then dropped",
    ]


def test_outages_fail_methods_until_recovered_and_release_long_polls(
    server: StandInServer,
) -> None:
    api = server.api
    polling = threading.Thread(
        target=lambda: results.append(call(server, "getUpdates", json={"timeout": 5}))
    )
    results: list[httpx.Response] = []
    polling.start()
    deadline = time.monotonic() + 5
    while not api.polls_waiting() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert api.polls_waiting() == 1
    api.outage(["getUpdates"])
    polling.join(timeout=2)
    assert results and results[0].status_code == 502
    assert results[0].json()["description"] == "Bad Gateway"
    assert call(server, "getMe").json()["ok"]  # other methods still work
    api.outage(error_code=500, description="Internal Server Error")
    assert call(server, "getMe").status_code == 500
    api.recover()
    assert call(server, "getUpdates", json={"timeout": 0}).json() == {"ok": True, "result": []}


def test_refused_connections_then_the_same_port_again(server: StandInServer) -> None:
    api = server.api
    port = server.port
    server.refuse_connections()
    with pytest.raises(httpx.ConnectError):
        call(server, "getMe")
    api.push(api.user_message(5, "asked during the outage"))
    server.accept_connections()
    assert server.port == port
    got = call(server, "getUpdates", json={"timeout": 0}).json()["result"]
    assert [u["message"]["text"] for u in got] == ["asked during the outage"]
