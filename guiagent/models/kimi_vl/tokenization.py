"""Kimi-VL's tokenizer (the official ``tiktoken.model``, read without remote code) and its chat format.

The vocabulary file is tiktoken's format (one ``base64(token) rank`` per line); the special tokens are the
``added_tokens_decoder`` entries of ``tokenizer_config.json`` (``<|im_end|>``, ``<|media_pad|>``, ...).
Text is split with Kimi's pre-tokenizer pattern below (Han runs apart, case-aware words, 1-3 digit numbers).

Prompt layout (one image, the default system prompt):

    <|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|><|im_user|>user<|im_middle|>
    <|media_start|>image<|media_content|><|media_pad|>...<|media_end|>{text}<|im_end|>
    <|im_assistant|>assistant<|im_middle|>

Each image's ``<|media_pad|>`` is repeated grid_h*grid_w/4 times (one per merged 2x2 patch group). Special
tokens are only ever inserted by this module: text that spells ``<|im_end|>`` is encoded as plain text, so
prompt text (a task, a window title) cannot forge turns or image slots.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from guiagent.errors import ModelError

VOCAB_FILE = "tiktoken.model"
#: Kimi's pre-tokenizer (a fact of the released tokenizer, as data)
PATTERN = "|".join([
    r"[\p{Han}]+",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+"
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*"
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"\p{N}{1,3}",
    r" ?[^\s\p{L}\p{N}]+[\r\n]*",
    r"\s*[\r\n]+",
    r"\s+(?!\S)",
    r"\s+",
])
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant"
#: tokens the chat format needs
CHAT_TOKENS = ("<|im_system|>", "<|im_user|>", "<|im_assistant|>", "<|im_middle|>", "<|im_end|>",
               "<|media_start|>", "<|media_content|>", "<|media_end|>", "<|media_pad|>")
#: special tokens dropped when decoding: control tokens like <|im_end|> or [EOS] (◁think▷ is kept)
#: token ids (ranks and special tokens) must fit tiktoken's 32-bit ids
MAX_ID = 2**31
_CONTROL = re.compile(r"^(<\|.*\|>|\[[A-Z_]+\])$")
_ROLE_TOKEN = {"system": "<|im_system|>", "user": "<|im_user|>", "assistant": "<|im_assistant|>"}


class KimiVLTokenizer:
    """tiktoken BPE with Kimi's pattern and special tokens.

    Args:
        ranks: token bytes -> id (the ``tiktoken.model`` file).
        special_tokens: special token text -> id.
    """

    def __init__(self, ranks: dict[bytes, int], special_tokens: dict[str, int]):
        try:
            import tiktoken
        except ImportError as exc:
            raise ModelError("Kimi-VL's tokenizer needs tiktoken: pip install 'guiagent[local]'") from exc
        self.special_tokens = dict(special_tokens)
        self._encoding = tiktoken.Encoding("kimi-vl", pat_str=PATTERN, mergeable_ranks=ranks,
                                           special_tokens=self.special_tokens)
        self._decode_skip = {i for t, i in self.special_tokens.items() if _CONTROL.match(t)}
        self._id_to_special = {i: t for t, i in self.special_tokens.items()}
        self._bpe_size = len(ranks)
        if set(ranks.values()) != set(range(self._bpe_size)):
            raise ModelError("the tiktoken vocabulary's ranks must be 0..n-1 without gaps")

    @classmethod
    def from_pretrained(cls, path: str | Path) -> "KimiVLTokenizer":
        """Read ``tiktoken.model`` and ``tokenizer_config.json`` from a checkpoint folder.

        Raises:
            ModelError: a missing or malformed file, or a special token the chat format needs is absent.
        """
        folder = Path(path)
        tokenizer = cls(read_tiktoken_file(folder / VOCAB_FILE), read_special_tokens(folder))
        missing = [t for t in CHAT_TOKENS if t not in tokenizer.special_tokens]
        if missing:
            raise ModelError(f"{folder / 'tokenizer_config.json'} lacks the special token(s) {', '.join(missing)}")
        return tokenizer

    @property
    def vocab_size(self) -> int:
        return self._encoding.n_vocab

    def token_id(self, token: str) -> int:
        """The id of a special token. Raises ModelError for an unknown one."""
        try:
            return self.special_tokens[token]
        except KeyError:
            raise ModelError(f"the tokenizer has no special token {token!r}") from None

    def encode(self, text: str) -> list[int]:
        """Ids of ``text`` as plain text (special-token spellings are not turned into special tokens)."""
        return self._encoding.encode(text, allowed_special=set(), disallowed_special=())

    def decode(self, ids: Iterable[int], skip_special_tokens: bool = True) -> str:
        """Text of ``ids``; with ``skip_special_tokens`` the control tokens (<|...|>, [EOS], ...) are dropped."""
        ids = [int(i) for i in ids]
        if skip_special_tokens:
            ids = [i for i in ids if i not in self._decode_skip]
        # the LM head also scores reserved ids that no token holds: they decode to nothing
        ids = [i for i in ids if 0 <= i < self._bpe_size or i in self._id_to_special]
        return self._encoding.decode(ids, errors="replace")


def read_tiktoken_file(file: Path) -> dict[bytes, int]:
    """tiktoken's BPE file: one ``base64(token) rank`` per line.

    Raises:
        ModelError: missing file or a malformed line.
    """
    try:
        lines = file.read_bytes().splitlines()
    except OSError as exc:
        raise ModelError(f"cannot read the tokenizer vocabulary {file}: {exc}") from exc
    ranks: dict[bytes, int] = {}
    seen: set[int] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            token, text = line.split()
            piece, rank = base64.b64decode(token, validate=True), int(text)
        except ValueError as exc:
            raise ModelError(f"{file}:{number} is not a 'base64-token rank' line") from exc
        if not 0 <= rank < MAX_ID or rank in seen:  # tiktoken itself overflows or panics (in Rust) on these
            raise ModelError(f"{file}:{number}: tiktoken ranks must be distinct whole numbers from 0 to "
                             f"{MAX_ID - 1}, got {rank}")
        seen.add(rank)
        ranks[piece] = rank
    if not ranks:
        raise ModelError(f"{file} holds no tokens")
    return ranks


def read_special_tokens(folder: Path) -> dict[str, int]:
    """Special token -> id from ``tokenizer_config.json``'s ``added_tokens_decoder``.

    Raises:
        ModelError: missing or malformed file.
    """
    file = folder / "tokenizer_config.json"
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        decoder = data["added_tokens_decoder"]
        tokens = {(entry["content"] if isinstance(entry, dict) else str(entry)): int(token_id)
                  for token_id, entry in decoder.items()}
    except OSError as exc:
        raise ModelError(f"cannot read {file}: {exc}") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(f"{file} needs an 'added_tokens_decoder' mapping ids to special tokens: {exc}") from exc
    except RecursionError:
        raise ModelError(f"{file} is not valid JSON: nested too deeply") from None
    bad = sorted(i for i in tokens.values() if not 0 <= i < MAX_ID)
    if bad:
        raise ModelError(f"{file}: special token ids must be from 0 to {MAX_ID - 1}, got {bad[0]}")
    return tokens


# ---------------------------------------------------------------------- chat format


@dataclass(frozen=True)
class ChatImage:
    """An image slot in a chat turn: ``tokens`` = grid_h * grid_w / 4 placeholder tokens."""

    tokens: int


ChatPart = str | ChatImage


def chat_ids(tokenizer: KimiVLTokenizer, turns: Sequence[tuple[str, Sequence[ChatPart]]], *,
             add_generation_prompt: bool = True) -> list[int]:
    """Token ids of a conversation in Kimi-VL's chat format.

    Args:
        tokenizer: the checkpoint's tokenizer.
        turns: (role, parts) per message; role is system, user or assistant; parts are text or ``ChatImage``.
            Without a leading system turn, the default system prompt is put first (as the official template does).
        add_generation_prompt: end with the assistant header, ready for generation.

    Raises:
        ModelError: an unknown role.
    """
    tok = tokenizer.token_id
    ids: list[int] = []
    if not turns or turns[0][0] != "system":
        turns = [("system", [DEFAULT_SYSTEM_PROMPT]), *turns]
    for role, parts in turns:
        if role not in _ROLE_TOKEN:
            raise ModelError(f"unknown chat role {role!r}; use system, user or assistant")
        ids += [tok(_ROLE_TOKEN[role]), *tokenizer.encode(role), tok("<|im_middle|>")]
        for part in parts:
            if isinstance(part, ChatImage):
                ids += [tok("<|media_start|>"), *tokenizer.encode("image"), tok("<|media_content|>"),
                        *[tok("<|media_pad|>")] * part.tokens, tok("<|media_end|>")]
            else:
                ids += tokenizer.encode(part)
        ids.append(tok("<|im_end|>"))
    if add_generation_prompt:
        ids += [tok("<|im_assistant|>"), *tokenizer.encode("assistant"), tok("<|im_middle|>")]
    return ids
