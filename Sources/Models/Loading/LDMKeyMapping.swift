/// Diffusers key names → original CompVis/LDM ("single-file" checkpoint) key names
/// for SD1.x, derived from the config (levels and layers per block), so any
/// SD1.x-shaped model maps, not only SD1.5's 4 x 2 layout.
///
/// UNet: input_blocks.{1 + i(L+1) + j}.{0 resnet | 1 attention}, input_blocks.{(i+1)(L+1)}.0.op
/// (downsample), middle_block.{0,1,2}, output_blocks.{i(L+1) + j}.{0,1}, upsample at
/// output_blocks.{i(L+1)+L}.{1|2}.conv, time_embed.{0,2}, out.{0,2}. ResBlocks rename
/// norm1/conv1/time_emb_proj/norm2/conv2/conv_shortcut to in_layers.0/in_layers.2/
/// emb_layers.1/out_layers.0/out_layers.3/skip_connection.
/// VAE: down.i.block.j, down.i.downsample.conv, up.{n-1-i}.block.j, up.{n-1-i}.upsample.conv,
/// mid.block_{1,2}, mid.attn_1.{norm,q,k,v,proj_out}, norm_out, nin_shortcut.
public enum LDMKeyMapping {
    public static let unetPrefix = "model.diffusion_model."
    public static let vaePrefix = "first_stage_model."
    public static let textPrefix = "cond_stage_model.transformer."

    static let resnetNames = [("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("time_emb_proj", "emb_layers.1"),
                              ("norm2", "out_layers.0"), ("conv2", "out_layers.3"), ("conv_shortcut", "skip_connection")]

    static func renameResnet(_ rest: ArraySlice<Substring>) -> String? {
        let joined = rest.joined(separator: ".")
        for (from, to) in resnetNames where joined.hasPrefix(from + ".") {
            return to + joined.dropFirst(from.count)
        }
        return nil
    }

    public static func unetKey(_ key: String, config: UNetConfig) -> String? {
        let p = key.split(separator: ".")
        let l = config.layersPerBlock, n = config.blockOutChannels.count
        func rest(_ from: Int) -> String { p[from...].joined(separator: ".") }
        guard p.count >= 2 else { return nil }
        switch p[0] {
        case "time_embedding": return (p[1] == "linear_1" ? "time_embed.0." : "time_embed.2.") + rest(2)
        case "conv_in": return "input_blocks.0.0." + rest(1)
        case "conv_norm_out": return "out.0." + rest(1)
        case "conv_out": return "out.2." + rest(1)
        case "down_blocks", "up_blocks":
            guard p.count >= 5, let i = Int(p[1]) else { return nil }
            let base = p[0] == "down_blocks" ? "input_blocks" : "output_blocks"
            let offset = p[0] == "down_blocks" ? 1 : 0
            switch p[2] {
            case "resnets":
                guard let j = Int(p[3]), let renamed = renameResnet(p[4...]) else { return nil }
                return "\(base).\(offset + i * (l + 1) + j).0.\(renamed)"
            case "attentions":
                guard let j = Int(p[3]) else { return nil }
                return "\(base).\(offset + i * (l + 1) + j).1.\(rest(4))"
            case "downsamplers":
                guard i < n - 1, p.count >= 6 else { return nil }
                return "input_blocks.\((i + 1) * (l + 1)).0.op.\(rest(5))"
            case "upsamplers":
                guard i < n - 1, p.count >= 6 else { return nil }
                let hasAttention = config.upBlockTypes[i].hasPrefix("CrossAttn")
                return "output_blocks.\(i * (l + 1) + l).\(hasAttention ? 2 : 1).conv.\(rest(5))"
            default: return nil
            }
        case "mid_block":
            guard p.count >= 4 else { return nil }
            if p[1] == "resnets", let renamed = renameResnet(p[3...]) {
                return "middle_block.\(p[2] == "0" ? 0 : 2).\(renamed)"
            }
            if p[1] == "attentions" { return "middle_block.1." + rest(3) }
            return nil
        default: return nil
        }
    }

    public static func vaeKey(_ key: String, config: VAEConfig) -> String? {
        let p = key.split(separator: ".")
        let n = config.blockOutChannels.count
        func rest(_ from: Int) -> String { p[from...].joined(separator: ".") }
        func resnet(_ from: Int) -> String {
            let r = rest(from)
            return r.hasPrefix("conv_shortcut") ? "nin_shortcut" + r.dropFirst("conv_shortcut".count) : r
        }
        guard p.count >= 2 else { return nil }
        if p[0] == "quant_conv" || p[0] == "post_quant_conv" { return key }
        guard p[0] == "encoder" || p[0] == "decoder" else { return nil }
        let side = String(p[0])
        switch p[1] {
        case "conv_in", "conv_out": return key
        case "conv_norm_out": return "\(side).norm_out.\(rest(2))"
        case "mid_block":
            guard p.count >= 5 else { return nil }
            if p[2] == "resnets", let j = Int(p[3]) { return "\(side).mid.block_\(j + 1).\(resnet(4))" }
            if p[2] == "attentions" {
                let r = rest(4)
                for (from, to) in [("group_norm", "norm"), ("to_q", "q"), ("to_k", "k"), ("to_v", "v"), ("to_out.0", "proj_out")]
                where r.hasPrefix(from + ".") {
                    return "\(side).mid.attn_1.\(to)\(r.dropFirst(from.count))"
                }
            }
            return nil
        case "down_blocks", "up_blocks":
            guard p.count >= 5, let index = Int(p[2]) else { return nil }
            let level = p[1] == "down_blocks" ? index : n - 1 - index
            let word = p[1] == "down_blocks" ? "down" : "up"
            switch p[3] {
            case "resnets": return "\(side).\(word).\(level).block.\(p[4]).\(resnet(5))"
            case "downsamplers", "upsamplers":
                guard p.count >= 7 else { return nil }
                return "\(side).\(word).\(level).\(word == "down" ? "downsample" : "upsample").conv.\(rest(6))"
            default: return nil
            }
        default: return nil
        }
    }
}
