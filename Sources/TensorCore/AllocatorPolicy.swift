import CKernels

/// How the process allocates tensor memory (see `pv_configure_allocator`): large tensors in
/// their own mappings, given back when freed, so the resident peak is the live tensors'.
public enum AllocatorPolicy {
    /// Call once, before models load (the CLI does, for every command).
    public static func apply() { pv_configure_allocator() }

    /// Bytes held in separate mappings now (-1 where the C library cannot say).
    public static var mappedBytes: Int { pv_mapped_allocation_bytes() }
}
