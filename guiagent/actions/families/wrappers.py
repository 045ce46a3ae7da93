"""What real deployments wrap around a family's answer, peeled off before the grammar reads it.

- Special tokens a server did not strip (``<|im_end|>``, ``<|endoftext|>``, ``</s>``, ``<|end|>``, ...) after the
  last action: ``strip_end_tokens``.
- UI-TARS-desktop's "omni" format (its action parser's tests; Seed / UI-TARS-2 omni agents)::

      <think>the reasoning</think>
      <computer_env>
      Action: click(point='<point>400 435</point>')
      </computer_env>

  and, to end the task with an answer, ``<think>...</think>`` then ``<answer>the answer</answer>``. The think tag
  may carry a suffix (``<think_never_used_51bce0c7...>``, ``<thinkt>``), closed by the same name.
- UI-TARS-desktop's early "O1" format::

      <Thought>the reasoning</Thought>
      Action_Summary: what the action does
      Action: click(start_box='(100,200)')
      </Output>

Everything here is a linear scan with ``str`` methods (no backtracking regex over the whole answer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guiagent.errors import ParseError

#: Special tokens left in the text by servers that do not skip them (Qwen / ChatML, GPT-2 style, Llama 2 /
#: SentencePiece, Phi / Kimi style, Llama 3).
END_TOKENS: tuple[str, ...] = ("<|im_end|>", "<|endoftext|>", "</s>", "<|end|>", "<|eot_id|>", "<|im_start|>")
_BLANKS = " \t\r\n\f\v"


def strip_end_tokens(text: str) -> str:
    """``text`` without the run of special tokens (and blanks between them) at its end; unchanged without one."""
    if not text.endswith(">"):  # every token ends with ">": the usual answer is done here
        end = len(text)
        while end and text[end - 1] in _BLANKS:
            end -= 1
        if not end or text[end - 1] != ">":
            return text
    end = found = len(text)
    while True:
        while end and text[end - 1] in _BLANKS:
            end -= 1
        if not text.endswith(END_TOKENS, 0, end):
            return text if found == len(text) else text[:found]
        token = next(tok for tok in END_TOKENS if text.endswith(tok, 0, end))
        end = found = end - len(token)


@dataclass(frozen=True)
class Unwrapped:
    """An answer with its omni / O1 wrapper taken off."""

    #: the text the grammar reads next (the body of ``<computer_env>``, or the answer without ``<Thought>``)
    body: str
    #: the reasoning from ``<think>`` / ``<Thought>``, if any
    thinking: str | None = None
    #: the content of an omni ``<answer>`` block (the task is finished with it); None when there is none
    answer: str | None = None


_THINK_TAG = re.compile(r"<(think[A-Za-z0-9_]{0,64})>")
# What a wrapped answer starts with (after blanks); anything else is not wrapped (the usual answer: one match).
_WRAPPED = re.compile(r"\s*<(?:Thought>|think|computer_env>|answer>|code_env>|mcp_env>)")


def _block(text: str, open_tag: str, close_tag: str, what: str) -> tuple[str, str]:
    """(the body of the one ``open_tag ... close_tag`` block in ``text``, ``text`` without it). ParseError when it
    is never closed or appears more than once (several action blocks: which one to run is ambiguous)."""
    start = text.find(open_tag)
    end = text.find(close_tag, start + len(open_tag))
    if end < 0:
        raise ParseError(f"the {open_tag} block is never closed (was the response cut off?)", text[start:start + 80])
    rest = text[:start] + text[end + len(close_tag):]
    if open_tag in rest:
        raise ParseError(f"more than one {what}; answer with one", text[start:start + 80])
    return text[start + len(open_tag):end], rest


def unwrap(text: str) -> Unwrapped | None:
    """Take off an omni or O1 wrapper; None when ``text`` has neither (the grammar reads it as it is).

    Raises ParseError for wrappers that cannot be read without guessing: an unclosed block, two action blocks,
    both an action block and an answer, or text outside the blocks.
    """
    if not text.startswith("<") and not text[:1].isspace() or not _WRAPPED.match(text):
        return None
    s = text.lstrip()
    if s.startswith("<Thought>"):
        end = s.find("</Thought>")
        if end < 0:
            raise ParseError("the <Thought> block is never closed", s[:80])
        body = s[end + len("</Thought>"):].rstrip()
        if body.endswith("</Output>"):
            body = body[:-len("</Output>")]
        return Unwrapped(body, s[len("<Thought>"):end].strip() or None)
    thinking = None
    m = _THINK_TAG.match(s)
    if m is not None:
        close = f"</{m.group(1)}>"
        end = s.find(close, m.end())
        if end < 0:
            raise ParseError(f"the <{m.group(1)}> block is never closed (was the response cut off?)", s[:80])
        thinking = s[m.end():end].strip() or None
        s = s[end + len(close):]
    rest = s.lstrip()
    for tag in ("computer_env", "answer"):
        if rest.startswith(f"<{tag}>"):
            body, outside = _block(rest, f"<{tag}>", f"</{tag}>", f"<{tag}> block")
            if outside.strip():
                raise ParseError(f"text outside the <think> and <{tag}> blocks (several blocks, or an action and "
                                 "an answer, are ambiguous: answer with one)", outside.strip()[:80])
            return Unwrapped(body, thinking) if tag == "computer_env" else Unwrapped("", thinking, body.strip())
    for other in ("<code_env>", "<mcp_env>"):
        if rest.startswith(other):
            raise ParseError(f"a {other} block: this agent only runs GUI actions (<computer_env>)", s.strip()[:80])
    return None if m is None else Unwrapped(s, thinking)
