"""What a VLM backend (hf, openai) is asked, and how its frame is sent."""

from __future__ import annotations

import base64
import io

import numpy as np

SYSTEM_PROMPT = (
    "You help a drone pilot. The drone's camera sees gates; above each gate a billboard shows a picture. "
    "Gates differ in size (big, small), shape (round, square, triangle) and colour (red, green, blue). "
    "Work out which single gate the instruction means, then answer with one sentence of the form "
    "'Fly through the <size> <shape> <colour> gate with <object>' and nothing else."
)


def user_prompt(instruction: str) -> str:
    return f"Instruction: {instruction.strip()}\nAnswer with the one sentence."


def png_data_url(image: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
