"""The hf backend against a tiny, randomly initialised Qwen2-VL built here and saved like a hub
checkpoint: the real architecture, tokenizer, chat template and image processor, loaded back through
the Auto classes. Its answers are noise; Pilot validates answers, so only the plumbing is checked."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from cognitivedrone.reasoning import ReasonerError, Rewrite, make_reasoner  # noqa: E402
from cognitivedrone.reasoning.hf import HFReasoner  # noqa: E402
from cognitivedrone.reasoning.prompting import SYSTEM_PROMPT  # noqa: E402

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
            "<|image_pad|>", "<|video_pad|>"]
# Qwen2-VL's template, cut to what the backend sends (text and image parts).
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
NO_SYSTEM_TEMPLATE = ("{% if messages[0]['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}"
                      + CHAT_TEMPLATE)


def save_tiny_qwen2_vl(out):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2VLConfig, Qwen2VLForConditionalGeneration

    # byte-level BPE without merges: any text encodes, one token a byte
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIALS)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        chat_template=CHAT_TEMPLATE)
    ids = {s: tokenizer.convert_tokens_to_ids(s) for s in SPECIALS}

    # the PIL backend, as torchvision may be missing; it saves as "Qwen2VLImageProcessor" like the hub's
    image_cls = getattr(transformers, "Qwen2VLImageProcessorPil", None) or transformers.Qwen2VLImageProcessor
    image_processor = image_cls(min_pixels=28 * 28, max_pixels=56 * 56)  # at most 4x4 patches of 14, 4 image tokens

    config = Qwen2VLConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1,
                         rope_parameters={"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 1e4},
                         bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
                         pad_token_id=ids["<|endoftext|>"]),
        vision_config=dict(depth=1, embed_dim=32, hidden_size=32, num_heads=2, mlp_ratio=2),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(0)
    Qwen2VLForConditionalGeneration(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    image_processor.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_qwen2_vl(tmp_path_factory.mktemp("tiny-qwen2-vl"))


@pytest.fixture(scope="module")
def reasoner(model_dir):
    r = HFReasoner(model_dir, max_new_tokens=4)
    yield r
    r.close()


def frame(seed, h=40, w=56):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def spy_generate(reasoner, monkeypatch):
    seen = []
    real = reasoner.model.generate

    def generate(**kwargs):
        seen.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(reasoner.model, "generate", generate)
    return seen


def test_the_directory_loads_through_the_auto_classes(reasoner, model_dir):
    assert reasoner.name == "hf"
    assert isinstance(reasoner.model, transformers.Qwen2VLForConditionalGeneration)
    assert isinstance(reasoner.processor, transformers.Qwen2VLProcessor)
    assert type(reasoner.processor.image_processor).__name__.startswith("Qwen2VLImageProcessor")
    assert not reasoner.model.training


def test_rewrite_runs_preprocessing_generation_and_decoding(reasoner, model_dir, monkeypatch):
    seen = spy_generate(reasoner, monkeypatch)
    out = reasoner.rewrite("Fly through the gate with the animal that barks", frame(0))

    assert isinstance(out, Rewrite) and isinstance(out.text, str)
    assert out.latency_s > 0
    assert out.rationale == f"Qwen2VLForConditionalGeneration at {model_dir}"

    (kwargs,) = seen
    assert kwargs["do_sample"] is False and kwargs["max_new_tokens"] == 4
    grid = kwargs["image_grid_thw"]
    assert grid.tolist() == [[1, 2, 4]]  # 40x56 snaps to 28x56: 2x4 patches of 14, 2 image tokens
    assert kwargs["pixel_values"].shape[0] == int(grid.prod())
    merge = reasoner.processor.image_processor.merge_size
    n_pad = int((kwargs["input_ids"] == reasoner.model.config.image_token_id).sum())
    assert n_pad == int(grid.prod()) // merge**2  # the one <|image_pad|> was expanded to the image's tokens

    prompt = reasoner.processor.batch_decode(kwargs["input_ids"])[0]
    assert SYSTEM_PROMPT in prompt and "the animal that barks" in prompt
    assert prompt.rstrip().endswith("<|im_start|>assistant")


def test_the_image_changes_what_the_model_computes(reasoner, monkeypatch):
    seen = spy_generate(reasoner, monkeypatch)
    reasoner.rewrite("Fly through the red gate", frame(1))
    reasoner.rewrite("Fly through the red gate", np.zeros((40, 56, 3), np.uint8))
    a, b = seen
    assert torch.equal(a["input_ids"], b["input_ids"])  # same words, same layout: only the pixels differ
    with torch.inference_mode():
        logits = [reasoner.model(**{k: v for k, v in kw.items() if k not in ("do_sample", "max_new_tokens")})
                  .logits[0, -1] for kw in (a, b)]
    assert not torch.allclose(logits[0], logits[1])


def test_a_template_without_a_system_role_gets_the_system_prompt_in_the_user_turn(model_dir, monkeypatch):
    r = HFReasoner(model_dir, max_new_tokens=2)
    r.processor.chat_template = NO_SYSTEM_TEMPLATE
    seen = spy_generate(r, monkeypatch)
    assert isinstance(r.rewrite("Fly through the blue gate", frame(2)).text, str)
    prompt = r.processor.batch_decode(seen[0]["input_ids"])[0]
    assert "<|im_start|>system" not in prompt
    assert "<|im_start|>user\n<|vision_start|>" in prompt and SYSTEM_PROMPT in prompt


def test_a_generation_failure_is_a_reasoner_error(reasoner, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(reasoner.model, "generate", broken)
    with pytest.raises(ReasonerError, match="out of memory"):
        reasoner.rewrite("Fly through the gate", frame(3))


def test_make_reasoner_builds_it_from_a_spec(model_dir):
    r = make_reasoner(f"hf:{model_dir}")
    assert isinstance(r, HFReasoner) and r.path == model_dir


def test_a_missing_directory_is_a_value_error_naming_it(tmp_path):
    missing = tmp_path / "Qwen2.5-VL-7B-Instruct"
    with pytest.raises(ValueError, match="hf download Qwen") as err:
        HFReasoner(missing)
    assert str(missing) in str(err.value) and "\n" not in str(err.value)


def test_a_directory_without_a_model_is_a_value_error_naming_it(tmp_path):
    (tmp_path / "README.md").write_text("not a model\n")
    with pytest.raises(ValueError, match="cannot load") as err:
        HFReasoner(tmp_path)
    assert str(tmp_path) in str(err.value) and "\n" not in str(err.value)
