/// A LoRA file a request applies, at its own scale (`--lora FILE[:SCALE]`). The scale
/// multiplies the file's own (alpha / rank per layer); 0 leaves the file out of the run.
public struct LoRAChoice: Codable, Equatable, Hashable, Sendable {
    public var path: String
    public var scale: Float

    public init(path: String, scale: Float = 1) {
        self.path = path
        self.scale = scale
    }
}
