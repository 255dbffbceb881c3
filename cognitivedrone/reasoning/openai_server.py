"""`openai`: any OpenAI-compatible chat server with image input (vLLM, Ollama, llama.cpp server,
LM Studio...). The frame goes as a PNG data URL. Timeouts and retries are the backend's; Pilot
keeps the previous instruction whatever happens here.

The server is not trusted: whatever it answers (a redirect, bytes that are not HTTP, a reply
trickled one byte at a time, JSON nested a million deep, an essay) ends in a one-line
ReasonerError within the time budget, and the API key goes to the configured host only."""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

import numpy as np

from cognitivedrone.bounded_json import JsonInputError, loads_bounded
from cognitivedrone.reasoning.base import Reasoner, ReasonerError, Rewrite
from cognitivedrone.reasoning.prompting import SYSTEM_PROMPT, png_data_url, user_prompt

MAX_BODY = 1 << 20  # a chat completion of a few words is ~1 kB
MAX_CONTENT = 2000  # characters; a rewrite is one short sentence


class OpenAIReasoner(Reasoner):
    name = "openai"

    def __init__(self, url: str, model: str | None = None, timeout_s: float = 10.0, retries: int = 2,
                 api_key: str | None = None, max_tokens: int = 64):
        url = url.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the openai reasoner needs an http(s) URL, got {url!r}")
        self.endpoint = url if url.endswith("/chat/completions") else (
            url + "/chat/completions" if url.endswith("/v1") else url + "/v1/chat/completions")
        parts = urlsplit(self.endpoint)
        if parts.username is not None or parts.password is not None:
            raise ValueError(f"{url!r}: put the API key in OPENAI_API_KEY, not in the URL")
        if not parts.hostname:
            raise ValueError(f"{url!r} names no host; e.g. http://localhost:8000")
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None
        self._host, self._port = parts.hostname, parts.port  # port: ValueError if not a number
        self._path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.model = model or os.environ.get("COGNITIVEDRONE_REASONER_MODEL", "default")
        self.timeout_s, self.retries, self.max_tokens = timeout_s, retries, max_tokens
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")

    def rewrite(self, instruction: str, image: np.ndarray) -> Rewrite:
        """Ask the server. Each attempt (connect, send, status, headers, whole body) gets
        `timeout_s`; 5xx, 429 and connection failures are retried `retries` times with a backoff
        of 0.25, 0.5, 1, 2, 2... s. So a call takes at most about
        (retries + 1) * timeout_s + backoff (31 s with the defaults), plus name resolution; a
        host name with several addresses may take timeout_s per address to connect.
        Every failure is a ReasonerError with a one-line message."""
        body = json.dumps({
            "model": self.model, "temperature": 0, "max_tokens": self.max_tokens,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": [{"type": "text", "text": user_prompt(instruction)},
                                             {"type": "image_url", "image_url": {"url": png_data_url(image)}}]},
            ],
        }).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        t0 = time.perf_counter()
        last = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(0.25 * 2 ** (attempt - 1), 2.0))
            try:
                status, location, data = self._post(body, headers)
            except (OSError, http.client.IncompleteRead) as exc:  # refused, reset, cut short, timed out
                last = _describe(exc)
                continue
            except http.client.HTTPException as exc:  # not HTTP at all: asking again will not help
                raise ReasonerError(f"{self.endpoint} did not answer in HTTP ({_describe(exc)}); "
                                    "is the URL that of an OpenAI-compatible server?") from None
            if 300 <= status < 400:
                # Never followed: the request carries the API key, which is for this host only.
                raise ReasonerError(f"{self.endpoint} answered HTTP {status}, a redirect to {_clip(location or '?')}; "
                                    "redirects are not followed: give the final address as the reasoner URL")
            if status == 429 or status >= 500:
                last = f"HTTP {status}"
                continue
            if not 200 <= status < 300:  # a client error does not get better by asking again
                raise ReasonerError(f"{self.endpoint} answered HTTP {status}; check the URL, the model name "
                                    f"({self.model!r}) and OPENAI_API_KEY")
            return Rewrite(parse_chat_completion(data, self.endpoint), f"{self.model} at {self.endpoint}",
                           time.perf_counter() - t0)
        raise ReasonerError(f"{self.endpoint}: no answer after {self.retries + 1} attempt(s) ({last})")

    def _post(self, body: bytes, headers: dict) -> tuple[int, str | None, bytes]:
        """One POST within `timeout_s`: (status, Location, body; the body of a 2xx only).
        http.client never follows redirects, which is why it is used instead of urllib."""
        deadline = time.monotonic() + self.timeout_s
        port = self._port or (443 if self._tls else 80)
        cls = http.client.HTTPSConnection if self._tls else http.client.HTTPConnection
        conn, resp, watch, watchdog, fired = cls(self._host, port), None, None, None, threading.Event()
        try:
            conn.sock = sock = socket.create_connection((self._host, port), timeout=self.timeout_s)
            # A socket timeout restarts with every byte, so a server trickling its handshake, headers
            # or body would hold us for hours: at the deadline the watchdog shuts the connection under
            # whatever read is waiting. It shuts a duplicate of the socket, which TLS wrapping and
            # http.client's handing the socket to the response leave alone.
            watch = sock.dup()
            watchdog = threading.Timer(max(deadline - time.monotonic(), 0.0), _shut, (watch, fired))
            watchdog.daemon = True
            watchdog.start()
            if self._tls:
                conn.sock = self._tls.wrap_socket(sock, server_hostname=self._host)
            conn.request("POST", self._path, body, headers)
            resp = conn.getresponse()
            if not 200 <= resp.status < 300:
                return resp.status, resp.getheader("Location"), b""
            length = resp.getheader("Content-Length", "")
            if length.isdigit() and int(length) > MAX_BODY:
                raise ReasonerError(f"{self.endpoint} announced a {int(length):,}-byte reply; a chat completion "
                                    f"is a few kB: is this the chat server?")
            data = b""
            while chunk := resp.read(64 << 10):
                data += chunk
                if len(data) > MAX_BODY:
                    raise ReasonerError(f"{self.endpoint} sent more than {MAX_BODY:,} bytes; a chat completion "
                                        "is a few kB: is this the chat server?")
            if fired.is_set():  # the body ended because the watchdog cut it
                raise TimeoutError
            return resp.status, None, data
        except (OSError, http.client.HTTPException):
            if fired.is_set():  # whatever broke, it broke because time was up
                raise TimeoutError(f"no full reply within {self.timeout_s:g} s") from None
            raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
            for c in (resp, conn, watch):
                if c is not None:
                    c.close()


def _shut(sock: socket.socket, fired: threading.Event) -> None:
    fired.set()
    try:
        sock.shutdown(socket.SHUT_RDWR)  # the waiting read sees the end of the stream
    except OSError:
        pass  # already closed


def parse_chat_completion(body: bytes, source: str = "the server") -> str:
    """The text of a chat completion (`choices[0].message.content`, a string or text parts),
    stripped. Any other body (not JSON, too big, too deep, NaN, not UTF-8, no content, more than
    MAX_CONTENT characters) is a ReasonerError with a one-line message; nothing else is raised."""
    what = f"{source} answered something that is not a chat completion"
    try:
        payload = loads_bounded(body, max_bytes=MAX_BODY, what="reply")
    except JsonInputError as exc:
        raise ReasonerError(f"{what} ({_clip(str(exc))})") from None
    choices = payload.get("choices") if isinstance(payload, dict) else None
    message = choices[0].get("message") if isinstance(choices, list) and choices and isinstance(choices[0], dict) else None
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):  # some servers return content parts
        content = " ".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    if not isinstance(content, str):
        raise ReasonerError(f"{what} (no choices[0].message.content text)")
    content = content.strip()
    if len(content) > MAX_CONTENT:
        raise ReasonerError(f"{source} answered {len(content):,} characters; a rewrite is one short sentence "
                            f"(at most {MAX_CONTENT:,}): check the model and its prompt template")
    return content


def _clip(text: str, n: int = 200) -> str:
    """One printable line: what a server sends may hold newlines and control characters."""
    text = repr(text)[1:-1]
    return text if len(text) <= n else text[:n] + "..."


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {_clip(str(exc))}" if str(exc) else type(exc).__name__
