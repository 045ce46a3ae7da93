"""Backend for OpenAI-compatible chat servers (vLLM, SGLang, LMDeploy, hosted APIs), via the official client.

Images go inline as data URLs (PNG, or JPEG at a chosen quality), already resized to the profile's budget by
``build_messages``, so the server's own resize is a no-op and the coordinate map holds. Transient failures
(connection errors, timeouts, 429, 5xx) are retried with exponential backoff; every other failure becomes a
``ModelError`` that says what to change. openai's exceptions never leak: they are mapped here and chained with
``from``.

The API key comes from ``GUIAGENT_API_KEY``, else ``OPENAI_API_KEY``, else "EMPTY" (what vLLM accepts when it
was started without ``--api-key``).
"""

from __future__ import annotations

import base64
import io
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence

from PIL import Image

from guiagent._imaging.png import PNGEncoder, encode_png
from guiagent.errors import ConfigError, ModelError
from guiagent.models.base import ImagePart, Message, ModelResponse, Sampling, TextPart
from guiagent.models.history import count_images

log = logging.getLogger("guiagent.models")

API_KEY_ENV_VARS = ("GUIAGENT_API_KEY", "OPENAI_API_KEY")
ImageFormat = Literal["png", "jpeg"]


def api_key_from_env() -> str:
    """The API key from ``GUIAGENT_API_KEY``, else ``OPENAI_API_KEY``, else ``"EMPTY"``.

    ``"EMPTY"`` is what a local vLLM server without ``--api-key`` accepts.
    """
    for name in API_KEY_ENV_VARS:
        value = os.environ.get(name)
        if value:
            return value
    return "EMPTY"


def encode_image(image: Image.Image, fmt: ImageFormat = "png", quality: int = 90,
                 png: PNGEncoder | None = None) -> str:
    """A data URL for ``image``. PNG is lossless (what the model saw is exactly the screenshot); JPEG is several
    times smaller and faster to encode, at the cost of compression artefacts on text. ``png``: an encoder that
    remembers the previous image of the same size (consecutive screenshots share most rows); same bytes."""
    if fmt == "png":
        # zlib level 1: screenshots compress well even at the fastest level, and encoding time is per step.
        data = png.encode(image) if png is not None else encode_png(image, 1)
        mime = "image/png"
    elif fmt == "jpeg":
        buf = io.BytesIO()
        image.convert("RGB").save(buf, format="JPEG", quality=quality)
        data = buf.getvalue()
        mime = "image/jpeg"
    else:
        raise ConfigError(f"image format must be 'png' or 'jpeg', got {fmt!r}")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass(frozen=True)
class RetryPolicy:
    """``retries`` extra attempts after the first; the wait before retry i (0-based) is
    ``min(backoff_max, backoff_base * 2**i)`` seconds, or the server's Retry-After if that is shorter."""

    retries: int = 3
    backoff_base: float = 1.0
    backoff_max: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``attempt`` (0-based): exponential backoff, or the server's Retry-After if shorter.

        Args:
            attempt: how many retries were made before this one.
            retry_after: the server's Retry-After in seconds, if it sent one (negative values are ignored).

        Returns:
            The wait, at most ``backoff_max``.
        """
        delay = min(self.backoff_max, self.backoff_base * (2 ** attempt))
        if retry_after is not None and 0 <= retry_after < delay:
            delay = retry_after
        return delay


class OpenAIModel:
    """``Model`` over an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    Args:
        base_url: e.g. ``http://localhost:8000/v1``.
        model_name: the served model name; None asks ``/v1/models`` (fine when the server serves one model).
        api_key: None reads the environment (see module docstring).
        image_format / jpeg_quality: how screenshots are encoded.
        timeout: seconds for one request (a long generation on a slow GPU needs more).
        retry: the retry policy for transient failures.
        extra_body: extra JSON fields for the server (e.g. vLLM's ``{"top_k": 1}``).
        sleep: injectable for tests.
    """

    def __init__(self, base_url: str, model_name: str | None = None, *, api_key: str | None = None,
                 image_format: ImageFormat = "png", jpeg_quality: int = 90, timeout: float = 120.0,
                 retry: RetryPolicy | None = None, extra_body: dict[str, Any] | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - the extra is part of the dev install
            raise ConfigError("the openai backend needs the `openai` package: pip install 'guiagent[openai]'") from exc
        if image_format not in ("png", "jpeg"):
            raise ConfigError(f"image format must be 'png' or 'jpeg', got {image_format!r}")
        if not 1 <= int(jpeg_quality) <= 100:
            raise ConfigError(f"JPEG quality must be within 1..100, got {jpeg_quality!r}")
        if not timeout or timeout <= 0:
            raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.base_url = base_url.rstrip("/")
        self.image_format: ImageFormat = image_format
        self.jpeg_quality = int(jpeg_quality)
        self.timeout = float(timeout)
        self.retry = retry or RetryPolicy()
        self.extra_body = dict(extra_body or {})
        self._sleep = sleep
        self._openai = openai
        self._api_key = api_key or api_key_from_env()
        self._client = self._new_client()
        self._png = PNGEncoder(level=1)  # consecutive screenshots: only the changed rows are deflated again
        self.model_name = model_name
        self.model_name = model_name or self.discover_model_name()
        self.name = self.model_name

    # ------------------------------------------------------------------ Model protocol

    def complete(self, messages: Sequence[Message], sampling: Sampling) -> ModelResponse:
        """Send one chat-completion request to the server, retrying transient failures per the retry policy.

        Args:
            messages: the conversation, images already prepared to the profile's budget.
            sampling: temperature, top_p, max_tokens, stop, seed.

        Returns:
            The answer text with the server's token counts (when reported) and the latency including retries.

        Raises:
            ModelError: the server could not be reached, refused the request (with advice such as the
                ``--limit-mm-per-prompt`` hint or the API-key variable), was too slow, or answered without a message.
        """
        payload = self.request_payload(messages, sampling)
        n_images = count_images(messages)
        start = time.perf_counter()
        completion = self._with_retries(lambda: self._client.chat.completions.create(**payload), n_images)
        latency = time.perf_counter() - start
        try:
            text = completion.choices[0].message.content
        except (AttributeError, IndexError, TypeError) as exc:
            raise ModelError(f"the server at {self.base_url} answered without a message: {completion!r}") from exc
        if text is None:
            raise ModelError(f"the server at {self.base_url} answered with an empty message (finish reason "
                             f"{getattr(completion.choices[0], 'finish_reason', None)!r})")
        usage = getattr(completion, "usage", None)
        return ModelResponse(text=text, prompt_tokens=getattr(usage, "prompt_tokens", None),
                             completion_tokens=getattr(usage, "completion_tokens", None), latency_s=latency)

    # ------------------------------------------------------------------ request building

    def request_payload(self, messages: Sequence[Message], sampling: Sampling) -> dict[str, Any]:
        """The keyword arguments of ``chat.completions.create`` for these messages (public for tests/debugging)."""
        payload: dict[str, Any] = {
            "model": self.model_name,
            "messages": [self._message(m) for m in messages],
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
        }
        if sampling.stop:
            payload["stop"] = list(sampling.stop)
        if sampling.seed is not None:
            payload["seed"] = sampling.seed
        if self.extra_body:
            payload["extra_body"] = self.extra_body
        return payload

    def _message(self, message: Message) -> dict[str, Any]:
        parts = message.content
        if all(isinstance(p, TextPart) for p in parts):
            return {"role": message.role, "content": "".join(p.text for p in parts)}
        content: list[dict[str, Any]] = []
        for part in parts:
            if isinstance(part, TextPart):
                content.append({"type": "text", "text": part.text})
            else:
                content.append({"type": "image_url", "image_url": {"url": self._data_url(part)}})
        return {"role": message.role, "content": content}

    def _data_url(self, part: ImagePart) -> str:
        def encode(image: Image.Image) -> str:
            return encode_image(image, self.image_format, self.jpeg_quality, png=self._png)
        if part.prepared is not None and part.prepared.image is part.image:  # encoded once per step and format
            return part.prepared.encoded(("data-url", self.image_format, self.jpeg_quality), encode)
        return encode(part.image)

    # ------------------------------------------------------------------ model discovery

    def discover_model_name(self) -> str:
        """The one model the server serves (``GET /v1/models``)."""
        page = self._with_retries(lambda: self._client.models.list(), 0)
        names = [m.id for m in getattr(page, "data", [])]
        if not names:
            raise ModelError(f"the server at {self.base_url} lists no models; pass --model-name")
        if len(names) > 1:
            raise ConfigError(f"the server at {self.base_url} serves several models ({', '.join(names)}); "
                              f"pick one with --model-name")
        log.info("model name discovered from %s/models: %s", self.base_url, names[0])
        return names[0]

    # ------------------------------------------------------------------ errors and retries

    def _new_client(self) -> Any:
        return self._openai.OpenAI(base_url=self.base_url, api_key=self._api_key, timeout=self.timeout,
                                   max_retries=0)

    def _call_with_deadline(self, call: Callable[[], Any]) -> Any:
        """``call()`` with a total deadline of ``timeout`` seconds.

        The HTTP client's timeout bounds each wait for bytes, so a server that sends one byte at a time never
        trips it; the call therefore runs on a worker thread, and when the deadline (plus half a second of grace)
        passes the client is closed
        (which ends the worker's read) and replaced, and ``_DeadlineExceeded`` is raised.
        """
        box: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["value"] = call()
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=work, name="guiagent-model-request", daemon=True).start()
        # a little grace, so that a server that sends nothing at all is reported by the client's own timeout
        if not done.wait(self.timeout * 1.05 + 0.5):
            stuck, self._client = self._client, self._new_client()
            try:
                stuck.close()
            except Exception:  # noqa: BLE001 - closing is only to end the stuck read sooner
                pass
            raise _DeadlineExceeded(self.timeout)
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _with_retries(self, call: Callable[[], Any], n_images: int) -> Any:
        openai = self._openai
        attempts = self.retry.retries + 1
        for attempt in range(attempts):
            try:
                return self._call_with_deadline(call)
            except _DeadlineExceeded as exc:
                if attempt + 1 >= attempts:
                    raise ModelError(
                        f"the model server at {self.base_url} did not send a complete answer within "
                        f"{self.timeout:g}s ({attempts} attempt{'s' if attempts != 1 else ''}): it accepted the "
                        f"request but answered too slowly; raise --request-timeout for slow generation, or check "
                        f"the server and the network") from exc
                delay = self.retry.delay(attempt)
                log.warning("model request took longer than %gs; retry %d/%d in %.2fs", self.timeout,
                            attempt + 1, self.retry.retries, delay)
                self._sleep(delay)
            except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError) as exc:
                if attempt + 1 >= attempts:
                    raise self._transient_error(exc, attempts) from exc
                delay = self.retry.delay(attempt, _retry_after(exc))
                log.warning("model request failed (%s); retry %d/%d in %.2fs", _describe(exc), attempt + 1,
                            self.retry.retries, delay)
                self._sleep(delay)
            except openai.APIStatusError as exc:
                raise ModelError(self._status_advice(exc, n_images)) from exc
            except openai.OpenAIError as exc:
                raise ModelError(f"request to {self.base_url} failed: {exc}") from exc
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                # the client could not read the answer: a 200 whose body is not the API's JSON (a web page, a
                # proxy's error, a truncated body)
                raise ModelError(self._not_the_api(exc)) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _url_advice(self) -> str:
        if re.search(r"/v\d+$", self.base_url):
            return "check that the URL is the server's OpenAI-compatible API"
        return f"the base URL usually ends in /v1: try {self.base_url}/v1"

    def _not_the_api(self, exc: Exception) -> str:
        what = "is not valid JSON" if isinstance(exc, ValueError) else "is not an OpenAI API response"
        return (f"the server at {self.base_url} answered, but its answer {what} ({type(exc).__name__}: "
                f"{str(exc)[:120]}); {self._url_advice()}")

    def _transient_error(self, exc: Exception, attempts: int) -> ModelError:
        openai = self._openai
        tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
        if isinstance(exc, openai.APITimeoutError):
            return ModelError(f"the model server at {self.base_url} did not answer within {self.timeout:g}s "
                              f"({tries}); raise --request-timeout for slow generation, or check the server's load")
        if isinstance(exc, openai.APIConnectionError):
            return ModelError(f"cannot connect to the model server at {self.base_url} ({tries}): is it running "
                              f"and is the URL right (it usually ends in /v1)? e.g. `vllm serve MODEL --port 8000`")
        if isinstance(exc, openai.RateLimitError):
            return ModelError(f"the model server at {self.base_url} kept rate-limiting (HTTP 429, {tries}); "
                              f"slow down, raise --retries, or ask for a higher quota")
        return ModelError(f"the model server at {self.base_url} kept failing ({_describe(exc)}, {tries}); "
                          f"see the server's log")

    def _status_advice(self, exc: Any, n_images: int) -> str:
        status = getattr(exc, "status_code", None)
        detail = _error_detail(exc)
        head = f"the model server at {self.base_url} refused the request (HTTP {status}): {detail}"
        low = detail.lower()
        if status in (400, 413, 422) and re.search(r"at most \d+ image|limit[-_]mm[-_]per[-_]prompt|"
                                                      r"too many images|image.{0,40}(limit|exceed)", low):
            return (f"{head}\nThe request carried {n_images} image(s), more than the server allows per prompt. "
                    f"Start vLLM with --limit-mm-per-prompt '{{\"image\": {max(n_images, 5)}}}' (older vLLM: "
                    f"--limit-mm-per-prompt image={max(n_images, 5)}), or send fewer with --max-images.")
        if status in (400, 413, 422) and re.search(r"context length|maximum.{0,20}length|too long|max_model_len|"
                                                      r"prompt is too", low):
            return (f"{head}\nThe prompt does not fit the server's context. Send fewer or smaller images "
                    f"(--max-images, --max-pixels) or start vLLM with a larger --max-model-len.")
        if status == 413:
            return f"{head}\nThe request is too large: use --image-format jpeg or a smaller --max-pixels."
        if status in (401, 403):
            return (f"{head}\nThe server rejected the API key: set {API_KEY_ENV_VARS[0]} (or "
                    f"{API_KEY_ENV_VARS[1]}) to the key the server was started with (vLLM: --api-key).")
        if status == 404:
            name = getattr(self, "model_name", None)
            if name is None:  # listing the models failed: the URL, not the name, is wrong
                return f"{head}\n{self.base_url}/models was not found: {self._url_advice()}."
            return (f"{head}\nModel {name!r} or the endpoint was not found: check --model-name "
                    f"(`curl {self.base_url}/models` lists the served names); {self._url_advice()}.")
        return f"{head}\nCheck the sampling settings and the server's log."


class _DeadlineExceeded(Exception):
    """A request that did not complete within the model's total deadline."""


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
        if body.get("detail"):
            return str(body["detail"])
    return str(getattr(exc, "message", None) or exc)


def _describe(exc: Any) -> str:
    status = getattr(exc, "status_code", None)
    return f"HTTP {status}" if status else type(exc).__name__
