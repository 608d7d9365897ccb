"""Tokenizers, Vocab, pad_batch and language-model batching."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import mytorch.core as mt
from mytorch.core import Tensor
from mytorch.seq.text import (
    CharTokenizer,
    LMBatcher,
    SeqDataLoader,
    Vocab,
    WordTokenizer,
    batchify,
    get_batch,
    pad_batch,
)

# ---------------------------------------------------------------------------- tokenizers


@pytest.mark.parametrize(
    "text, lower, expected",
    [
        ("Hello, World!", True, ["hello", ",", "world", "!"]),
        ("Hello, World!", False, ["Hello", ",", "World", "!"]),
        (
            "I don't like it's ending...",
            True,
            ["i", "don't", "like", "it's", "ending", ".", ".", "."],
        ),
        ("  spaces\tand\nnewlines  ", True, ["spaces", "and", "newlines"]),
        ("9/10 -- a must-see", True, ["9", "/", "10", "-", "-", "a", "must", "-", "see"]),
        ("Café déjà vu", True, ["café", "déjà", "vu"]),
        ("", True, []),
    ],
)
def test_word_tokenizer(text, lower, expected):
    assert WordTokenizer(lower=lower)(text) == expected


@pytest.mark.parametrize("br", ["<br />", "<br/>", "<br>", "<BR />", "< br / >"])
def test_word_tokenizer_strips_html_breaks(br):
    text = f"Great film.{br}{br}Loved it"
    assert WordTokenizer()(text) == ["great", "film", ".", "loved", "it"]
    kept = WordTokenizer(strip_br=False)(text)
    assert "br" in kept and "<" in kept


def test_char_tokenizer():
    assert CharTokenizer()("Ab c!") == ["A", "b", " ", "c", "!"]
    assert CharTokenizer(lower=True)("Ab") == ["a", "b"]
    assert CharTokenizer(strip_br=True)("a<br />b") == ["a", " ", "b"]
    assert CharTokenizer()("") == []


@pytest.mark.parametrize("tok", [WordTokenizer(), CharTokenizer()])
def test_tokenizers_reject_non_str(tok):
    with pytest.raises(TypeError, match="expected a str, got bytes"):
        tok(b"abc")


# ---------------------------------------------------------------------------- vocab

CORPUS = [["the", "cat", "sat"], ["the", "dog", "sat"], ["the", "cat", "ran"], ["a"]]


def test_vocab_build_order_and_specials():
    v = Vocab.build(CORPUS)
    # frequency descending, ties alphabetical
    assert v.itos == ["<pad>", "<unk>", "the", "cat", "sat", "a", "dog", "ran"]
    assert v.stoi == {t: i for i, t in enumerate(v.itos)}
    assert len(v) == 8
    assert (v.pad_index, v.unk_index, v.bos_index, v.eos_index) == (0, 1, None, None)
    assert v["cat"] == 3 and v["unseen"] == 1
    assert "cat" in v and "unseen" not in v


@pytest.mark.parametrize(
    "bos, eos, head",
    [
        (True, True, ["<pad>", "<unk>", "<bos>", "<eos>"]),
        (True, False, ["<pad>", "<unk>", "<bos>"]),
        (False, True, ["<pad>", "<unk>", "<eos>"]),
    ],
)
def test_vocab_bos_eos(bos, eos, head):
    v = Vocab.build(CORPUS, bos=bos, eos=eos)
    assert v.itos[: len(head)] == head
    assert v.itos[len(head)] == "the"
    assert v.bos_index == (2 if bos else None)
    assert v.eos_index == (head.index("<eos>") if eos else None)
    ids = v.encode(["the", "zebra"], add_bos=bos, add_eos=eos)
    expected = ([2] if bos else []) + [len(head), 1] + ([head.index("<eos>")] if eos else [])
    assert ids == expected


def test_vocab_min_freq_and_max_size():
    assert Vocab.build(CORPUS, min_freq=2).itos == ["<pad>", "<unk>", "the", "cat", "sat"]
    assert Vocab.build(CORPUS, min_freq=3).itos == ["<pad>", "<unk>", "the"]
    assert Vocab.build(CORPUS, max_size=4).itos == ["<pad>", "<unk>", "the", "cat"]
    assert Vocab.build(CORPUS, max_size=2).itos == ["<pad>", "<unk>"]
    v = Vocab.build(CORPUS, max_size=5, bos=True, eos=True)
    assert v.itos == ["<pad>", "<unk>", "<bos>", "<eos>", "the"] and len(v) == 5


def test_vocab_extra_specials_and_special_tokens_in_data():
    v = Vocab.build([["<unk>", "x", "<sep>", "x"]], specials=["<sep>", "<mask>"])
    assert v.itos == ["<pad>", "<unk>", "<sep>", "<mask>", "x"]
    assert v.decode([2, 4, 3, 0, 1, 4], skip_specials=True) == ["x", "x"]


def test_vocab_encode_decode_round_trip():
    v = Vocab.build(CORPUS, bos=True, eos=True)
    toks = ["the", "dog", "ran"]
    ids = v.encode(toks, add_bos=True, add_eos=True)
    assert ids[0] == 2 and ids[-1] == 3
    assert v.decode(ids) == ["<bos>", *toks, "<eos>"]
    assert v.decode(ids, skip_specials=True) == toks
    # Tensors and NumPy arrays decode too
    assert v.decode(mt.tensor(ids)) == v.decode(np.array(ids)) == v.decode(ids)
    assert v.decode([]) == []


def test_vocab_errors():
    v = Vocab.build(CORPUS)
    with pytest.raises(ValueError, match="no <bos> token"):
        v.encode(["the"], add_bos=True)
    with pytest.raises(TypeError, match="got a str"):
        v.encode("the cat")
    with pytest.raises(IndexError, match="id 8 out of range for a vocabulary of 8"):
        v.decode([0, 8])
    with pytest.raises(IndexError, match="id -1 out of range"):
        v.decode([-1])
    with pytest.raises(ValueError, match="1-D sequence of integer ids"):
        v.decode([[1, 2]])
    with pytest.raises(TypeError, match="must yield token sequences, got the str"):
        Vocab.build(["the cat", "a dog"])
    with pytest.raises(ValueError, match="min_freq must be an int >= 1"):
        Vocab.build(CORPUS, min_freq=0)
    with pytest.raises(ValueError, match="max_size must be an int >= the number of special"):
        Vocab.build(CORPUS, max_size=2, bos=True)
    with pytest.raises(ValueError, match="must start with '<pad>', '<unk>'"):
        Vocab(["<unk>", "<pad>", "a"])
    with pytest.raises(ValueError, match="'a' appears more than once"):
        Vocab(["<pad>", "<unk>", "a", "a"])


def test_vocab_json_round_trip(tmp_path):
    v = Vocab.build(CORPUS + [["naïve", "日本"]], bos=True, specials=["<sep>"])
    path = tmp_path / "vocab.json"
    v.save(path)
    assert os.listdir(tmp_path) == ["vocab.json"]  # no temp file left behind
    with open(path, encoding="utf-8") as f:
        obj = json.load(f)
    assert obj["format"] == "mytorch.seq.Vocab" and obj["itos"] == v.itos
    w = Vocab.load(path)
    assert w == v and w.itos == v.itos and w.stoi == v.stoi
    assert (w.bos_index, w.eos_index, w.specials) == (2, None, ["<pad>", "<unk>", "<bos>", "<sep>"])
    assert w.encode(["naïve", "日本", "?"]) == v.encode(["naïve", "日本", "?"])
    # overwriting replaces the file atomically
    Vocab.build(CORPUS).save(path)
    assert Vocab.load(path) == Vocab.build(CORPUS) != v


def test_vocab_load_rejects_other_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="is not valid JSON"):
        Vocab.load(bad)
    bad.write_text(json.dumps({"itos": ["<pad>", "<unk>"]}), encoding="utf-8")
    with pytest.raises(ValueError, match="not a saved vocabulary"):
        Vocab.load(bad)


# ---------------------------------------------------------------------------- pad_batch

SEQS = [[1, 2, 3, 4], [5], [], [6, 7]]


def test_pad_batch_defaults():
    ids, lengths = pad_batch(SEQS)
    assert isinstance(ids, Tensor) and ids.dtype == np.int64 and ids.shape == (4, 4)
    assert lengths.dtype == np.int64 and lengths.tolist() == [4, 1, 0, 2]
    assert ids.tolist() == [[1, 2, 3, 4], [5, 0, 0, 0], [0, 0, 0, 0], [6, 7, 0, 0]]


@pytest.mark.parametrize(
    "max_len, truncation, padding, expected, lengths",
    [
        (
            None,
            "post",
            "pre",
            [[1, 2, 3, 4], [0, 0, 0, 5], [0, 0, 0, 0], [0, 0, 6, 7]],
            [4, 1, 0, 2],
        ),
        (
            6,
            "post",
            "post",
            [[1, 2, 3, 4, 9, 9], [5, 9, 9, 9, 9, 9], [9] * 6, [6, 7, 9, 9, 9, 9]],
            [4, 1, 0, 2],
        ),
        (2, "post", "post", [[1, 2], [5, 9], [9, 9], [6, 7]], [2, 1, 0, 2]),
        (2, "pre", "post", [[3, 4], [5, 9], [9, 9], [6, 7]], [2, 1, 0, 2]),
        (3, "pre", "pre", [[2, 3, 4], [9, 9, 5], [9, 9, 9], [9, 6, 7]], [3, 1, 0, 2]),
        (3, "post", "pre", [[1, 2, 3], [9, 9, 5], [9, 9, 9], [9, 6, 7]], [3, 1, 0, 2]),
        (0, "pre", "post", [[], [], [], []], [0, 0, 0, 0]),
    ],
)
def test_pad_batch_truncation_and_padding(max_len, truncation, padding, expected, lengths):
    pv = 0 if max_len is None else 9
    ids, lens = pad_batch(SEQS, max_len, pv, truncation=truncation, padding=padding)
    assert ids.shape == (4, len(expected[0]))
    assert ids.tolist() == expected
    assert lens.tolist() == lengths


def test_pad_batch_accepts_arrays_and_tensors():
    seqs = [np.array([3, 4], dtype=np.int32), mt.tensor([5, 6, 7]), [8]]
    ids, lengths = pad_batch(seqs)
    assert ids.dtype == np.int64 and ids.tolist() == [[3, 4, 0], [5, 6, 7], [8, 0, 0]]
    ids, lengths = pad_batch([])
    assert ids.shape == (0, 0) and lengths.shape == (0,)


def test_pad_batch_matches_torch_pad_sequence(torch):
    rng = np.random.default_rng(0)
    seqs = [rng.integers(1, 50, n) for n in (5, 1, 9, 3, 9)]
    ids, lengths = pad_batch(seqs, padding_value=-1)
    ref = torch.nn.utils.rnn.pad_sequence(
        [torch.from_numpy(s) for s in seqs], batch_first=True, padding_value=-1
    )
    np.testing.assert_array_equal(ids.numpy(), ref.numpy())
    assert lengths.tolist() == [5, 1, 9, 3, 9]


def test_pad_batch_errors():
    with pytest.raises(ValueError, match="truncation must be one of"):
        pad_batch(SEQS, truncation="middle")
    with pytest.raises(ValueError, match="padding must be one of"):
        pad_batch(SEQS, padding="both")
    with pytest.raises(ValueError, match="max_len must be a non-negative int"):
        pad_batch(SEQS, max_len=-1)
    with pytest.raises(ValueError, match=r"sequences\[1\] must be 1-D"):
        pad_batch([[1], [[2, 3]]])
    with pytest.raises(TypeError, match=r"sequences\[0\] must hold integer ids"):
        pad_batch([[1.5, 2.0]])


# ---------------------------------------------------------------------------- LM batching


def test_batchify_matches_word_language_model_layout():
    ids = np.arange(23)
    src = batchify(ids, 4)  # 23 // 4 = 5 rows, the last 3 ids dropped
    assert isinstance(src, Tensor) and src.dtype == np.int64 and src.shape == (5, 4)
    # column j holds the contiguous chunk ids[5j : 5j + 5]
    np.testing.assert_array_equal(src.numpy(), np.arange(20).reshape(4, 5).T)
    assert batchify(mt.tensor([1, 2, 3]), 1).tolist() == [[1], [2], [3]]


def test_batchify_matches_torch_example(torch):
    ids = torch.arange(37)
    bsz = 3
    nbatch = ids.size(0) // bsz
    ref = ids.narrow(0, 0, nbatch * bsz).view(bsz, -1).t().contiguous()
    np.testing.assert_array_equal(batchify(ids.numpy(), bsz).numpy(), ref.numpy())


@pytest.mark.parametrize("i, bptt, seq_len", [(0, 2, 2), (2, 2, 2), (3, 5, 1), (0, 10, 4)])
def test_get_batch(i, bptt, seq_len):
    src = batchify(np.arange(10), 2)  # (5, 2): columns 0..4 and 5..9
    data, target = get_batch(src, i, bptt)
    assert data.shape == (seq_len, 2) and target.shape == (seq_len * 2,)
    np.testing.assert_array_equal(data.numpy(), src.numpy()[i : i + seq_len])
    np.testing.assert_array_equal(target.numpy(), src.numpy()[i + 1 : i + 1 + seq_len].ravel())
    # every target is the next id in the stream of its column
    np.testing.assert_array_equal(target.numpy().reshape(seq_len, 2), data.numpy() + 1)


def test_lm_batcher_covers_stream():
    batcher = LMBatcher(np.arange(41), batch_size=4, bptt=3)  # source (10, 4)
    chunks = list(batcher)
    assert len(chunks) == len(batcher) == 3  # rows 0-2, 3-5, 6-8 (+ target row 9)
    assert [d.shape for d, _ in chunks] == [(3, 4), (3, 4), (3, 4)]
    data = np.concatenate([d.numpy() for d, _ in chunks])
    np.testing.assert_array_equal(data, batcher.source.numpy()[:9])
    targets = np.concatenate([t.numpy().reshape(-1, 4) for _, t in chunks])
    np.testing.assert_array_equal(targets, batcher.source.numpy()[1:10])
    assert [d.shape[0] for d, _ in LMBatcher(np.arange(40), 4, bptt=4)] == [4, 4, 1]


def test_batching_errors():
    with pytest.raises(ValueError, match="fewer than batch_size=5"):
        batchify([1, 2, 3], 5)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        batchify([1, 2, 3], 0)
    src = batchify(np.arange(10), 2)
    with pytest.raises(IndexError, match="i=4 out of range for a source of 5 rows"):
        get_batch(src, 4, 2)
    with pytest.raises(ValueError, match="bptt must be a positive int"):
        get_batch(src, 0, 0)
    with pytest.raises(ValueError, match="too short"):
        LMBatcher([1, 2], batch_size=2, bptt=2)
    with pytest.raises(ValueError, match="too few for one window of seq_len=5"):
        SeqDataLoader(np.arange(5), batch_size=2, seq_len=5)


def test_seq_data_loader_windows_in_order():
    ids = np.arange(100, 123)  # 23 ids, seq_len 5 -> (23 - 1) // 5 = 4 windows
    loader = SeqDataLoader(ids, batch_size=3, seq_len=5)
    batches = list(loader)
    assert len(loader) == len(batches) == 2
    x0, y0 = batches[0]
    assert x0.dtype == np.int64 and x0.shape == (3, 5) and y0.shape == (3, 5)
    np.testing.assert_array_equal(x0.numpy(), np.arange(100, 115).reshape(3, 5))
    np.testing.assert_array_equal(y0.numpy(), x0.numpy() + 1)
    x1, y1 = batches[1]
    assert x1.shape == (1, 5) and x1.tolist() == [[115, 116, 117, 118, 119]]
    assert y1.tolist() == [[116, 117, 118, 119, 120]]
    dropped = SeqDataLoader(ids, batch_size=3, seq_len=5, drop_last=True)
    assert len(dropped) == len(list(dropped)) == 1


def _epoch(loader) -> np.ndarray:
    return np.concatenate([x.numpy() for x, _ in loader])


def test_seq_data_loader_shuffle_is_seeded():
    ids = np.arange(201)  # 40 windows of 5
    windows = np.arange(200).reshape(40, 5)

    def make(**kw):
        return SeqDataLoader(ids, batch_size=8, seq_len=5, shuffle=True, **kw)

    a, b = make(generator=mt.Generator(3)), make(generator=mt.Generator(3))
    ea, eb = _epoch(a), _epoch(b)
    np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(ea, windows)
    # a permutation of all windows, each with its shifted target
    np.testing.assert_array_equal(np.sort(ea[:, 0]), windows[:, 0])
    for x, y in make(generator=mt.Generator(3)):
        np.testing.assert_array_equal(y.numpy(), x.numpy() + 1)
    assert not np.array_equal(_epoch(a), ea)  # a new order each epoch
    # without a generator, the global seed decides
    mt.manual_seed(11)
    e1 = _epoch(make())
    mt.manual_seed(11)
    np.testing.assert_array_equal(_epoch(make()), e1)
    mt.manual_seed(12)
    assert not np.array_equal(_epoch(make()), e1)
