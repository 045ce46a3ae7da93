"""The OpenAI-compatible backend against a real local HTTP server (tests/stub_openai.py)."""

from __future__ import annotations

import socket

import openai
import pytest
from PIL import Image
from stub_openai import StubOpenAI

from guiagent.errors import ConfigError, ModelError
from guiagent.models import openai_backend
from guiagent.models.base import ImagePart, Message, Sampling, TextPart
from guiagent.models.history import Turn, build_messages
from guiagent.models.openai_backend import OpenAIModel, RetryPolicy
from guiagent.models.profiles import get_profile

TASK = "Open the Downloads folder"
REPLY = "Thought: click the folder\nAction: click(start_box='<|box_start|>(235,512)<|box_end|>')"


@pytest.fixture(autouse=True)
def _no_api_key_env(monkeypatch):
    for name in ("GUIAGENT_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def screenshot(i: int = 0) -> Image.Image:
    img = Image.new("RGB", (1920, 1080), (250, 250, 250))
    img.paste((20 * i % 256, 90, 160), (100, 100, 400, 300))
    return img


def model(stub: StubOpenAI, sleeps: list[float] | None = None, **kwargs) -> OpenAIModel:
    recorder = sleeps.append if sleeps is not None else (lambda s: None)
    kwargs.setdefault("retry", RetryPolicy(retries=2, backoff_base=0.5, backoff_max=4.0))
    return OpenAIModel(stub.url, kwargs.pop("model_name", "stub-model"), sleep=recorder, **kwargs)


def ui_tars_messages(n_past: int = 2) -> list[Message]:
    profile = get_profile("ui-tars-1.5")
    past = [Turn(screenshot(i), REPLY.replace("235", str(i))) for i in range(n_past)]
    return build_messages(profile, TASK, past, screenshot(9))


def test_request_shape_and_response(stub_openai):
    stub_openai.reply(REPLY, prompt_tokens=3210, completion_tokens=42)
    profile = get_profile("ui-tars-1.5")
    response = model(stub_openai).complete(ui_tars_messages(2), profile.sampling)
    assert response.text == REPLY
    assert (response.prompt_tokens, response.completion_tokens) == (3210, 42)
    assert response.latency_s is not None and response.latency_s > 0
    assert stub_openai.violations == []
    [request] = stub_openai.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer EMPTY"
    body = request.body
    assert body["model"] == "stub-model"
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.0, 0.9, 1000)
    assert "stop" not in body and "seed" not in body
    assert request.roles == ["system", "user", "user", "assistant", "user", "assistant", "user"]
    assert body["messages"][0]["content"] == "You are a helpful assistant."
    assert body["messages"][1]["content"] == profile.render_prompt(TASK)  # byte-exact over the wire
    assert body["messages"][3]["content"] == REPLY.replace("235", "0")
    assert [p["type"] for p in body["messages"][2]["content"]] == ["image_url"]
    assert [(mime, img.size) for mime, img in request.decoded_images] == [("image/png", (1932, 1092))] * 3
    # PNG is lossless: the server receives exactly the budgeted image.
    sent = request.decoded_images[-1][1].convert("RGB")
    expected = profile.budget.prepare(screenshot(9))
    assert sent.tobytes() == expected.tobytes()


def test_mixed_text_and_image_parts_and_sampling_fields(stub_openai):
    stub_openai.reply("ok")
    img = Image.new("RGB", (56, 56), "red")
    messages = [Message("user", (ImagePart(img), TextPart("what is this?")))]
    model(stub_openai).complete(messages, Sampling(temperature=0.7, top_p=0.5, max_tokens=12, stop=("\n\n",), seed=3))
    body = stub_openai.requests[0].body
    assert body["messages"][0]["content"][1] == {"type": "text", "text": "what is this?"}
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["stop"], body["seed"]) == \
        (0.7, 0.5, 12, ["\n\n"], 3)


def test_jpeg_encoding_and_quality(stub_openai):
    stub_openai.reply("a").reply("b")
    noisy = Image.effect_noise((400, 300), 60).convert("RGB")
    messages = [Message("user", (ImagePart(noisy),))]
    model(stub_openai, image_format="jpeg", jpeg_quality=95).complete(messages, Sampling())
    model(stub_openai, image_format="jpeg", jpeg_quality=20).complete(messages, Sampling())
    (mime_hi, img_hi), (mime_lo, img_lo) = (r.decoded_images[0] for r in stub_openai.requests)
    assert mime_hi == mime_lo == "image/jpeg" and img_hi.size == img_lo.size == (400, 300)
    lengths = [len(r.body["messages"][0]["content"][0]["image_url"]["url"]) for r in stub_openai.requests]
    assert lengths[1] < lengths[0]
    with pytest.raises(ConfigError, match="image format"):
        model(stub_openai, image_format="webp")
    with pytest.raises(ConfigError, match="JPEG quality"):
        model(stub_openai, jpeg_quality=0)


def test_each_image_object_is_encoded_once(stub_openai, monkeypatch):
    stub_openai.reply("1").reply("2")
    calls = []
    real = openai_backend.encode_image
    monkeypatch.setattr(openai_backend, "encode_image", lambda *a, **k: calls.append(a[0].size) or real(*a, **k))
    m = model(stub_openai)
    messages = ui_tars_messages(2)
    m.complete(messages, Sampling())
    m.complete(messages, Sampling())
    assert len(calls) == 3
    assert stub_openai.requests[0].body["messages"] == stub_openai.requests[1].body["messages"]


def test_api_key_from_environment(monkeypatch):
    with StubOpenAI(api_key="sekrit") as stub:
        stub.reply("fine")
        monkeypatch.setenv("OPENAI_API_KEY", "wrong")
        monkeypatch.setenv("GUIAGENT_API_KEY", "sekrit")
        assert model(stub).complete([Message.text("user", "hi")], Sampling()).text == "fine"
        monkeypatch.delenv("GUIAGENT_API_KEY")
        with pytest.raises(ModelError, match="set GUIAGENT_API_KEY") as err:
            model(stub).complete([Message.text("user", "hi")], Sampling())
        assert isinstance(err.value.__cause__, openai.AuthenticationError)
        assert stub.requests[-1].headers["authorization"] == "Bearer wrong"


def test_retries_5xx_and_429_with_backoff(stub_openai):
    stub_openai.error(503, "overloaded").error(429, "slow down", headers={"Retry-After": "0.25"}).reply("done")
    sleeps: list[float] = []
    response = model(stub_openai, sleeps).complete([Message.text("user", "hi")], Sampling())
    assert response.text == "done"
    assert len(stub_openai.requests) == 3
    assert sleeps == [0.5, 0.25]  # 0.5 * 2**0, then the server's shorter Retry-After instead of 1.0


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy(retries=6, backoff_base=0.5, backoff_max=3.0)
    assert [policy.delay(i) for i in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay(3, retry_after=10.0) == 3.0


def test_retries_exhausted(stub_openai):
    for _ in range(3):
        stub_openai.error(500, "boom")
    sleeps: list[float] = []
    with pytest.raises(ModelError, match=r"kept failing \(HTTP 500, 3 attempts\)") as err:
        model(stub_openai, sleeps).complete([Message.text("user", "hi")], Sampling())
    assert isinstance(err.value.__cause__, openai.InternalServerError)
    assert sleeps == [0.5, 1.0] and len(stub_openai.requests) == 3


def test_timeout(stub_openai):
    stub_openai.hang(5.0)
    with pytest.raises(ModelError, match=r"did not answer within 0.3s \(1 attempt\); raise --request-timeout") as err:
        model(stub_openai, timeout=0.3, retry=RetryPolicy(retries=0)).complete([Message.text("user", "x")],
                                                                              Sampling())
    assert isinstance(err.value.__cause__, openai.APITimeoutError)


def test_timeout_then_success_on_retry(stub_openai):
    stub_openai.hang(5.0).reply("second try")
    sleeps: list[float] = []
    m = model(stub_openai, sleeps, timeout=0.3)
    assert m.complete([Message.text("user", "x")], Sampling()).text == "second try"
    assert sleeps == [0.5]


def test_dropped_connection_is_retried(stub_openai):
    stub_openai.drop().reply("back")
    assert model(stub_openai).complete([Message.text("user", "x")], Sampling()).text == "back"


def test_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps: list[float] = []
    m = OpenAIModel(f"http://127.0.0.1:{port}/v1", "m", retry=RetryPolicy(retries=1, backoff_base=0.01),
                    sleep=sleeps.append)
    with pytest.raises(ModelError, match=r"cannot connect to the model server at http://127.0.0.1:\d+/v1 "
                                         r"\(2 attempts\): is it running") as err:
        m.complete([Message.text("user", "x")], Sampling())
    assert isinstance(err.value.__cause__, openai.APIConnectionError)
    assert sleeps == [0.01]


def test_too_many_images_names_limit_mm_per_prompt():
    with StubOpenAI(max_images=2) as stub:
        with pytest.raises(ModelError) as err:
            model(stub).complete(ui_tars_messages(2), Sampling())
        message = str(err.value)
        assert "HTTP 400" in message and "At most 2 image(s) may be provided in one request." in message
        assert "carried 3 image(s)" in message
        assert "--limit-mm-per-prompt" in message and "--max-images" in message
        assert isinstance(err.value.__cause__, openai.BadRequestError)
        assert len(stub.requests) == 1  # 4xx is not retried


@pytest.mark.parametrize("status,server_message,advice", [
    (400, "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens",
     "--max-model-len"),
    (413, "payload too large", "--image-format jpeg"),
    (403, "forbidden", "GUIAGENT_API_KEY"),
    (422, "top_p: value is not valid", "Check the sampling settings"),
])
def test_4xx_messages_say_what_to_do(stub_openai, status, server_message, advice):
    stub_openai.error(status, server_message)
    with pytest.raises(ModelError) as err:
        model(stub_openai).complete([Message.text("user", "x")], Sampling())
    assert f"HTTP {status}" in str(err.value) and server_message in str(err.value) and advice in str(err.value)
    assert len(stub_openai.requests) == 1


def test_unknown_model_name_is_a_404_with_advice(stub_openai):
    with pytest.raises(ModelError, match="check --model-name") as err:
        model(stub_openai, model_name="ui-tars").complete([Message.text("user", "x")], Sampling())
    assert "The model `ui-tars` does not exist." in str(err.value)
    assert isinstance(err.value.__cause__, openai.NotFoundError)


def test_model_name_discovery():
    with StubOpenAI(models=("ByteDance-Seed/UI-TARS-1.5-7B",)) as stub:
        stub.reply("hi")
        m = OpenAIModel(stub.url)
        assert m.model_name == m.name == "ByteDance-Seed/UI-TARS-1.5-7B"
        assert stub.requests[0].method == "GET" and stub.requests[0].path == "/v1/models"
        m.complete([Message.text("user", "x")], Sampling())
        assert stub.requests[1].body["model"] == "ByteDance-Seed/UI-TARS-1.5-7B"
    with StubOpenAI(models=("a", "b")) as stub:
        with pytest.raises(ConfigError, match=r"serves several models \(a, b\); pick one with --model-name"):
            OpenAIModel(stub.url)
    with StubOpenAI(models=()) as stub:
        with pytest.raises(ModelError, match="lists no models"):
            OpenAIModel(stub.url)


def test_stub_rejects_malformed_requests(stub_openai):
    """The stub really checks shapes: a request the backend would never send is refused and recorded."""
    client = openai.OpenAI(base_url=stub_openai.url, api_key="x", max_retries=0)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="stub-model", messages=[
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://example.com/a.png"}}]}])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="stub-model", messages=[{"role": "robot", "content": "hi"}])
    assert len(stub_openai.violations) == 2
    assert "data:image/png or data:image/jpeg" in stub_openai.violations[0]
