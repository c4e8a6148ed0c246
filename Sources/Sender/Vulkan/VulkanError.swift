import CVulkan

/// A Vulkan call that failed, or a device that cannot do what the sender needs.
public struct VulkanError: Error, CustomStringConvertible {
    /// The explanation, naming the call and its `VkResult` where there is one.
    public let description: String

    init(_ description: String) { self.description = description }

    init(call: String, result: VkResult) {
        description = "\(call) failed: VkResult \(result.rawValue)"
    }

    /// No Vulkan implementation or no usable device: what to install, or how to run without one.
    static func noDevice(_ detail: String) -> VulkanError {
        VulkanError("no usable Vulkan device (\(detail)); install mesa-vulkan-drivers (lavapipe, a CPU Vulkan) or a GPU driver, or run with --clock cpu")
    }
}

/// Throws unless `result` is `VK_SUCCESS`.
func check(_ result: VkResult, _ call: String) throws(VulkanError) {
    guard result == VK_SUCCESS else { throw VulkanError(call: call, result: result) }
}
