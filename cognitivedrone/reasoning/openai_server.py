"""`openai`: any OpenAI-compatible chat server with image input (vLLM, Ollama, llama.cpp server,
LM Studio...). The frame goes as a PNG data URL. Timeouts and retries are the backend's; Pilot
keeps the previous instruction whatever happens here."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

import numpy as np

from cognitivedrone.reasoning.base import Reasoner, ReasonerError, Rewrite
from cognitivedrone.reasoning.prompting import SYSTEM_PROMPT, png_data_url, user_prompt


class OpenAIReasoner(Reasoner):
    name = "openai"

    def __init__(self, url: str, model: str | None = None, timeout_s: float = 10.0, retries: int = 2,
                 api_key: str | None = None, max_tokens: int = 64):
        url = url.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the openai reasoner needs an http(s) URL, got {url!r}")
        self.endpoint = url if url.endswith("/chat/completions") else (
            url + "/chat/completions" if url.endswith("/v1") else url + "/v1/chat/completions")
        self.model = model or os.environ.get("COGNITIVEDRONE_REASONER_MODEL", "default")
        self.timeout_s, self.retries, self.max_tokens = timeout_s, retries, max_tokens
        self.api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")

    def rewrite(self, instruction: str, image: np.ndarray) -> Rewrite:
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
                req = urllib.request.Request(self.endpoint, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    payload = json.loads(resp.read(1 << 20))
                return Rewrite(_content(payload), f"{self.model} at {self.endpoint}", time.perf_counter() - t0)
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                if exc.code < 500 and exc.code != 429:
                    break  # a client error does not get better by asking again
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise ReasonerError(f"{self.endpoint} answered something that is not a chat completion ({exc})") from None
        raise ReasonerError(f"{self.endpoint}: no answer after {self.retries + 1} attempt(s) ({last})")


def _content(payload: dict) -> str:
    content = payload["choices"][0]["message"]["content"]
    if isinstance(content, list):  # some servers return content parts
        content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise TypeError(f"message content is {type(content).__name__}")
    return content.strip()
