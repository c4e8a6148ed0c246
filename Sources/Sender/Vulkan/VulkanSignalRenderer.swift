import CVulkan

/// Renders frames with the compute shader (`Resources/shaders/signal.comp`) on a `VulkanDevice`,
/// writing a GPU timestamp before and after each dispatch.
///
/// Everything is allocated once, for frames of up to `maximumFrames × channels` samples; a frame
/// records one command buffer, submits it and waits. Thread: one owner (the sender loop).
public final class VulkanSignalRenderer: SignalRenderer {
    private let gpu: VulkanDevice
    private let sampleCapacity: Int
    private let output: HostBuffer
    private let source: HostBuffer
    private let descriptorLayout: VkDescriptorSetLayout
    private let pipelineLayout: VkPipelineLayout
    private let pipeline: VkPipeline
    private let descriptorPool: VkDescriptorPool
    private let descriptorSet: VkDescriptorSet
    private let commands: VkCommandBuffer
    private let queries: VkQueryPool

    /// Prepares the pipeline and buffers; `fileSamples` is uploaded once for a `file:` signal.
    public init(device gpu: VulkanDevice, maximumFrames: Int, channels: Int, fileSamples: [Float] = []) throws(VulkanError) {
        self.gpu = gpu
        sampleCapacity = maximumFrames * channels
        let device = gpu.device
        let output = try HostBuffer(gpu, bytes: maximumFrames * channels * 4)
        self.output = output
        let source = try HostBuffer(gpu, bytes: max(fileSamples.count, 1) * 4)
        fileSamples.withUnsafeBytes { source.mapped.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        self.source = source
        let setLayout = try Self.makeDescriptorSetLayout(device)
        descriptorLayout = setLayout
        let layout = try Self.makePipelineLayout(device, setLayout)
        pipelineLayout = layout
        pipeline = try Self.makePipeline(device, layout)
        let descriptors = try Self.makeDescriptorSet(device, setLayout, buffers: [output.buffer, source.buffer])
        descriptorPool = descriptors.pool
        descriptorSet = descriptors.set
        commands = try gpu.makeCommandBuffer()
        queries = try gpu.makeTimestampQueries(count: 2)
    }

    /// The shader's two storage buffers: binding 0 the output, binding 1 a file's samples.
    private static func makeDescriptorSetLayout(_ device: VkDevice) throws(VulkanError) -> VkDescriptorSetLayout {
        var bindings = (0..<2).map { index in
            var binding = VkDescriptorSetLayoutBinding()
            binding.binding = UInt32(index)
            binding.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
            binding.descriptorCount = 1
            binding.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT.rawValue
            return binding
        }
        var layout: VkDescriptorSetLayout?
        let layoutResult = bindings.withUnsafeMutableBufferPointer { pointer in
            var info = VkDescriptorSetLayoutCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO
            info.bindingCount = 2
            info.pBindings = UnsafePointer(pointer.baseAddress)
            return vkCreateDescriptorSetLayout(device, &info, nil, &layout)
        }
        try check(layoutResult, "vkCreateDescriptorSetLayout")
        return layout!
    }

    /// The pipeline's layout: the descriptor set and the frame's parameters as push constants.
    private static func makePipelineLayout(_ device: VkDevice, _ layout: VkDescriptorSetLayout) throws(VulkanError) -> VkPipelineLayout {
        var pushRange = VkPushConstantRange()
        pushRange.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT.rawValue
        pushRange.size = UInt32(SignalFrameParameters().words.count * 4)
        var setLayouts: [VkDescriptorSetLayout?] = [layout]
        var pipelineLayoutHandle: VkPipelineLayout?
        let pipelineLayoutResult = setLayouts.withUnsafeMutableBufferPointer { layoutsPointer in
            withUnsafePointer(to: &pushRange) { rangePointer in
                var info = VkPipelineLayoutCreateInfo()
                info.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO
                info.setLayoutCount = 1
                info.pSetLayouts = UnsafePointer(layoutsPointer.baseAddress)
                info.pushConstantRangeCount = 1
                info.pPushConstantRanges = rangePointer
                return vkCreatePipelineLayout(device, &info, nil, &pipelineLayoutHandle)
            }
        }
        try check(pipelineLayoutResult, "vkCreatePipelineLayout")
        return pipelineLayoutHandle!
    }

    /// The compute pipeline of the signal shader (`SignalShaderCode`).
    private static func makePipeline(_ device: VkDevice, _ pipelineLayout: VkPipelineLayout) throws(VulkanError) -> VkPipeline {
        var module: VkShaderModule?
        let moduleResult = SignalShaderCode.words.withUnsafeBufferPointer { words in
            var info = VkShaderModuleCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO
            info.codeSize = words.count * 4
            info.pCode = words.baseAddress
            return vkCreateShaderModule(device, &info, nil, &module)
        }
        try check(moduleResult, "vkCreateShaderModule")
        defer { vkDestroyShaderModule(device, module, nil) }
        var pipelineHandle: VkPipeline?
        let pipelineResult = "main".withCString { entry in
            var info = VkComputePipelineCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO
            info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO
            info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT
            info.stage.module = module
            info.stage.pName = entry
            info.layout = pipelineLayout
            return vkCreateComputePipelines(device, nil, 1, &info, nil, &pipelineHandle)
        }
        try check(pipelineResult, "vkCreateComputePipelines")
        return pipelineHandle!
    }

    /// A descriptor set of `layout`, from a pool of its own, pointing at `buffers` in binding order.
    private static func makeDescriptorSet(_ device: VkDevice, _ layout: VkDescriptorSetLayout,
                                          buffers: [VkBuffer]) throws(VulkanError) -> (pool: VkDescriptorPool, set: VkDescriptorSet) {
        var setLayouts: [VkDescriptorSetLayout?] = [layout]
        var poolSize = VkDescriptorPoolSize(type: VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, descriptorCount: UInt32(buffers.count))
        var pool: VkDescriptorPool?
        let poolResult = withUnsafePointer(to: &poolSize) { sizePointer in
            var info = VkDescriptorPoolCreateInfo()
            info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO
            info.maxSets = 1
            info.poolSizeCount = 1
            info.pPoolSizes = sizePointer
            return vkCreateDescriptorPool(device, &info, nil, &pool)
        }
        try check(poolResult, "vkCreateDescriptorPool")
        var set: VkDescriptorSet?
        let setResult = setLayouts.withUnsafeMutableBufferPointer { layoutsPointer in
            var info = VkDescriptorSetAllocateInfo()
            info.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO
            info.descriptorPool = pool
            info.descriptorSetCount = 1
            info.pSetLayouts = UnsafePointer(layoutsPointer.baseAddress)
            return vkAllocateDescriptorSets(device, &info, &set)
        }
        try check(setResult, "vkAllocateDescriptorSets")
        var bufferInfos = buffers.map { VkDescriptorBufferInfo(buffer: $0, offset: 0, range: VkDeviceSize(VK_WHOLE_SIZE)) }
        bufferInfos.withUnsafeMutableBufferPointer { infos in
            var writes = (0..<infos.count).map { index in
                var write = VkWriteDescriptorSet()
                write.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET
                write.dstSet = set
                write.dstBinding = UInt32(index)
                write.descriptorCount = 1
                write.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                write.pBufferInfo = UnsafePointer(infos.baseAddress! + index)
                return write
            }
            vkUpdateDescriptorSets(device, UInt32(writes.count), &writes, 0, nil)
        }
        return (pool!, set!)
    }

    deinit {
        let device = gpu.device
        vkDeviceWaitIdle(device)
        vkDestroyQueryPool(device, queries, nil)
        vkDestroyDescriptorPool(device, descriptorPool, nil)
        vkDestroyPipeline(device, pipeline, nil)
        vkDestroyPipelineLayout(device, pipelineLayout, nil)
        vkDestroyDescriptorSetLayout(device, descriptorLayout, nil)
    }

    /// Dispatches the shader for one frame, waits, copies the samples out and returns the GPU
    /// times written before and after the dispatch.
    public func render(_ parameters: SignalFrameParameters, into samples: UnsafeMutableBufferPointer<Float>) throws -> RenderTimes? {
        let sampleCount = Int(parameters.frameCount * parameters.channels)
        precondition(sampleCount <= sampleCapacity && sampleCount <= samples.count, "frame larger than the renderer was made for")
        try gpu.beginRecording(commands)
        vkCmdResetQueryPool(commands, queries, 0, 2)
        vkCmdWriteTimestamp(commands, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, queries, 0)
        vkCmdBindPipeline(commands, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline)
        var sets: [VkDescriptorSet?] = [descriptorSet]
        vkCmdBindDescriptorSets(commands, VK_PIPELINE_BIND_POINT_COMPUTE, pipelineLayout, 0, 1, &sets, 0, nil)
        let words = parameters.words
        words.withUnsafeBytes { bytes in
            vkCmdPushConstants(commands, pipelineLayout, VK_SHADER_STAGE_COMPUTE_BIT.rawValue, 0, UInt32(bytes.count), bytes.baseAddress)
        }
        vkCmdDispatch(commands, (parameters.frameCount + 63) / 64, 1, 1)
        // The shader's writes must be visible to the host once the fence signals.
        var barrier = VkMemoryBarrier()
        barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER
        barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT.rawValue
        barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT.rawValue
        vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT.rawValue, VK_PIPELINE_STAGE_HOST_BIT.rawValue,
                             0, 1, &barrier, 0, nil, 0, nil)
        vkCmdWriteTimestamp(commands, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, queries, 1)
        try check(vkEndCommandBuffer(commands), "vkEndCommandBuffer")
        try gpu.submitAndWait(commands)
        var ticks: [UInt64] = [0, 0]
        try check(vkGetQueryPoolResults(gpu.device, queries, 0, 2, 16, &ticks, 8,
                                        VK_QUERY_RESULT_64_BIT.rawValue | VK_QUERY_RESULT_WAIT_BIT.rawValue), "vkGetQueryPoolResults")
        samples.baseAddress!.update(from: output.mapped.assumingMemoryBound(to: Float.self), count: sampleCount)
        return RenderTimes(started: gpu.nanoseconds(ofTicks: ticks[0]), finished: gpu.nanoseconds(ofTicks: ticks[1]))
    }
}

/// A storage buffer in host-visible, coherent memory, mapped for its whole life.
final class HostBuffer {
    let buffer: VkBuffer
    let memory: VkDeviceMemory
    let mapped: UnsafeMutableRawPointer
    private let device: VkDevice

    init(_ gpu: VulkanDevice, bytes: Int) throws(VulkanError) {
        device = gpu.device
        var info = VkBufferCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO
        info.size = VkDeviceSize(bytes)
        info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT.rawValue
        info.sharingMode = VK_SHARING_MODE_EXCLUSIVE
        var bufferHandle: VkBuffer?
        try check(vkCreateBuffer(device, &info, nil, &bufferHandle), "vkCreateBuffer")
        var requirements = VkMemoryRequirements()
        vkGetBufferMemoryRequirements(device, bufferHandle, &requirements)
        let flags = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT.rawValue | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT.rawValue
        guard let type = gpu.memoryType(allowed: requirements.memoryTypeBits, flags: flags) else {
            vkDestroyBuffer(device, bufferHandle, nil)
            throw VulkanError("\(gpu.name) has no host-visible coherent memory for a storage buffer")
        }
        var allocation = VkMemoryAllocateInfo()
        allocation.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO
        allocation.allocationSize = requirements.size
        allocation.memoryTypeIndex = type
        var memoryHandle: VkDeviceMemory?
        try check(vkAllocateMemory(device, &allocation, nil, &memoryHandle), "vkAllocateMemory")
        try check(vkBindBufferMemory(device, bufferHandle, memoryHandle, 0), "vkBindBufferMemory")
        var pointer: UnsafeMutableRawPointer?
        try check(vkMapMemory(device, memoryHandle, 0, VkDeviceSize(VK_WHOLE_SIZE), 0, &pointer), "vkMapMemory")
        buffer = bufferHandle!
        memory = memoryHandle!
        mapped = pointer!
    }

    deinit {
        vkUnmapMemory(device, memory)
        vkDestroyBuffer(device, buffer, nil)
        vkFreeMemory(device, memory, nil)
    }
}
