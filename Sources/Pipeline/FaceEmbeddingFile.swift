import Foundation
import Formats
import TensorCore

/// The face embedding IP-Adapter FaceID reads (insightface's `normed_embedding`, 512 values for
/// ArcFace), from a `.npy` file or a `.safetensors` file with one tensor (or one named
/// `embedding`), shaped [D] or [1, D]. It is used as given, like diffusers' `ip_adapter_image_embeds`.
public enum FaceEmbeddingFile {
    public static func load(_ url: URL) throws -> Tensor {
        let name = url.path.terminalSafe
        let tensor: Tensor
        if url.pathExtension.lowercased() == "npy" {
            tensor = try NPYFile.load(url)
        } else {
            let file = try SafetensorsFile(url: url)
            let chosen = file.contains("embedding") ? "embedding" : (file.tensorNames.count == 1 ? file.tensorNames[0] : nil)
            guard let chosen else {
                throw InvalidRequest("\(name): \(file.tensorNames.count) tensors and none named 'embedding'; a face embedding file holds one")
            }
            tensor = try file.tensor(chosen)
        }
        guard tensor.rank == 1 || (tensor.rank == 2 && tensor.shape[0] == 1), tensor.count > 0 else {
            throw InvalidRequest("\(name): a face embedding is [D] or [1, D], this is \(tensor.shape)")
        }
        guard tensor.isAllFinite else { throw InvalidRequest("\(name): the face embedding holds NaN or infinite values") }
        return tensor.reshaped([1, tensor.count])
    }
}
