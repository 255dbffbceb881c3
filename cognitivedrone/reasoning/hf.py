"""`hf`: a vision-language model from a local Hugging Face directory (Qwen2-VL, Qwen2.5-VL, or any
other that AutoProcessor and AutoModelForImageTextToText load), run in-process with greedy decoding.
Nothing is downloaded: the directory must already hold the model."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from cognitivedrone.reasoning.base import Reasoner, ReasonerError, Rewrite
from cognitivedrone.reasoning.prompting import SYSTEM_PROMPT, user_prompt

DOWNLOAD_HINT = ("download the model with `hf download Qwen/Qwen2.5-VL-7B-Instruct --local-dir DIR` (huggingface_hub) "
                 "on a machine with internet and pass that directory")


class HFReasoner(Reasoner):
    name = "hf"

    def __init__(self, path: str | Path, device: str = "cpu", max_new_tokens: int = 48, dtype=None):
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise ValueError(f"hf reasoner: no model directory at {self.path}; {DOWNLOAD_HINT}")
        try:
            import torch  # noqa: F401
            from transformers import AutoModelForImageTextToText
        except ImportError as exc:
            raise ValueError(f"hf reasoner needs torch and transformers ({exc}); "
                             "install them with `pip install 'cognitivedrone[learn]'`") from None
        try:
            self.processor = _load_processor(self.path)
            kwargs = {} if dtype is None else {"dtype": dtype}
            self.model = AutoModelForImageTextToText.from_pretrained(self.path, local_files_only=True, **kwargs)
        except Exception as exc:  # transformers fails in many ways (OSError, ValueError, KeyError...)
            raise ValueError(f"hf reasoner: transformers cannot load a vision-language model from {self.path} "
                             f"({type(exc).__name__}: {_first_line(exc)}); {DOWNLOAD_HINT}") from exc
        self.model.to(device).eval()
        self.device, self.max_new_tokens = device, max_new_tokens
        self._system_role = True  # cleared once a chat template refuses a system message

    def rewrite(self, instruction: str, image: np.ndarray) -> Rewrite:
        import torch
        from PIL import Image

        t0 = time.perf_counter()
        try:
            prompt = self._prompt(instruction)
            frame = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).convert("RGB")
            inputs = self.processor(text=[prompt], images=[frame], return_tensors="pt").to(self.device)
            with torch.inference_mode():
                out = self.model.generate(**inputs, do_sample=False, max_new_tokens=self.max_new_tokens)
            new_tokens = out[:, inputs["input_ids"].shape[1]:]
            answer = self.processor.batch_decode(new_tokens, skip_special_tokens=True)[0]
        except Exception as exc:
            raise ReasonerError(f"{self.path}: generation failed ({type(exc).__name__}: {_first_line(exc)})") from exc
        return Rewrite(answer.strip(), f"{type(self.model).__name__} at {self.path}", time.perf_counter() - t0)

    def _prompt(self, instruction: str) -> str:
        text = {"type": "text", "text": user_prompt(instruction)}
        if self._system_role:
            messages = [{"role": "system", "content": [{"type": "text", "text": SYSTEM_PROMPT}]},
                        {"role": "user", "content": [{"type": "image"}, text]}]
            try:
                return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            except Exception:  # some templates (Gemma's, Mistral's) raise on a system role
                self._system_role = False
        text = {"type": "text", "text": SYSTEM_PROMPT + "\n\n" + text["text"]}
        messages = [{"role": "user", "content": [{"type": "image"}, text]}]
        return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def close(self) -> None:
        self.model = self.processor = None


def _load_processor(path: Path):
    """AutoProcessor, or, where only torchvision is missing, the same processor class without videos.

    Qwen2-VL/Qwen2.5-VL processors also hold a video processor, and every video processor in
    transformers needs torchvision, so AutoProcessor raises ImportError without it even though a
    still frame needs only the tokenizer and the image processor (which has a PIL backend).
    torchvision wheels must match the torch build exactly, which a drone's or a CPU box's torch often
    does not, so rather than fail we build the model's own processor class with no video processor:
    prompt expansion and the M-RoPE token types stay those of the real class.
    """
    from transformers import AutoConfig, AutoImageProcessor, AutoProcessor, AutoTokenizer
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING

    try:
        return AutoProcessor.from_pretrained(path, local_files_only=True)
    except ImportError as exc:
        if "torchvision" not in str(exc).lower():
            raise
        config = AutoConfig.from_pretrained(path, local_files_only=True)
        if type(config) not in PROCESSOR_MAPPING:
            raise
        base = PROCESSOR_MAPPING[type(config)]
        if sorted(base.get_attributes()) != ["image_processor", "tokenizer", "video_processor"]:
            raise

    class ImageOnlyProcessor(base):
        def check_argument_for_proper_class(self, argument_name, argument):
            # the class check itself looks the video base class up, which needs torchvision
            if argument_name == "video_processor" and argument is None:
                return None
            return super().check_argument_for_proper_class(argument_name, argument)

    parts = {"image_processor": AutoImageProcessor.from_pretrained(path, local_files_only=True),
             "tokenizer": AutoTokenizer.from_pretrained(path, local_files_only=True),
             "video_processor": None}
    processor_dict, kwargs = ImageOnlyProcessor.get_processor_dict(path, local_files_only=True)
    args = [parts[name] for name in ImageOnlyProcessor.get_attributes()]
    return ImageOnlyProcessor.from_args_and_dict(args, processor_dict, **kwargs)


def _first_line(exc: BaseException) -> str:
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), "no message")
