"""The PhotoVerse reference model (training/photoverse_train/model): adapters, the placeholder rule,
the decoupled cross-attention, guidance, the adapter/IP-Adapter/ELITE layouts, and that the
committed fixtures in Tests/Fixtures/photoverse-golden are what the code computes."""
import copy
import json
import os
import sys
from pathlib import Path

import pytest
import torch
from diffusers import DDIMScheduler, EulerDiscreteScheduler
from diffusers.models.attention_processor import AttnProcessor2_0
from safetensors.torch import load_file
from transformers import CLIPVisionModelWithProjection

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))
sys.path.insert(0, str(ROOT / "training" / "fixtures"))

import convert_elite  # noqa: E402
import make_photoverse_fixtures as mk  # noqa: E402
from photoverse_train.model import (  # noqa: E402
    MultiAdapter,
    PhotoVerseConfig,
    PhotoVerseModel,
    apply_adapter,
    apply_ip_adapter,
    config_from_metadata,
    load_adapter,
    load_ip_adapter_file,
    save_adapter,
    tokenize_with_placeholder,
)

GOLDEN = ROOT / "Tests" / "Fixtures" / "photoverse-golden"


@pytest.fixture(scope="module")
def base():
    torch.set_num_threads(1)
    unet, vae, te, tok, sched = mk.load_base()
    return dict(unet=unet, vae=vae, te=te, tok=tok, sched=sched)


@pytest.fixture(scope="module")
def encoder():
    return CLIPVisionModelWithProjection.from_pretrained(str(GOLDEN / "image_encoder"), dtype=torch.float32).eval()


def make_model(base, encoder, **cfg):
    kw = dict(encoder_layers=mk.ENCODER_LAYERS, adapter_hidden=mk.ADAPTER_HIDDEN, lora_rank=mk.LORA_RANK, image_size=mk.IMAGE_SIZE)
    kw.update(cfg)
    return PhotoVerseModel(copy.deepcopy(base["unet"]), base["te"], base["tok"], encoder, PhotoVerseConfig(**kw))


@pytest.fixture(scope="module")
def model(base, encoder):
    m = make_model(base, encoder)
    tensors, _ = load_adapter(str(GOLDEN / "adapter.safetensors"))
    apply_adapter(m, tensors)
    return m


def pixels(name="reference.png"):
    return mk.preprocess(mk.load_png(str(GOLDEN / name)), mk.IMAGE_SIZE)


# ---------------------------------------------------------------------------------------------- adapters


def test_adapter_shapes_keys_and_order_of_ops():
    torch.manual_seed(0)
    a = MultiAdapter(3, 32, 48, 24)
    keys = set(a.state_dict())
    want = {f"{m}_{i}.{j}.{w}" for m in ("mapping", "mapping_patch") for i in range(3) for j in (0, 1, 3, 4, 6) for w in ("weight", "bias")}
    assert keys == want
    assert a.mapping_0[0].weight.shape == (48, 32) and a.mapping_0[6].weight.shape == (24, 48)
    assert a.mapping_0[2].negative_slope == 0.01
    feats = [torch.randn(2, 17, 32) for _ in range(3)]
    out = a(feats)
    assert out.shape == (2, 3, 24)
    # patch MLP first, then the mean over patches (ELITE's order), plus the CLS MLP
    i = 1
    manual = a.mapping_1(feats[i][:, :1]) + torch.stack([a.mapping_patch_1(feats[i][:, k]) for k in range(1, 17)], 1).mean(1, keepdim=True)
    assert torch.allclose(out[:, 1:2], manual, atol=1e-6)
    assert MultiAdapter.shape_from_state_dict(a.state_dict()) == (3, 32, 48, 24)


# ---------------------------------------------------------------------------------------------- placeholder


def _pieces(tok, text):
    return list(tok(text, add_special_tokens=False).input_ids) if text.strip() else []


@pytest.mark.parametrize("prompt,k", [
    ("S* wearing a red hat", 3), ("a painting of S* on the beach", 1), ("a cat next to S*", 2), ("S* and S* shaking hands", 2),
    ("S*'s portrait,S*.", 1),
])
def test_placeholder_rule(base, prompt, k):
    tok = base["tok"]
    t = tokenize_with_placeholder(tok, prompt, k)
    pieces = prompt.split("S*")
    expect, slots = [], []
    for j, p in enumerate(pieces):
        if j:
            slots += [(len(expect) + 1 + w, w) for w in range(k)]
            expect += [265] * k
        expect += _pieces(tok, p)
    assert t.input_ids == [49406] + expect + [49407] * (77 - 1 - len(expect))
    assert t.slots == slots
    assert len(t.input_ids) == 77


def test_placeholder_without_s_star_and_truncation(base):
    tok = base["tok"]
    for text in ("a photo of an astronaut riding a horse", "", "blurry, low quality", " ".join(["red"] * 90)):
        t = tokenize_with_placeholder(tok, text, 3)
        assert t.input_ids == tok(text, padding="max_length", max_length=77, truncation=True).input_ids and not t.slots
    words = " ".join(["red"] * 73)
    t = tokenize_with_placeholder(tok, words + " S* at night", 3)
    assert t.slots == [(74, 0), (75, 1)]  # the third slot falls past 75 content tokens
    assert t.input_ids[76] == 49407 and t.input_ids[74:76] == [265, 265]
    t = tokenize_with_placeholder(tok, words + " one two three S*", 2)
    assert t.slots == []


def test_placeholder_is_replaced_at_the_token_embedding(base, encoder):
    m = make_model(base, encoder)
    tok, te = base["tok"], base["te"]
    dog = te.get_input_embeddings().weight[tok("dog", add_special_tokens=False).input_ids[0]]
    with torch.no_grad():
        got = m.encode_prompts(["a photo of S*"], dog[None, None, :], 1)
        ref = te(tok(["a photo of dog"], padding="max_length", max_length=77, return_tensors="pt").input_ids).last_hidden_state
    assert torch.equal(got, ref)


# ---------------------------------------------------------------------------------------------- decoupled attention


def test_sigma_zero_is_the_plain_unet_and_zero_tokens_add_nothing(model, base):
    g = load_file(str(GOLDEN / "unet.safetensors"))
    x, ehs, tokens = g["sample"], g["encoder_hidden_states"], g["image_tokens"]
    with torch.no_grad():
        plain = mk.plain_unet_eps(model.unet, x, 501, ehs)
        assert torch.equal(model(x, 501, ehs, tokens, 1.0, 0.0, 0.0), plain)
        assert torch.equal(model(x, 501, ehs, torch.zeros_like(tokens), 1.0, 1.0, 0.0), plain)
        assert torch.equal(model(x, 501, ehs, None, 1.0, 1.0, 0.0), plain)
        assert not torch.allclose(model(x, 501, ehs, tokens, 1.0, 1.0, 0.0), plain, atol=1e-3)


def test_per_sample_coefficients_and_gradients(base, encoder):
    m = make_model(base, encoder)
    for p in m.processors.parameters():  # LoRA B starts at zero; make every path non-trivial
        torch.nn.init.normal_(p, std=0.1)
    px = torch.cat([pixels(), pixels("reference2.png")])
    feats, _ = m.features(px)
    pw, f = m.pseudo_words(feats), m.image_tokens(feats)
    ehs = m.encode_prompts(["a photo of S*", "S* on a beach"], pw, 2)
    x = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    gamma, sigma, alpha = torch.tensor([2.0, 1.0]), torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.5])
    eps = m(x, 300, ehs, f, gamma, sigma, alpha)
    with torch.no_grad():
        r0 = m(x[:1], 300, ehs[:1], f[:1], 2.0, 0.0, 1.0)
        r1 = m(x[1:], 300, ehs[1:], f[1:], 1.0, 1.0, 0.5)
    assert (eps[:1] - r0).abs().max() < 1e-5 and (eps[1:] - r1).abs().max() < 1e-5
    eps.square().mean().backward()
    proc = m.processor(m.attn2_names[0])
    for p in (m.text_adapter.mapping_0[0].weight, m.image_adapter.mapping_patch_2[6].weight, proc.to_k_ip.weight, proc.to_v_lora_B.weight):
        assert p.grad is not None and p.grad.abs().sum() > 0
    assert all(p.grad is None for p in m.unet.parameters() if not any(p is q for q in m.processors.parameters()))
    assert len(m.trainable_parameters()) == len(list(m.text_adapter.parameters())) * 2 + 6 * len(m.attn2_names)


# ---------------------------------------------------------------------------------------------- guidance


def test_equal_scales_are_two_pass_guidance(model, base):
    ref = pixels()
    noise = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(5))
    kw = dict(negative_prompt=mk.NEGATIVE, num_words=1, gamma=1.0, sigma=0.8, alpha=1.0, steps=3)
    with torch.no_grad():
        got = model.generate(DDIMScheduler.from_config(base["sched"]), mk.PROMPT, noise, ref, s_image=6.0, s_text=6.0, **kw)["latents"]
        feats, _ = model.features(ref, average=True)
        pw, f = model.pseudo_words(feats), model.image_tokens(feats)
        sch = DDIMScheduler.from_config(base["sched"])
        sch.set_timesteps(3)
        two = model.encode_prompts([mk.NEGATIVE, mk.PROMPT], pw, 1)
        three = model.encode_prompts([mk.NEGATIVE, "a photo of S*", mk.PROMPT], pw, 1)
        lat2 = lat3 = noise * sch.init_noise_sigma
        sch3 = copy.deepcopy(sch)
        for t in sch.timesteps:
            e0, e2 = model(torch.cat([lat2] * 2), t, two, torch.cat([torch.zeros_like(f), f]), 1.0, 0.8, 1.0).chunk(2)
            lat2 = sch.step(e0 + 6.0 * (e2 - e0), t, lat2).prev_sample
            e0, e1, e2 = model(torch.cat([lat3] * 3), t, three, torch.cat([torch.zeros_like(f), f, f]), 1.0, 0.8, 1.0).chunk(3)
            lat3 = sch3.step(e0 + 6.0 * (e1 - e0) + 6.0 * (e2 - e1), t, lat3).prev_sample
    assert torch.equal(got, lat2)
    assert (lat3 - lat2).abs().max() < 1e-4


# ---------------------------------------------------------------------------------------------- IP-Adapter


def test_ip_adapter_reference_equals_diffusers(base):
    ip_enc = CLIPVisionModelWithProjection.from_pretrained(str(GOLDEN / "ip_image_encoder"), dtype=torch.float32).eval()
    state = load_ip_adapter_file(str(GOLDEN / "ip-adapter.safetensors"))
    ours = make_model(base, ip_enc, encoder_layers=[-1], lora_rank=0, text_branch=False, image_branch="ip-adapter")
    apply_ip_adapter(ours, state)
    d_unet = copy.deepcopy(base["unet"])
    d_unet.set_attn_processor({k: AttnProcessor2_0() for k in d_unet.attn_processors})
    d_unet._load_ip_adapter_weights([state])  # diffusers' own loader + IPAdapterAttnProcessor2_0
    g = load_file(str(GOLDEN / "ip.safetensors"))
    with torch.no_grad():
        embeds = ip_enc(pixel_values=pixels()).image_embeds
        assert (embeds - g["image_embeds"]).abs().max() < 1e-5
        rows = g["image_embeds_rows"]
        for scale in (1.0, 0.5):
            for p in d_unet.attn_processors.values():
                if hasattr(p, "scale"):
                    p.scale = [scale]
            ref = d_unet(g["sample"], 501, encoder_hidden_states=g["encoder_hidden_states"], added_cond_kwargs={"image_embeds": [rows[:, None]]}).sample
            got = ours(g["sample"], 501, g["encoder_hidden_states"], ours.image_proj(rows), 1.0, scale, 0.0)
            assert (ref - got).abs().max() < 1e-5
            assert (got - g[f"eps_scale{scale:g}"]).abs().max() < 1e-5


# ---------------------------------------------------------------------------------------------- files


def test_adapter_file_round_trip(tmp_path, base, encoder):
    m = make_model(base, encoder)
    mk.init_photoverse_weights(m, 99)
    p1, p2 = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    meta = save_adapter(str(p1), m, {"base_model": "tiny", "note": 7})
    save_adapter(str(p2), m, {"base_model": "tiny", "note": 7})
    assert p1.read_bytes() == p2.read_bytes()  # deterministic bytes
    tensors, back = load_adapter(str(p1))
    assert back == meta
    assert back["format"] == "photoverse-adapter" and back["format_version"] == "1" and back["encoder_layers"] == "-1,2,4"
    assert back["tokens"] == "3" and back["lora_rank"] == "4" and back["placeholder"] == "S*" and back["identity_prompt"] == "a photo of S*"
    assert back["note"] == "7" and back["image_size"] == "32"
    name = "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2"
    assert tensors[f"{name}.to_k.lora_A.weight"].shape == (4, 32) and tensors[f"{name}.to_k.lora_B.weight"].shape == (16, 4)
    assert tensors[f"{name}.to_k_ip.weight"].shape == (16, 32)
    cfg = config_from_metadata(back, tensors)
    assert (cfg.lora_rank, cfg.adapter_hidden, list(cfg.encoder_layers)) == (4, 48, [-1, 2, 4])
    m2 = make_model(base, encoder)
    apply_adapter(m2, tensors)
    want = m.state_dict()
    for k, v in m2.state_dict().items():
        assert torch.equal(v, want[k]), k  # the weights were FP16-rounded already
    bad = dict(tensors, **{"unet.nowhere.attn2.to_k_ip.weight": tensors[f"{name}.to_k_ip.weight"]})
    with pytest.raises(ValueError):
        apply_adapter(make_model(base, encoder), bad)


def test_elite_round_trip(tmp_path, base, encoder):
    torch.manual_seed(3)
    mapper = MultiAdapter(3, 32, 40, 32)
    sd = {k: v.half() for k, v in mapper.state_dict().items()}
    unet_sd = base["unet"].state_dict()
    path = "down_blocks.1.attentions.0.transformer_blocks.0.attn2"
    w_global = (unet_sd[f"{path}.to_k.weight"] + 0.05 * torch.randn(unet_sd[f"{path}.to_k.weight"].shape)).half()
    sd[path.replace(".", "_") + "_to_k.weight"] = w_global
    src = tmp_path / "global_mapper.pt"
    torch.save(sd, src)
    out = tmp_path / "elite.safetensors"
    convert_elite.main([str(src), str(out), "--encoder-layers=-1,2,4", "--kv-base-unet", str(mk.BASE_DIR + "/unet")])
    tensors, meta = load_adapter(str(out))
    assert meta["branches"] == "text" and meta["tokens"] == "3" and meta["adapter_hidden"] == "40" and meta["lora_rank"] == "32"
    for k, v in sd.items():
        if k.startswith("mapping"):
            assert torch.equal(tensors[f"text_adapter.{k}"], v.float()), k
    a = tensors[f"unet.{path}.to_k.lora_A.weight"]
    b = tensors[f"unet.{path}.to_k.lora_B.weight"]
    eff = unet_sd[f"{path}.to_k.weight"] + b @ a
    assert (eff - w_global.float()).abs().max() < 1e-3
    cfg = config_from_metadata(meta, tensors)
    assert cfg.image_branch == "none" and cfg.text_branch
    # without the base UNet the replacements are left out, the mapper still converts
    out2 = tmp_path / "elite2.safetensors"
    convert_elite.main([str(src), str(out2), "--encoder-layers=-1,2,4"])
    t2, m2 = load_adapter(str(out2))
    assert m2["lora_rank"] == "0" and not any(k.startswith("unet.") for k in t2)
    # never unpickle arbitrary objects
    evil = tmp_path / "evil.pt"
    torch.save({"mapping_0.0.weight": torch.zeros(1), "obj": _Unpicklable()}, evil)
    with pytest.raises(Exception):
        convert_elite.read_state_dict(str(evil))


class _Unpicklable:
    pass


# ---------------------------------------------------------------------------------------------- committed fixtures


def test_committed_fixtures_reproduce(model, base):
    cases = json.loads((GOLDEN / "cases.json").read_text())
    vis = load_file(str(GOLDEN / "vision.safetensors"))
    ad = load_file(str(GOLDEN / "adapters.safetensors"))
    txt = load_file(str(GOLDEN / "text.safetensors"))
    un = load_file(str(GOLDEN / "unet.safetensors"))
    gen = load_file(str(GOLDEN / "generate.safetensors"))
    close = lambda a, b, tol=1e-5: (a - b).abs().max().item() < tol  # noqa: E731
    px, px2 = pixels(), pixels("reference2.png")
    assert close(px, vis["pixel_values"], 1e-6) and close(px2, vis["pixel_values_2"], 1e-6)
    with torch.no_grad():
        feats, _ = model.features(px)
        for i, f in enumerate(feats):
            assert close(f, vis[f"features_{i}"])
        assert close(model.pseudo_words(feats), ad["pseudo_words"]) and close(model.image_tokens(feats), ad["image_tokens"])
        favg, _ = model.features(torch.cat([px, px2]), average=True)
        assert close(model.image_tokens(favg), ad["image_tokens_avg"])
        for c in cases["text_cases"]:
            t = tokenize_with_placeholder(base["tok"], c["prompt"], c["num_words"])
            assert t.input_ids == c["input_ids"] and [list(s) for s in t.slots] == c["slots"], c["name"]
            assert close(model.encode_prompts([c["prompt"]], ad["pseudo_words"], c["num_words"]), txt[c["embeds"]]), c["name"]
        for c in cases["unet_cases"]:
            got = model(un["sample"], 501, un["encoder_hidden_states"], un["image_tokens"], c["gamma"], c["sigma"], c["alpha"])
            assert close(got, un[c["output"]]), c["output"]
        by_name = {"reference.png": px, "reference2.png": px2}
        for c in cases["generate_cases"]:
            if c["name"] not in ("ddim_three", "euler_three", "ddim_two_refs", "euler_img2img"):
                continue
            sch = (DDIMScheduler if c["scheduler_class"] == "DDIMScheduler" else EulerDiscreteScheduler).from_config(base["sched"])
            refs = torch.cat([by_name[r] for r in c["references"]])
            init = gen[c["init_latents"]] if c.get("init_latents") else None
            res = model.generate(sch, c["prompt"], gen[c["noise"]], refs, negative_prompt=c["negative_prompt"], num_words=c["num_words"],
                                 gamma=c["gamma"], sigma=c["sigma"], alpha=c["alpha"], s_image=c["s_image"], s_text=c["s_text"], steps=c["steps"],
                                 image_start=c["image_start"], image_end=c["image_end"], uncond_image=c["uncond_image"], init_latents=init,
                                 strength=c["strength"] or 1.0)
            assert close(res["latents"], gen[c["latents"]], 1e-4), c["name"]
    for p in GOLDEN.rglob("*"):
        assert p.stat().st_size < 5 * 1024 * 1024, p


@pytest.mark.skipif(not os.environ.get("PHOTOVERSE_REGENERATE"), reason="set PHOTOVERSE_REGENERATE=1 to regenerate all fixtures (~20 s) and compare bytes")
def test_fixtures_regenerate_byte_identical(tmp_path):
    mk.main(["--out", str(tmp_path)])
    for p in GOLDEN.rglob("*"):
        if p.is_file():
            assert (tmp_path / p.relative_to(GOLDEN)).read_bytes() == p.read_bytes(), p
