"""Write a tiny, randomly initialised Kimi-VL checkpoint folder in the official file layout.

What a downloaded Kimi-VL-A3B folder holds, shrunk: ``config.json`` (kimi_vl / moonvit / deepseek_v3),
``preprocessor_config.json`` (the released processor settings), ``tiktoken.model`` + ``tokenizer_config.json``
(a byte-level vocabulary with a few merges and Kimi's special tokens at the official offsets), and the weights as
sharded safetensors with ``model.safetensors.index.json``, under the official key names, routed experts stored
one by one. Tests (and anyone wiring Kimi-VL into something) load it with exactly the code a real checkpoint
goes through. Nothing is downloaded.

    python -m guiagent.models.kimi_vl.testing /tmp/tiny-kimi-vl
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import torch

#: Kimi's special tokens and their offsets from the end of the BPE vocabulary (163584 in the release)
SPECIAL_OFFSETS = {
    "[BOS]": 0, "[EOS]": 1, "<|im_end|>": 2, "<|im_user|>": 3, "<|im_assistant|>": 4,
    "<|start_header_id|>": 6, "<|end_header_id|>": 7, "[EOT]": 9, "<|im_system|>": 10, "<|im_middle|>": 17,
    "<|media_start|>": 18, "<|media_content|>": 19, "<|media_end|>": 20, "<|media_pad|>": 21,
    "[UNK]": 254, "[PAD]": 255,
}
_MERGES = [b"th", b"he", b"in", b"er", b"an", b" t", b" a", b"ck", b"cl", b"ic", b"li", b"ou", b"re", b"on",
           b"the", b"ick", b"lick", b"click", b"ss", b"xt"]

TINY_VISION = {"model_type": "moonvit", "patch_size": 14, "init_pos_emb_height": 8, "init_pos_emb_width": 8,
               "num_attention_heads": 2, "num_hidden_layers": 2, "hidden_size": 32, "intermediate_size": 64,
               "merge_kernel_size": [2, 2]}
TINY_TEXT = {"model_type": "deepseek_v3", "hidden_size": 32, "intermediate_size": 64, "moe_intermediate_size": 16,
             "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 2, "n_shared_experts": 2,
             "n_routed_experts": 4, "num_experts_per_tok": 2, "first_k_dense_replace": 1, "moe_layer_freq": 1,
             "n_group": 1, "topk_group": 1, "norm_topk_prob": True, "routed_scaling_factor": 2.446,
             "scoring_func": "sigmoid", "topk_method": "noaux_tc", "kv_lora_rank": 16, "q_lora_rank": None,
             "qk_nope_head_dim": 8, "qk_rope_head_dim": 8, "v_head_dim": 8, "rope_theta": 800000.0,
             "rope_scaling": None, "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "hidden_act": "silu",
             "tie_word_embeddings": False, "aux_loss_alpha": 0.001, "seq_aux": True, "ep_size": 1,
             "num_nextn_predict_layers": 0, "torch_dtype": "bfloat16"}


def write_tokenizer(folder: Path) -> dict[str, int]:
    """``tiktoken.model`` (256 bytes + a few merges) and ``tokenizer_config.json``; returns special -> id."""
    ranks = {bytes([b]): b for b in range(256)}
    for merge in _MERGES:
        ranks[merge] = len(ranks)
    lines = [f"{base64.b64encode(token).decode()} {rank}" for token, rank in ranks.items()]
    (folder / "tiktoken.model").write_text("\n".join(lines) + "\n", encoding="utf-8")
    base = len(ranks)
    specials = {token: base + offset for token, offset in SPECIAL_OFFSETS.items()}
    decoder = {str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                        "single_word": False, "special": True} for t, i in specials.items()}
    config = {"added_tokens_decoder": decoder, "bos_token": "[BOS]", "eos_token": "[EOS]", "pad_token": "[PAD]",
              "unk_token": "[UNK]", "model_max_length": 1048576, "tokenizer_class": "TikTokenTokenizer",
              "auto_map": {"AutoTokenizer": ["tokenization_moonshot.TikTokenTokenizer", None]}}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return specials


def official_state_dict(config: dict, *, seed: int = 0, scale: float = 0.02, pos_scale: float = 0.02
                        ) -> dict[str, torch.Tensor]:
    """Random weights under the official key names (float32), routed experts one by one.

    Args:
        config: the config.json dict.
        seed: RNG seed.
        scale: std of the vision/projector linear weights and biases ("sharp" sets use ~0.2).
        pos_scale: std of the position table ("sharp": 1.0).
    """
    gen = torch.Generator().manual_seed(seed)
    vision, text = config["vision_config"], config["text_config"]

    def rand(*shape, std=scale):
        return torch.randn(*shape, generator=gen) * std

    def norm(n):
        return 1.0 + rand(n, std=0.1), rand(n, std=0.1)

    d, inner, p = vision["hidden_size"], vision["intermediate_size"], vision["patch_size"]
    state = {"vision_tower.patch_embed.proj.weight": rand(d, 3, p, p), "vision_tower.patch_embed.proj.bias": rand(d),
             "vision_tower.patch_embed.pos_emb.weight": rand(vision["init_pos_emb_height"],
                                                             vision["init_pos_emb_width"], d, std=pos_scale)}
    for i in range(vision["num_hidden_layers"]):
        pre = f"vision_tower.encoder.blocks.{i}"
        for name, (out_f, in_f) in {"wqkv": (3 * d, d), "wo": (d, d), "mlp.fc0": (inner, d),
                                    "mlp.fc1": (d, inner)}.items():
            state[f"{pre}.{name}.weight"], state[f"{pre}.{name}.bias"] = rand(out_f, in_f), rand(out_f)
        for name in ("norm0", "norm1"):
            state[f"{pre}.{name}.weight"], state[f"{pre}.{name}.bias"] = norm(d)
    state["vision_tower.encoder.final_layernorm.weight"], state["vision_tower.encoder.final_layernorm.bias"] = norm(d)
    merged = d * vision["merge_kernel_size"][0] * vision["merge_kernel_size"][1]
    state["multi_modal_projector.pre_norm.weight"], state["multi_modal_projector.pre_norm.bias"] = norm(d)
    for name, (out_f, in_f) in {"linear_1": (merged, merged), "linear_2": (text["hidden_size"], merged)}.items():
        state[f"multi_modal_projector.{name}.weight"] = rand(out_f, in_f)
        state[f"multi_modal_projector.{name}.bias"] = rand(out_f)
    state.update(_text_state(text, lambda *s: torch.randn(*s, generator=gen) * 0.02))
    return state


def _text_state(text: dict, rand) -> dict[str, torch.Tensor]:
    h, heads = text["hidden_size"], text["num_attention_heads"]
    nope, rope, v = text["qk_nope_head_dim"], text["qk_rope_head_dim"], text["v_head_dim"]
    kv_rank, vocab = text["kv_lora_rank"], text["vocab_size"]
    state = {"language_model.model.embed_tokens.weight": rand(vocab, h),
             "language_model.model.norm.weight": torch.ones(h), "language_model.lm_head.weight": rand(vocab, h)}
    for i in range(text["num_hidden_layers"]):
        pre = f"language_model.model.layers.{i}"
        state.update({
            f"{pre}.input_layernorm.weight": torch.ones(h), f"{pre}.post_attention_layernorm.weight": torch.ones(h),
            f"{pre}.self_attn.q_proj.weight": rand(heads * (nope + rope), h),
            f"{pre}.self_attn.kv_a_proj_with_mqa.weight": rand(kv_rank + rope, h),
            f"{pre}.self_attn.kv_a_layernorm.weight": torch.ones(kv_rank),
            f"{pre}.self_attn.kv_b_proj.weight": rand(heads * (nope + v), kv_rank),
            f"{pre}.self_attn.o_proj.weight": rand(h, heads * v),
        })
        if i < text["first_k_dense_replace"]:
            state.update(_mlp(f"{pre}.mlp", h, text["intermediate_size"], rand))
            continue
        experts, inner = text["n_routed_experts"], text["moe_intermediate_size"]
        state[f"{pre}.mlp.gate.weight"] = rand(experts, h)
        state[f"{pre}.mlp.gate.e_score_correction_bias"] = rand(experts)
        for e in range(experts):
            state.update(_mlp(f"{pre}.mlp.experts.{e}", h, inner, rand))
        state.update(_mlp(f"{pre}.mlp.shared_experts", h, inner * text["n_shared_experts"], rand))
    return state


def _mlp(prefix: str, hidden: int, inner: int, rand) -> dict[str, torch.Tensor]:
    return {f"{prefix}.gate_proj.weight": rand(inner, hidden), f"{prefix}.up_proj.weight": rand(inner, hidden),
            f"{prefix}.down_proj.weight": rand(hidden, inner)}


def write_weights(folder: Path, state: dict[str, torch.Tensor], shards: int = 3,
                  dtype: torch.dtype = torch.float32) -> None:
    """Sharded safetensors (``model-0000i-of-0000n.safetensors``) and the index, keys spread in order."""
    from safetensors.torch import save_file

    keys = sorted(state)
    per = -(-len(keys) // shards)
    weight_map, total = {}, 0
    for i in range(shards):
        name = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        part = {k: state[k].to(dtype).contiguous() for k in keys[i * per:(i + 1) * per]}
        save_file(part, str(folder / name), metadata={"format": "pt"})
        weight_map.update({k: name for k in part})
        total += sum(t.numel() * t.element_size() for t in part.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2), encoding="utf-8")


def write_tiny_checkpoint(folder: str | Path, *, seed: int = 0, scale: float = 0.02, pos_scale: float = 0.02,
                          vision: dict | None = None, text: dict | None = None, in_token_limit: int = 4096,
                          name: str = "moonshotai/Kimi-VL-A3B-Instruct") -> Path:
    """Write a complete tiny checkpoint folder; returns its path.

    Args:
        folder: created if needed.
        seed, scale, pos_scale: see ``official_state_dict``.
        vision, text: overrides of the tiny vision / text config fields.
        in_token_limit: the processor's patch limit (4096 as released).
        name: ``_name_or_path`` written into config.json.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    specials = write_tokenizer(folder)
    base = min(specials.values())
    text_config = {**TINY_TEXT, "vocab_size": base + 256, **(text or {})}
    config = {"_name_or_path": name, "architectures": ["KimiVLForConditionalGeneration"],
              "auto_map": {"AutoConfig": "configuration_kimi_vl.KimiVLConfig",
                           "AutoModel": "modeling_kimi_vl.KimiVLForConditionalGeneration",
                           "AutoModelForCausalLM": "modeling_kimi_vl.KimiVLForConditionalGeneration"},
              "model_type": "kimi_vl", "ignore_index": -100, "media_placeholder_token_id": specials["<|media_pad|>"],
              "pad_token_id": specials["[PAD]"], "torch_dtype": "bfloat16", "transformers_version": "4.50.3",
              "vision_config": {**TINY_VISION, **(vision or {})}, "text_config": text_config}
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    preprocessor = {"auto_map": {"AutoImageProcessor": "image_processing_kimi_vl.KimiVLImageProcessor",
                                 "AutoProcessor": "processing_kimi_vl.KimiVLProcessor"},
                    "in_token_limit": in_token_limit, "patch_size": 14, "num_pooled_tokens": 1024,
                    "merge_kernel_size": [2, 2], "pad_input": True, "image_mean": [0.5, 0.5, 0.5],
                    "image_std": [0.5, 0.5, 0.5], "image_processor_type": "KimiVLImageProcessor",
                    "processor_class": "KimiVLProcessor"}
    (folder / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2), encoding="utf-8")
    write_weights(folder, official_state_dict(config, seed=seed, scale=scale, pos_scale=pos_scale))
    return folder


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m guiagent.models.kimi_vl.testing FOLDER")
    print(write_tiny_checkpoint(sys.argv[1]))
