"""Kimi-VL native model: config, loading from the official layout, MoonViT + projector against transformers'
kimi_k25 vision model, packed == per-image, memory growth, image processor, tokenizer and chat format.

Every checkpoint here is a tiny random one written in the official layout (guiagent.models.kimi_vl.testing) and
loaded with ``from_pretrained``, like a downloaded one.
"""

from __future__ import annotations

import json
import math
import types

import numpy as np
import pytest

import torch  # noqa: E402

import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

from guiagent.actions.coords import kimi_resize  # noqa: E402
from guiagent.errors import ModelError  # noqa: E402
from guiagent.models.kimi_vl import (KimiVLConfig, KimiVLForConditionalGeneration, KimiVLImageProcessor,  # noqa: E402
                                     KimiVLTokenizer, is_kimi_vl_checkpoint)
from guiagent.models.kimi_vl.moonvit import PackedLayout, apply_rope, merge_patches, rope_angles  # noqa: E402
from guiagent.models.kimi_vl.testing import write_tiny_checkpoint  # noqa: E402
from guiagent.models.kimi_vl.tokenization import ChatImage, chat_ids  # noqa: E402

# Screenshot-like grids (h, w) in patches: 16:9 twice in a row (one batched run), 16:10, 4:3 and portrait (as many
# patches as 16:9, but another grid).
SCREEN_GRIDS = [(18, 32), (18, 32), (20, 32), (24, 32), (32, 18)]


pytestmark = pytest.mark.usefixtures("torch_one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp("kimi") / "Kimi-VL-tiny")


@pytest.fixture(scope="module")
def sharp_checkpoint(tmp_path_factory):
    # 0.2-scale linears and a unit-scale position table: attention is far from uniform, so RoPE, masking and
    # GELU-variant mistakes show (with 0.02-scale weights they hide under 1e-6)
    return write_tiny_checkpoint(tmp_path_factory.mktemp("kimi") / "sharp", seed=1, scale=0.2, pos_scale=1.0)


@pytest.fixture(scope="module")
def model(checkpoint):
    return KimiVLForConditionalGeneration.from_pretrained(checkpoint)


@pytest.fixture(scope="module")
def sharp_model(sharp_checkpoint):
    return KimiVLForConditionalGeneration.from_pretrained(sharp_checkpoint)


def random_patches(grids, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(sum(h * w for h, w in grids), 3, 14, 14, generator=gen)


# ---------------------------------------------------------------------- config and loading


def test_config_reads_the_official_file(checkpoint):
    config = KimiVLConfig.from_checkpoint(checkpoint)
    raw = json.loads((checkpoint / "config.json").read_text())
    assert config.vision_config.model_type == "moonvit" and config.text_config.model_type == "deepseek_v3"
    assert config.vision_config.hidden_size == raw["vision_config"]["hidden_size"]
    assert config.text_config.n_routed_experts == raw["text_config"]["n_routed_experts"]
    assert config.text_config.rope_parameters["rope_theta"] == raw["text_config"]["rope_theta"]
    assert config.media_placeholder_token_id == raw["media_placeholder_token_id"]
    assert is_kimi_vl_checkpoint(checkpoint)


def test_config_refusals(tmp_path, checkpoint):
    raw = json.loads((checkpoint / "config.json").read_text())
    for change, message in [({"model_type": "qwen2_5_vl"}, "not 'kimi_vl'"),
                            ({"text_config": {**raw["text_config"], "moe_layer_freq": 2}}, "moe_layer_freq"),
                            ({"text_config": {**raw["text_config"], "scoring_func": "softmax"}}, "scoring_func")]:
        (tmp_path / "config.json").write_text(json.dumps({**raw, **change}))
        with pytest.raises(ModelError, match=message):
            KimiVLConfig.from_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        KimiVLConfig.from_checkpoint(tmp_path)
    assert not is_kimi_vl_checkpoint(tmp_path)


def test_from_pretrained_loads_every_official_tensor(checkpoint, model):
    from safetensors import safe_open

    index = json.loads((checkpoint / "model.safetensors.index.json").read_text())["weight_map"]
    assert len(set(index.values())) == 3  # really sharded
    state = model.state_dict()
    layer = "language_model.model.layers.1.mlp.experts"
    inner = model.config.text_config.moe_intermediate_size
    for key, file in index.items():
        with safe_open(str(checkpoint / file), framework="pt") as handle:
            tensor = handle.get_tensor(key)
        if ".experts." in key and ".shared_experts." not in key:
            expert, proj = int(key.split(".")[6]), key.split(".")[7]
            fused = state[f"{layer}.down_proj" if proj == "down_proj" else f"{layer}.gate_up_proj"][expert]
            part = {"gate_proj": fused[:inner], "up_proj": fused[inner:], "down_proj": fused}[proj]
            assert torch.equal(part, tensor), key
        else:
            assert torch.equal(state[key], tensor), key
    assert model.dtype == torch.float32 and not model.training


def test_bfloat16_keeps_the_router_in_float32(checkpoint):
    model = KimiVLForConditionalGeneration.from_pretrained(checkpoint, dtype="bfloat16")
    assert model.vision_tower.encoder.blocks[0].wqkv.weight.dtype == torch.bfloat16
    gate = model.language_model.model.layers[1].mlp.gate
    assert gate.weight.dtype == torch.float32 and gate.e_score_correction_bias.dtype == torch.float32
    features = model.get_image_features(random_patches([(4, 6)]).bfloat16(), [(4, 6)])
    assert features.dtype == torch.bfloat16 and torch.isfinite(features.float()).all()


def _rewrite_shard(checkpoint, tmp_path, edit, shard="model-00003-of-00003.safetensors"):
    import shutil

    from safetensors.torch import load_file, save_file

    folder = tmp_path / "ckpt"
    shutil.copytree(checkpoint, folder)
    index_file = folder / "model.safetensors.index.json"
    index = json.loads(index_file.read_text())
    shard = folder / shard
    tensors = load_file(str(shard))
    edit(tensors, index["weight_map"])
    save_file(tensors, str(shard))
    index_file.write_text(json.dumps(index))
    return folder


def test_load_errors_name_the_keys(checkpoint, tmp_path):
    def drop(tensors, weight_map):
        key = sorted(tensors)[0]
        del tensors[key], weight_map[key]
        drop.key = key

    folder = _rewrite_shard(checkpoint, tmp_path / "a", drop)
    with pytest.raises(ModelError, match="missing keys: " + drop.key.replace(".", r"\.")):
        KimiVLForConditionalGeneration.from_pretrained(folder)

    def extra(tensors, weight_map):
        tensors["vision_tower.encoder.blocks.9.wqkv.weight"] = torch.zeros(1)
        weight_map["vision_tower.encoder.blocks.9.wqkv.weight"] = "model-00003-of-00003.safetensors"

    with pytest.raises(ModelError, match=r"unexpected keys: vision_tower\.encoder\.blocks\.9\.wqkv\.weight"):
        KimiVLForConditionalGeneration.from_pretrained(_rewrite_shard(checkpoint, tmp_path / "b", extra))

    def reshape(tensors, weight_map):
        key = sorted(tensors)[0]
        tensors[key] = torch.zeros(3, 5)

    with pytest.raises(ModelError, match=r"has shape \[3, 5\]"):
        KimiVLForConditionalGeneration.from_pretrained(_rewrite_shard(checkpoint, tmp_path / "c", reshape))
    folder = _rewrite_shard(checkpoint, tmp_path / "d", lambda t, w: None)
    (folder / "model-00002-of-00003.safetensors").unlink()
    with pytest.raises(ModelError, match="lacks shard"):
        KimiVLForConditionalGeneration.from_pretrained(folder)


def test_missing_experts_are_named(checkpoint, tmp_path):
    def drop_expert(tensors, weight_map):
        for key in [k for k in tensors if ".experts.3.up_proj" in k]:
            del tensors[key], weight_map[key]

    index = json.loads((checkpoint / "model.safetensors.index.json").read_text())["weight_map"]
    shard = index["language_model.model.layers.1.mlp.experts.3.up_proj.weight"]
    folder = _rewrite_shard(checkpoint, tmp_path, drop_expert, shard)
    with pytest.raises(ModelError, match=r"gate_up_proj \(experts \[3\] missing\)"):
        KimiVLForConditionalGeneration.from_pretrained(folder)


# ---------------------------------------------------------------------- the independent computation


def kimi_k25_reference(model, permute: bool = True):
    """transformers' kimi_k25 vision tower + projector, carrying ``model``'s weights (mapped as documented)."""
    from transformers.models.kimi_k25.configuration_kimi_k25 import Kimi_K25VisionConfig
    from transformers.models.kimi_k25.modeling_kimi_k25 import Kimi_K25MultimodalProjection, Kimi_K25VisionModel

    vc = model.config.vision_config
    config = Kimi_K25VisionConfig(
        patch_size=vc.patch_size, pos_emb_height=vc.init_pos_emb_height, pos_emb_width=vc.init_pos_emb_width,
        num_attention_heads=vc.num_attention_heads, num_hidden_layers=vc.num_hidden_layers,
        hidden_size=vc.hidden_size, intermediate_size=vc.intermediate_size, hidden_act="gelu_pytorch_tanh",
        merge_kernel_size=list(vc.merge_kernel_size), rope_parameters={"rope_type": "axial", "rope_theta": 10000.0})
    config._attn_implementation = "sdpa"
    tower = Kimi_K25VisionModel(config).eval()
    projector = Kimi_K25MultimodalProjection(types.SimpleNamespace(
        vision_config=config, projection_hidden_size=vc.hidden_size, projection_layer_norm_eps=1e-5,
        text_config=types.SimpleNamespace(hidden_size=model.config.text_config.hidden_size))).eval()
    heads, head_dim = vc.num_attention_heads, vc.head_dim

    def rotate_half_layout(w):  # new[a * hd/2 + j] = old[2j + a] within each head
        if not permute:
            return w
        return w.view(heads, head_dim // 2, 2, *w.shape[1:]).transpose(1, 2).reshape(w.shape)

    sd = model.state_dict()
    mapped = {"patch_embed.proj.weight": sd["vision_tower.patch_embed.proj.weight"],
              "patch_embed.proj.bias": sd["vision_tower.patch_embed.proj.bias"],
              "patch_embed.pos_emb.position_embeddings": sd["vision_tower.patch_embed.pos_emb.weight"],
              "final_layernorm.weight": sd["vision_tower.encoder.final_layernorm.weight"],
              "final_layernorm.bias": sd["vision_tower.encoder.final_layernorm.bias"]}
    for i in range(vc.num_hidden_layers):
        ours = f"vision_tower.encoder.blocks.{i}."
        for theirs, name in [("norm1", "norm0"), ("norm2", "norm1"), ("attn.proj", "wo"), ("mlp.fc1", "mlp.fc0"),
                             ("mlp.fc2", "mlp.fc1")]:
            for t in ("weight", "bias"):
                mapped[f"layers.{i}.{theirs}.{t}"] = sd[f"{ours}{name}.{t}"]
        for t in ("weight", "bias"):
            q, k, v = sd[f"{ours}wqkv.{t}"].chunk(3, dim=0)
            mapped.update({f"layers.{i}.attn.q_proj.{t}": rotate_half_layout(q),
                           f"layers.{i}.attn.k_proj.{t}": rotate_half_layout(k), f"layers.{i}.attn.v_proj.{t}": v})
    tower.load_state_dict(mapped, strict=True)
    projector.load_state_dict({f"{theirs}.{t}": sd[f"multi_modal_projector.{name}.{t}"] for t in ("weight", "bias")
                               for theirs, name in [("pre_norm", "pre_norm"), ("in_proj", "linear_1"),
                                                    ("out_proj", "linear_2")]})

    def run(pixel_values, grids):
        thw = torch.tensor([(1, h, w) for h, w in grids])
        with torch.no_grad():
            pooled = tower(pixel_values, thw).pooler_output
            return projector(pooled).reshape(pooled.shape[0], -1)

    return run


# grids smaller, equal and larger than the 8x8 table, square and not: all interpolation cases
REFERENCE_GRIDS = [(16, 22), (8, 8), (4, 6), (20, 12)]


@pytest.mark.parametrize("which, tolerance", [("model", 1e-6), ("sharp_model", 5e-5)])
def test_vision_tower_and_projector_match_kimi_k25(request, which, tolerance):
    model = request.getfixturevalue(which)
    reference = kimi_k25_reference(model)
    pixels = random_patches(REFERENCE_GRIDS)
    with torch.no_grad():
        packed = model.get_image_features(pixels, torch.tensor(REFERENCE_GRIDS))
    expected = reference(pixels, REFERENCE_GRIDS)
    assert packed.shape == (sum(h * w for h, w in REFERENCE_GRIDS) // 4, model.config.text_config.hidden_size)
    assert (packed - expected).abs().max().item() < tolerance
    first = REFERENCE_GRIDS[0][0] * REFERENCE_GRIDS[0][1]
    with torch.no_grad():
        single = model.get_image_features(pixels[:first], [REFERENCE_GRIDS[0]])
    assert (single - reference(pixels[:first], REFERENCE_GRIDS[:1])).abs().max().item() < tolerance


def test_the_sharp_weights_expose_a_wrong_rope_layout(sharp_model):
    """The check above can fail: the same mapping without the per-head q/k permutation is far off."""
    wrong = kimi_k25_reference(sharp_model, permute=False)
    pixels = random_patches(REFERENCE_GRIDS[:1])
    with torch.no_grad():
        ours = sharp_model.get_image_features(pixels, REFERENCE_GRIDS[:1])
    assert (ours - wrong(pixels, REFERENCE_GRIDS[:1])).abs().max().item() > 1e-2


# ---------------------------------------------------------------------- packing


def encode_one_by_one(model, pixels, grids):
    outs, start = [], 0
    for h, w in grids:
        outs.append(model.get_image_features(pixels[start:start + h * w], [(h, w)]))
        start += h * w
    return torch.cat(outs)


def test_packed_equals_per_image_exactly_for_five_screenshots(sharp_model):
    pixels = random_patches(SCREEN_GRIDS, seed=3)
    with torch.no_grad():
        packed = sharp_model.get_image_features(pixels, SCREEN_GRIDS)
        alone = encode_one_by_one(sharp_model, pixels, SCREEN_GRIDS)
    assert torch.equal(packed, alone)
    # the two same-size images really differ (a broken batch could not hide behind identical inputs)
    assert not torch.allclose(packed[:144], packed[144:288], atol=1e-3)


def test_dense_block_diagonal_mask_computes_the_same(sharp_model):
    pixels = random_patches(SCREEN_GRIDS[:3], seed=4)
    with torch.no_grad():
        packed = sharp_model.get_image_features(pixels, SCREEN_GRIDS[:3])
        sharp_model.vision_tower.attention = "dense"
        try:
            dense = sharp_model.get_image_features(pixels, SCREEN_GRIDS[:3])
        finally:
            sharp_model.vision_tower.attention = "auto"
    assert (packed - dense).abs().max().item() < 1e-4


class LargestTensor(TorchDispatchMode):
    """Records the largest tensor any op produces (a proxy for peak memory that does not depend on the allocator)."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types_, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
        return out


def largest_tensor(model, grids, attention):
    model.vision_tower.attention = attention
    try:
        with torch.no_grad(), LargestTensor() as probe:
            model.vision_tower(random_patches(grids), grids)
    finally:
        model.vision_tower.attention = "auto"
    return probe.largest


def test_memory_grows_linearly_with_the_number_of_images(model):
    one = [(18, 32)]
    five = one * 5
    packed_one, packed_five = largest_tensor(model, one, "sdpa"), largest_tensor(model, five, "sdpa")
    dense_one, dense_five = largest_tensor(model, one, "dense"), largest_tensor(model, five, "dense")
    assert packed_five <= 5 * packed_one  # linear: nothing bigger than the sum of per-image tensors
    assert dense_five >= 25 * 576 * 576  # the dense mask is (5n)^2: the probe sees quadratic growth
    assert dense_five / dense_one > 20


# ---------------------------------------------------------------------- building blocks


def test_rope_pairs_interleave_column_then_row():
    layout = PackedLayout.from_grids([(2, 3)])
    cos, sin = rope_angles(layout, head_dim=8, theta=10000.0, device=torch.device("cpu"))
    angles = torch.atan2(sin, cos)
    f1 = 10000.0 ** (-4 / 8)
    # patch 5 is row 1, column 2: pair 0 turns by 2*f0, pair 1 by 1*f0, pair 2 by 2*f1, pair 3 by 1*f1
    assert torch.allclose(angles[5], torch.tensor([2.0, 1.0, 2 * f1, f1]))
    x = torch.zeros(6, 1, 8)
    x[..., 0] = 1.0  # pair 0 = (1, 0): rotated to (cos, sin) of the column angle
    rotated = apply_rope(x, cos, sin)
    assert torch.allclose(rotated[5, 0, :2], torch.tensor([math.cos(2.0), math.sin(2.0)]))


def test_position_table_is_resized_bicubically(model):
    table = model.vision_tower.patch_embed.pos_emb
    same = table(PackedLayout.from_grids([(8, 8)]))
    assert torch.allclose(same, table.weight.reshape(64, -1), atol=1e-6)
    grown = table(PackedLayout.from_grids([(10, 6)]))
    expected = F.interpolate(table.weight.permute(2, 0, 1)[None], size=(10, 6), mode="bicubic",
                             align_corners=False)[0].flatten(1).T
    assert torch.allclose(grown, expected)


def test_merger_groups_top_left_top_right_bottom_left_bottom_right():
    hidden = torch.arange(2 * 4, dtype=torch.float32)[:, None]  # a 2x4 grid, value = raster index
    groups = merge_patches(hidden, PackedLayout.from_grids([(2, 4)]), (2, 2))
    assert groups[..., 0].tolist() == [[0, 1, 4, 5], [2, 3, 6, 7]]


def test_bad_grids_are_refused(model):
    with pytest.raises(ModelError, match="merge window"):
        model.get_image_features(random_patches([(3, 4)]), [(3, 4)])
    with pytest.raises(ModelError, match="describe 24 patches"):
        model.get_image_features(random_patches([(4, 4)]), [(4, 6)])


def test_flash_path_is_chosen_only_where_it_can_run(monkeypatch):
    from guiagent.models.kimi_vl import moonvit

    cpu = torch.zeros(2, dtype=torch.bfloat16)
    assert moonvit.choose_attention("auto", cpu) == "sdpa"
    with pytest.raises(ModelError, match="flash-attn"):
        moonvit.choose_attention("flash", cpu)
    fake_cuda = types.SimpleNamespace(is_cuda=True, dtype=torch.bfloat16)
    monkeypatch.setattr(moonvit, "flash_attn_available", lambda: True)
    assert moonvit.choose_attention("auto", fake_cuda) == "flash"
    assert moonvit.choose_attention("auto", types.SimpleNamespace(is_cuda=True, dtype=torch.float32)) == "sdpa"
    monkeypatch.setattr(moonvit, "flash_attn_available", lambda: False)
    assert moonvit.choose_attention("auto", fake_cuda) == "sdpa"


def test_flash_varlen_call_gets_the_packed_layout(monkeypatch, sharp_model):
    """The CPU side of the flash path: cu_seqlens / max_seqlen handed to flash_attn_varlen_func describe the pack
    (a stand-in kernel computes the attention from them, so a wrong layout changes the result)."""
    import sys

    from guiagent.models.kimi_vl import moonvit

    calls = []

    def varlen(q, k, v, cu_q, cu_k, max_q, max_k, causal):
        calls.append((cu_q.tolist(), max_q, causal, cu_q.dtype))
        out = torch.empty_like(q)
        for a, b in zip(cu_q.tolist(), cu_q.tolist()[1:]):
            out[a:b] = F.scaled_dot_product_attention(*(t[a:b].transpose(0, 1) for t in (q, k, v))).transpose(0, 1)
        return out

    monkeypatch.setitem(sys.modules, "flash_attn", types.SimpleNamespace(flash_attn_varlen_func=varlen))
    monkeypatch.setattr(moonvit, "choose_attention", lambda requested, hidden: "flash")
    grids = SCREEN_GRIDS[:3]
    pixels = random_patches(grids, seed=5)
    with torch.no_grad():
        flash = sharp_model.get_image_features(pixels, grids)
    monkeypatch.undo()
    with torch.no_grad():
        sdpa = sharp_model.get_image_features(pixels, grids)
    assert calls[0] == ([0, 576, 1152, 1792], 640, False, torch.int32)
    assert len(calls) == sharp_model.config.vision_config.num_hidden_layers
    assert (flash - sdpa).abs().max().item() < 1e-5


# ---------------------------------------------------------------------- image processor


def test_processor_reads_the_released_settings(checkpoint):
    proc = KimiVLImageProcessor.from_pretrained(checkpoint)
    assert (proc.in_token_limit, proc.patch_size, proc.merge_kernel_size, proc.pad_input) == (4096, 14, (2, 2), True)
    assert proc.image_mean == proc.image_std == (0.5, 0.5, 0.5)


def test_processor_full_hd_screenshot(checkpoint):
    proc = KimiVLImageProcessor.from_pretrained(checkpoint)
    assert proc.resized_size(1920, 1080) == (1196, 672)
    out = proc([Image.new("RGB", (1920, 1080), (255, 255, 255))])
    assert out["image_grid_hws"].tolist() == [[48, 86]]  # 1204x672 after padding: 4128 patches, 1032 tokens
    assert out["pixel_values"].shape == (48 * 86, 3, 14, 14)
    patches = out["pixel_values"].view(48, 86, 3, 14, 14)
    assert torch.all(patches[:, -1, :, :, -8:] == -1.0)  # 8 padded columns: black -> exactly -1
    assert torch.all(patches[:, :85] == 1.0)  # white content -> exactly +1


def test_processor_resize_is_pil_bicubic_with_truncation():
    proc = KimiVLImageProcessor(in_token_limit=20, pad_input=True, image_mean=(0.5,) * 3, image_std=(0.5,) * 3)
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (100, 150, 3), dtype=np.uint8))
    # 10 x 7 = 70 raw patches > 20: scale sqrt(20/70), sides truncated
    scale = math.sqrt(20 / 70)
    assert proc.resized_size(150, 100) == (int(150 * scale), int(100 * scale)) == (80, 53)
    expected = np.asarray(image.resize((80, 53), Image.Resampling.BICUBIC), dtype=np.float32)
    out = proc(image)
    assert out["image_grid_hws"].tolist() == [[4, 6]]  # 53x80 padded to 56x84
    patches = out["pixel_values"].view(4, 6, 3, 14, 14).permute(2, 0, 3, 1, 4).reshape(3, 56, 84)
    assert torch.allclose(patches[:, :53, :80], torch.from_numpy(expected).permute(2, 0, 1) / 127.5 - 1, atol=1e-6)


def test_processor_checks_the_limit_before_padding():
    proc = KimiVLImageProcessor(in_token_limit=35, pad_input=True)
    out = proc(Image.new("RGB", (98, 70)))  # 7 x 5 = 35 raw patches: not resized, padded to 8 x 6 = 48
    assert out["image_grid_hws"].tolist() == [[6, 8]]


def test_processor_patches_are_raster_order_channels_first():
    proc = KimiVLImageProcessor(pad_input=True, image_mean=(0.0,) * 3, image_std=(1.0,) * 3)
    pixels = np.zeros((28, 56, 3), dtype=np.uint8)
    pixels[14:28, 14:28, 1] = 255  # patch (row 1, column 1), green only
    out = proc(Image.fromarray(pixels))
    assert out["image_grid_hws"].tolist() == [[2, 4]]
    lit = [i for i in range(8) if out["pixel_values"][i].abs().sum() > 0]
    assert lit == [1 * 4 + 1]
    assert torch.all(out["pixel_values"][5, 1] == 1.0) and torch.all(out["pixel_values"][5, [0, 2]] == 0.0)


def test_processor_without_padding_centre_crops():
    proc = KimiVLImageProcessor(pad_input=False, image_mean=(0.0,) * 3, image_std=(1.0,) * 3)
    pixels = np.zeros((30, 45, 3), dtype=np.uint8)
    pixels[1, 1] = 255  # inside the crop (offsets 1 and 1)
    out = proc(Image.fromarray(pixels))
    assert out["image_grid_hws"].tolist() == [[2, 3]]
    assert out["pixel_values"][0, :, 0, 0].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("size", [(1920, 1080), (2560, 1440), (1280, 800), (3840, 2160), (1366, 768), (800, 600),
                                  (1080, 1920), (3000, 100)])
def test_the_agent_budget_agrees_with_the_processor(size):
    proc = KimiVLImageProcessor(in_token_limit=4096, pad_input=True)
    content, padded = kimi_resize(*size, token_limit=4096)
    assert proc.resized_size(*size) == content
    grid = proc(Image.new("RGB", size))["image_grid_hws"][0].tolist()
    assert (grid[1] * 14, grid[0] * 14) == padded


def test_processor_refuses_what_moonvit_cannot_take():
    with pytest.raises(ModelError, match="under 512"):
        KimiVLImageProcessor(in_token_limit=10**6, pad_input=True)(Image.new("RGB", (7200, 28)))
    with pytest.raises(ModelError, match="smaller than one"):
        KimiVLImageProcessor(pad_input=False)(Image.new("RGB", (10, 10)))


# ---------------------------------------------------------------------- tokenizer and chat format


@pytest.fixture(scope="module")
def tokenizer(checkpoint):
    return KimiVLTokenizer.from_pretrained(checkpoint)


def test_tokenizer_round_trips_text_and_merges(tokenizer):
    text = "click the OK button, 你好 ◁think▷ 12345\n"
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids) == text
    assert len(tokenizer.encode("click")) == 1  # the merge "click" exists in the tiny vocabulary


def test_special_token_spellings_in_text_stay_text(tokenizer):
    ids = tokenizer.encode("<|im_end|><|media_pad|>")
    assert tokenizer.token_id("<|im_end|>") not in ids and tokenizer.token_id("<|media_pad|>") not in ids
    assert tokenizer.decode(ids) == "<|im_end|><|media_pad|>"


def test_decode_drops_control_tokens_and_keeps_thinking(tokenizer):
    ids = tokenizer.encode("◁think▷plan◁/think▷done") + [tokenizer.token_id("<|im_end|>"),
                                                         tokenizer.token_id("[EOS]")]
    assert tokenizer.decode(ids) == "◁think▷plan◁/think▷done"
    assert tokenizer.decode(ids, skip_special_tokens=False).endswith("<|im_end|>[EOS]")


def test_chat_format_with_images(tokenizer):
    ids = chat_ids(tokenizer, [("user", [ChatImage(3), "hi"]), ("assistant", ["ok"]), ("user", [ChatImage(2)])])
    text = tokenizer.decode(ids, skip_special_tokens=False)
    pad = "<|media_pad|>"
    image = "<|media_start|>image<|media_content|>{}<|media_end|>"
    assert text == ("<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|>"
                    f"<|im_user|>user<|im_middle|>{image.format(pad * 3)}hi<|im_end|>"
                    "<|im_assistant|>assistant<|im_middle|>ok<|im_end|>"
                    f"<|im_user|>user<|im_middle|>{image.format(pad * 2)}<|im_end|>"
                    "<|im_assistant|>assistant<|im_middle|>")
    own = chat_ids(tokenizer, [("system", ["be brief"]), ("user", ["x"])], add_generation_prompt=False)
    assert tokenizer.decode(own, skip_special_tokens=False) == (
        "<|im_system|>system<|im_middle|>be brief<|im_end|><|im_user|>user<|im_middle|>x<|im_end|>")


def test_tokenizer_errors(tmp_path):
    with pytest.raises(ModelError, match="cannot read the tokenizer vocabulary"):
        KimiVLTokenizer.from_pretrained(tmp_path)
    (tmp_path / "tiktoken.model").write_text("not-base64 x\n")
    with pytest.raises(ModelError, match="base64-token rank"):
        KimiVLTokenizer.from_pretrained(tmp_path)


# ---------------------------------------------------------------------- generation


def test_generate_with_images(model, tokenizer, checkpoint):
    proc = KimiVLImageProcessor.from_pretrained(checkpoint)
    images = [Image.new("RGB", (300, 200), (10, 200, 30)), Image.new("RGB", (150, 260), (200, 10, 30))]
    batch = proc(images)
    slots = [ChatImage(h * w // 4) for h, w in batch["image_grid_hws"].tolist()]
    ids = torch.tensor([chat_ids(tokenizer, [("user", [*slots, "click"])])])
    assert int((ids == model.config.media_placeholder_token_id).sum()) == sum(s.tokens for s in slots)
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=4, do_sample=False,
                             pixel_values=batch["pixel_values"], image_grid_hws=batch["image_grid_hws"])
        logits = model(input_ids=ids, pixel_values=batch["pixel_values"],
                       image_grid_hws=batch["image_grid_hws"]).logits
        blind = model(input_ids=ids.masked_fill(ids == model.config.media_placeholder_token_id, 0)).logits
    assert out.shape == (1, ids.shape[1] + 4)
    assert out[0, ids.shape[1]].item() == logits[0, -1].argmax().item()  # the first new token saw the images
    assert not torch.allclose(logits[0, -1], blind[0, -1])
    with pytest.raises(ModelError, match="holds 2 <|media_pad|> tokens but the images give"):
        model(input_ids=ids[:, -20:].clone().fill_(model.config.media_placeholder_token_id)[:, :2],
              pixel_values=batch["pixel_values"], image_grid_hws=batch["image_grid_hws"])


def test_a_model_built_from_a_config_has_random_weights_everywhere():
    from guiagent.models.kimi_vl.testing import TINY_TEXT, TINY_VISION

    model = KimiVLForConditionalGeneration(KimiVLConfig(vision_config=TINY_VISION,
                                                        text_config={**TINY_TEXT, "vocab_size": 600}))
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert 0.01 < model.vision_tower.patch_embed.pos_emb.weight.std().item() < 0.05


def test_default_dtype_is_bfloat16_on_cuda_and_float32_elsewhere():
    from guiagent.models.kimi_vl.modeling import _resolve_dtype

    assert _resolve_dtype(None, torch.device("cuda")) == torch.bfloat16
    assert _resolve_dtype(None, torch.device("cpu")) == torch.float32
    assert _resolve_dtype("float16", torch.device("cuda")) == torch.float16
    with pytest.raises(ModelError, match="unknown dtype 'int8'"):
        _resolve_dtype("int8", torch.device("cpu"))


def test_consecutive_same_length_images_form_one_run():
    layout = PackedLayout.from_grids([(2, 2), (2, 2), (2, 4), (4, 2), (2, 2)])
    assert layout.same_length_runs() == [(0, 4, 2), (8, 8, 2), (24, 4, 1)]
    assert layout.offsets == (0, 4, 8, 16, 24, 28) and layout.max_seqlen == 8
