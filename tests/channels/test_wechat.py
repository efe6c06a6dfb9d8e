"""The WeChat message server with wechatpy's own crypto and XML: handshake, plaintext, compatible and
safe modes, events, retries, bad input, and the customer-service follow-up against a fake API."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from bot.channels.wechat import MORE_FOLLOWS, PASSIVE_LIMIT, split_for_wechat
from storage.models import TranscriptLine
from tests.channels.conftest import serving
from tests.channels.fake_wechat import FakeWeChatApi

TOKEN = "spamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx2c2769f8efd9abc2"
OFFICIAL_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5"
    "GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912x"
    "MezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4u"
    "Bl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
OFFICIAL_BODY = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]>"
    "</FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]>"
    f"</Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[{OFFICIAL_ENCRYPT}]]></Encrypt></xml>"
)


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def query(timestamp: str | None = None, nonce: str | None = None, **extra: str) -> dict[str, str]:
    """Signed as WeChat signs a request: now, with a nonce of its own (WeChat's retries repeat theirs)."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or str(secrets.randbelow(10**10))
    return {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "openid": "o", **extra}


def text_xml(content: str, msg_id: str = "1001", user: str = "oUser1") -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(event: str, key: str = "", user: str = "oUser1", created: int = 1700000000) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
        f"<EventKey><![CDATA[{key}]]></EventKey></xml>"
    )


@asynccontextmanager
async def client_for(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client


@pytest.fixture
def wechat_app(make_app: Callable[..., Starlette]) -> Starlette:
    """Plaintext mode: a token and no EncodingAESKey."""
    return make_app(wechat_token=TOKEN)


@pytest.fixture
def safe_app(make_app: Callable[..., Starlette]) -> Starlette:
    """Compatible or safe mode: with an EncodingAESKey every request must be encrypted."""
    return make_app(wechat_token=TOKEN, wechat_aes_key=AES_KEY, wechat_app_id=APP_ID)


async def inbound_count(app: Starlette) -> int:
    async with app.state.runtime.db.sessions() as session:
        return int(
            (
                await session.execute(select(func.count(TranscriptLine.id)).where(TranscriptLine.direction == "in"))
            ).scalar_one()
        )


def test_official_vectors_decrypt_with_wechatpy() -> None:
    assert sign("AAAAA", "1714036504", "1514711492") == "f464b24fc39322e44b38aa78f5edd27bd1441696"
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    xml = crypto.decrypt_message(OFFICIAL_BODY, "5d197aaffba7e9b25a30732f161a50dee96bd5fa", "1409735669", "1320562132")
    message = parse_message(xml)
    assert (message.content, message.source, message.target) == (
        "abcdteT",
        "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
        "gh_10f6c3c3ac5a",
    )
    assert message.id == 6054768590064713728


async def test_handshake(wechat_app: Starlette) -> None:
    async with client_for(wechat_app) as client:
        ok = await client.get("/wechat", params={**query(), "echostr": "hello123"})
        assert ok.status_code == 200 and ok.text == "hello123"
        bad = await client.get("/wechat", params={**query(), "signature": "0" * 40, "echostr": "x"})
        assert bad.status_code == 403


async def test_plaintext_text_message_is_answered(wechat_app: Starlette) -> None:
    async with client_for(wechat_app) as client:
        response = await client.post("/wechat", params=query(), content=text_xml("广州退考退费登记截止到哪天？"))
    assert response.status_code == 200
    reply = parse_message(response.text)
    assert reply.source == "gh_test" and reply.target == "oUser1"
    assert "2017年9月30日" in reply.content and "穗人社职鉴函〔2017〕145号" in reply.content


async def test_wrong_or_missing_signature_is_refused_and_nothing_is_stored(wechat_app: Starlette) -> None:
    async with client_for(wechat_app) as client:
        wrong = await client.post("/wechat", params={**query(), "signature": "f" * 40}, content=text_xml("帮助"))
        missing = await client.post("/wechat", content=text_xml("帮助"))
        assert wrong.status_code == 403 and missing.status_code == 403
        assert await inbound_count(wechat_app) == 0


async def test_official_compatible_mode_sample_is_decrypted_and_the_reply_encrypted(safe_app: Starlette) -> None:
    params = query(
        "1409735669", "1320562132", encrypt_type="aes", msg_signature="5d197aaffba7e9b25a30732f161a50dee96bd5fa"
    )
    async with client_for(safe_app) as client:
        safe_app.state.runtime.wechat.wall_clock = lambda: 1409735669.0 + 30  # the sample's own time
        response = await client.post("/wechat", params=params, content=OFFICIAL_BODY)
    assert response.status_code == 200
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    envelope = response.text
    assert "<Encrypt>" in envelope and "<MsgSignature>" in envelope
    signature = envelope.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    timestamp = envelope.split("<TimeStamp>")[1].split("</TimeStamp>")[0]
    nonce = envelope.split("<Nonce><![CDATA[")[1].split("]]>")[0]
    reply = parse_message(crypto.decrypt_message(envelope, signature, timestamp, nonce))
    assert reply.target == "oyORnuP8q7ou2gfYjqLzSIWZf0rs" and reply.content


async def test_safe_mode_round_trip_and_a_forged_msg_signature(safe_app: Starlette) -> None:
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    timestamp, nonce = str(int(time.time())), "42"
    sealed = crypto.encrypt_message(text_xml("钳工还能报名吗", msg_id="2002"), nonce, timestamp)
    msg_signature = sealed.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    params = query(timestamp=timestamp, nonce=nonce, encrypt_type="aes", msg_signature=msg_signature)
    async with client_for(safe_app) as client:
        response = await client.post("/wechat", params=params, content=sealed)
        forged = await client.post("/wechat", params={**params, "msg_signature": "0" * 40}, content=sealed)
    assert response.status_code == 200 and "<Encrypt>" in response.text
    assert forged.status_code == 403


async def test_a_retried_msg_id_is_handled_once(wechat_app: Starlette) -> None:
    params = query()  # a retry is the same request again
    async with client_for(wechat_app) as client:
        replies = await asyncio.gather(
            *(client.post("/wechat", params=params, content=text_xml("退考退费", msg_id="777")) for _ in range(3))
        )
        assert len({parse_message(r.text).content for r in replies}) == 1
        assert await inbound_count(wechat_app) == 1


async def test_events_and_other_message_types(wechat_app: Starlette) -> None:
    async with client_for(wechat_app) as client:

        async def post(xml: str) -> httpx.Response:
            return await client.post("/wechat", params=query(), content=xml)

        welcome = parse_message((await post(event_xml("subscribe", "qrscene_1"))).text)
        assert "欢迎关注" in welcome.content
        menu = parse_message((await post(event_xml("CLICK", "WITHDRAW", created=1700000001))).text)
        assert "哪个省份或城市" in menu.content
        assert (await post(event_xml("VIEW", "https://example.com", created=1700000002))).text == "success"
        assert (await post(event_xml("unsubscribe", created=1700000003))).text == "success"
        image = (
            "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[oUser2]]></FromUserName>"
            "<CreateTime>1700000004</CreateTime><MsgType><![CDATA[image]]></MsgType>"
            "<PicUrl><![CDATA[http://x/y.jpg]]></PicUrl><MediaId><![CDATA[m]]></MediaId><MsgId>3003</MsgId></xml>"
        )
        assert "图片" in parse_message((await post(image)).text).content
        odd = image.replace("image", "hologram").replace("3003", "3004")
        assert (await post(odd)).status_code == 200
        incomplete = "<xml><ToUserName>gh_test</ToUserName><FromUserName>oUser3</FromUserName></xml>"
        polite = await post(incomplete)
        assert polite.status_code == 200 and "无法识别" in parse_message(polite.text).content


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"<xml>" + b"a" * (70 * 1024) + b"</xml>", 413),
        (b"<xml><unclosed></xml>", 400),
        (b"not xml at all", 400),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><xml><Content>&lol3;</Content></xml>',
            400,
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b"<xml><FromUserName>&xxe;</FromUserName></xml>",
            400,
        ),
    ],
    ids=["oversized", "malformed", "not-xml", "billion-laughs", "external-entity"],
)
async def test_bad_bodies_are_refused_before_parsing(wechat_app: Starlette, body: bytes, status: int) -> None:
    async with client_for(wechat_app) as client:
        response = await client.post("/wechat", params=query(), content=body)
    assert response.status_code == status
    assert await inbound_count(wechat_app) == 0


async def test_a_slow_reply_is_answered_success_then_sent_as_a_customer_service_message(
    make_app: Callable[..., Starlette],
) -> None:
    fake = FakeWeChatApi()
    async with serving(fake.app) as api:
        app = make_app(
            wechat_token=TOKEN,
            wechat_app_id=APP_ID,
            wechat_app_secret="s3cret",
            wechat_api_base_url=api + "/",
            reply_budget_seconds=0.0,
        )
        async with serving(app) as server, httpx.AsyncClient() as client:
            response = await client.post(
                f"{server}/wechat", params=query(), content=text_xml("广州退考截止哪天", "9001")
            )
            assert response.text == "success"
            for _ in range(100):
                if fake.sent:
                    break
                await asyncio.sleep(0.05)
            again = await client.post(f"{server}/wechat", params=query(), content=text_xml("帮助", "9002"))
            assert again.text == "success"
            for _ in range(100):
                if len(fake.sent) == 2:
                    break
                await asyncio.sleep(0.05)
    assert fake.sent[0]["touser"] == "oUser1" and "2017年9月30日" in fake.sent[0]["text"]["content"]
    assert len(fake.sent) == 2 and len(fake.token_calls) == 1, "the token is fetched once and reused"


async def test_in_an_open_handoff_only_the_first_message_is_acknowledged_then_success(wechat_app: Starlette) -> None:
    async with client_for(wechat_app) as client:

        async def say(text: str, msg_id: str) -> httpx.Response:
            return await client.post("/wechat", params=query(), content=text_xml(text, msg_id, user="oHandoff1"))

        assert "RG-" in parse_message((await say("转人工", "5001")).text).content
        assert "工作人员回复后会通知您" in parse_message((await say("我的准考证丢了", "5002")).text).content
        silent = await say("考号是多少我也忘了", "5003")
        assert silent.status_code == 200 and silent.text == "success", "nothing for WeChat to show"


def test_long_text_is_split_into_pieces_wechat_accepts() -> None:
    text = "\n".join(f"第{n}行：" + "职业技能鉴定退考退费登记" * 6 for n in range(60))
    pieces = split_for_wechat(text)
    assert len(pieces) > 1
    assert all(len((p + MORE_FOLLOWS).encode()) <= PASSIVE_LIMIT for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", ""), "nothing is lost"
    assert split_for_wechat("短") == ["短"]
