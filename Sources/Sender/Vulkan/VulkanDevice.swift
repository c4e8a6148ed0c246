import CVulkan
import Core
#if canImport(Glibc)
import Glibc
#endif

/// A headless Vulkan device with a compute queue and timestamps: the sender's GPU.
///
/// Picks the first device (a real GPU before a CPU one) whose compute queue writes timestamps, and
/// enables `VK_EXT_calibrated_timestamps` when the device offers it with `CLOCK_MONOTONIC`.
/// Thread: one owner (the sender loop).
public final class VulkanDevice {
    /// How calibration pairs are read.
    public enum CalibrationMethod: String, Sendable, CaseIterable {
        /// `vkGetCalibratedTimestampsEXT` when available, else `submit`.
        case auto
        /// `vkGetCalibratedTimestampsEXT` (DEVICE with CLOCK_MONOTONIC); the driver gives `max_deviation`.
        case calibrated
        /// A timestamp-only submit between two CPU reads (`origin` midpoint).
        case submit
    }

    let instance: VkInstance
    let physicalDevice: VkPhysicalDevice
    let device: VkDevice
    let queue: VkQueue
    let queueFamily: UInt32
    let memoryProperties: VkPhysicalDeviceMemoryProperties
    /// The device's name, as the driver reports it.
    public let name: String
    /// Nanoseconds per timestamp tick.
    public let timestampPeriod: Double
    /// Valid bits of the queue's timestamps (they wrap above).
    public let timestampValidBits: UInt32
    /// How this device's calibration pairs are read.
    public let calibrationMethod: CalibrationMethod

    private let getCalibratedTimestamps: PFN_vkGetCalibratedTimestampsEXT?
    private let commandPool: VkCommandPool
    private let calibrationCommands: VkCommandBuffer
    private let calibrationQueries: VkQueryPool
    private let fence: VkFence
    private var unwrapper: TickUnwrapper

    /// Opens the first usable device; `calibration` forces a method (tests use `submit`).
    public init(calibration: CalibrationMethod = .auto) throws(VulkanError) {
        instance = try Self.makeInstance()
        var chosen: (VkPhysicalDevice, UInt32, VkPhysicalDeviceProperties, UInt32)?
        do {
            chosen = try Self.choosePhysicalDevice(instance)
        } catch {
            vkDestroyInstance(instance, nil)
            throw error
        }
        guard let (physical, family, properties, validBits) = chosen else {
            vkDestroyInstance(instance, nil)
            throw .noDevice("no device has a compute queue with timestamps")
        }
        physicalDevice = physical
        queueFamily = family
        timestampValidBits = validBits
        timestampPeriod = Double(properties.limits.timestampPeriod)
        name = withUnsafeBytes(of: properties.deviceName) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var memory = VkPhysicalDeviceMemoryProperties()
        vkGetPhysicalDeviceMemoryProperties(physical, &memory)
        memoryProperties = memory
        unwrapper = TickUnwrapper(bits: validBits)

        let canCalibrate = Self.supportsCalibratedMonotonic(instance: instance, physicalDevice: physical)
        let method: CalibrationMethod
        switch calibration {
        case .auto: method = canCalibrate ? .calibrated : .submit
        case .calibrated:
            guard canCalibrate else {
                vkDestroyInstance(instance, nil)
                throw VulkanError("\(name) lacks VK_EXT_calibrated_timestamps with CLOCK_MONOTONIC; use --calibration submit")
            }
            method = .calibrated
        case .submit: method = .submit
        }
        calibrationMethod = method

        do {
            device = try Self.makeDevice(physical, family: family, extensions: method == .calibrated ? ["VK_EXT_calibrated_timestamps"] : [])
        } catch {
            vkDestroyInstance(instance, nil)
            throw error
        }
        var queueHandle: VkQueue?
        vkGetDeviceQueue(device, family, 0, &queueHandle)
        queue = queueHandle!
        if method == .calibrated, let pointer = vkGetDeviceProcAddr(device, "vkGetCalibratedTimestampsEXT") {
            getCalibratedTimestamps = unsafeBitCast(pointer, to: PFN_vkGetCalibratedTimestampsEXT.self)
        } else {
            getCalibratedTimestamps = nil
        }

        var poolInfo = VkCommandPoolCreateInfo()
        poolInfo.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO
        poolInfo.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT.rawValue
        poolInfo.queueFamilyIndex = family
        var pool: VkCommandPool?
        var fenceHandle: VkFence?
        var queries: VkQueryPool?
        do {
            try check(vkCreateCommandPool(device, &poolInfo, nil, &pool), "vkCreateCommandPool")
            var fenceInfo = VkFenceCreateInfo()
            fenceInfo.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO
            try check(vkCreateFence(device, &fenceInfo, nil, &fenceHandle), "vkCreateFence")
            queries = try Self.makeTimestampQueries(device, count: 1)
        } catch {
            vkDestroyDevice(device, nil)
            vkDestroyInstance(instance, nil)
            throw error
        }
        commandPool = pool!
        fence = fenceHandle!
        calibrationQueries = queries!
        calibrationCommands = try! Self.allocateCommandBuffer(device, pool: pool!)
    }

    deinit {
        vkDeviceWaitIdle(device)
        vkDestroyQueryPool(device, calibrationQueries, nil)
        vkDestroyFence(device, fence, nil)
        vkDestroyCommandPool(device, commandPool, nil)
        vkDestroyDevice(device, nil)
        vkDestroyInstance(instance, nil)
    }

    // MARK: - Time

    /// Raw GPU nanoseconds of a timestamp query result (ticks, possibly narrower than 64 bits).
    func nanoseconds(ofTicks ticks: UInt64) -> Int64 {
        let unwrapped = unwrapper.unwrap(ticks)
        return timestampPeriod == 1 ? unwrapped : Int64((Double(unwrapped) * timestampPeriod).rounded())
    }

    /// Reads the GPU clock and `CLOCK_MONOTONIC` at one instant, by the device's method.
    public func readCalibration() throws(VulkanError) -> CalibrationReading {
        switch calibrationMethod {
        case .calibrated, .auto: try readCalibrated()
        case .submit: try readBySubmit()
        }
    }

    private func readCalibrated() throws(VulkanError) -> CalibrationReading {
        var infos = [VkCalibratedTimestampInfoEXT](repeating: VkCalibratedTimestampInfoEXT(), count: 2)
        infos[0].sType = VK_STRUCTURE_TYPE_CALIBRATED_TIMESTAMP_INFO_EXT
        infos[0].timeDomain = VK_TIME_DOMAIN_DEVICE_EXT
        infos[1].sType = VK_STRUCTURE_TYPE_CALIBRATED_TIMESTAMP_INFO_EXT
        infos[1].timeDomain = VK_TIME_DOMAIN_CLOCK_MONOTONIC_EXT
        var timestamps: [UInt64] = [0, 0]
        var deviation: UInt64 = 0
        try check(getCalibratedTimestamps!(device, 2, &infos, &timestamps, &deviation), "vkGetCalibratedTimestampsEXT")
        return CalibrationReading(gpu: nanoseconds(ofTicks: timestamps[0]), cpu: Nanoseconds(Int64(timestamps[1])),
                                  maxDeviation: Double(deviation), origin: .sender)
    }

    private func readBySubmit() throws(VulkanError) -> CalibrationReading {
        let commands: VkCommandBuffer? = calibrationCommands
        try beginRecording(calibrationCommands)
        vkCmdResetQueryPool(calibrationCommands, calibrationQueries, 0, 1)
        vkCmdWriteTimestamp(calibrationCommands, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, calibrationQueries, 0)
        try check(vkEndCommandBuffer(calibrationCommands), "vkEndCommandBuffer")
        let clock = SystemMonotonicClock()
        let before = clock.now()
        try submitAndWait(commands)
        let after = clock.now()
        var ticks: UInt64 = 0
        try check(vkGetQueryPoolResults(device, calibrationQueries, 0, 1, 8, &ticks, 8,
                                        VK_QUERY_RESULT_64_BIT.rawValue | VK_QUERY_RESULT_WAIT_BIT.rawValue), "vkGetQueryPoolResults")
        let half = (after - before).rawValue / 2
        return CalibrationReading(gpu: nanoseconds(ofTicks: ticks), cpu: before + Nanoseconds(half),
                                  maxDeviation: Double(half), origin: .midpoint)
    }

    /// Resets `commands` and begins recording it for one submit.
    func beginRecording(_ commands: VkCommandBuffer) throws(VulkanError) {
        try check(vkResetCommandBuffer(commands, 0), "vkResetCommandBuffer")
        var begin = VkCommandBufferBeginInfo()
        begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO
        begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT.rawValue
        try check(vkBeginCommandBuffer(commands, &begin), "vkBeginCommandBuffer")
    }

    /// Submits one command buffer and waits for it.
    func submitAndWait(_ commands: VkCommandBuffer?) throws(VulkanError) {
        var buffers: [VkCommandBuffer?] = [commands]
        var submit = VkSubmitInfo()
        submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO
        submit.commandBufferCount = 1
        let result = buffers.withUnsafeMutableBufferPointer { pointer in
            submit.pCommandBuffers = UnsafePointer(pointer.baseAddress)
            return vkQueueSubmit(queue, 1, &submit, fence)
        }
        try check(result, "vkQueueSubmit")
        var fences: [VkFence?] = [fence]
        try check(vkWaitForFences(device, 1, &fences, VkBool32(VK_TRUE), UInt64.max), "vkWaitForFences")
        try check(vkResetFences(device, 1, &fences), "vkResetFences")
    }

    // MARK: - Resources for renderers

    /// A primary command buffer from the device's pool.
    func makeCommandBuffer() throws(VulkanError) -> VkCommandBuffer {
        try Self.allocateCommandBuffer(device, pool: commandPool)
    }

    /// A pool of `count` timestamp queries.
    func makeTimestampQueries(count: UInt32) throws(VulkanError) -> VkQueryPool {
        try Self.makeTimestampQueries(device, count: count)
    }

    /// The index of a memory type allowed by `typeBits` with all of `flags`.
    func memoryType(allowed typeBits: UInt32, flags: VkMemoryPropertyFlags) -> UInt32? {
        var properties = memoryProperties
        return withUnsafeBytes(of: &properties.memoryTypes) { raw in
            let types = raw.bindMemory(to: VkMemoryType.self)
            for index in 0..<Int(properties.memoryTypeCount)
            where typeBits & (1 << UInt32(index)) != 0 && types[index].propertyFlags & flags == flags {
                return UInt32(index)
            }
            return nil
        }
    }

    // MARK: - Set-up

    private static func makeInstance() throws(VulkanError) -> VkInstance {
        var instance: VkInstance?
        let result = "jamsend".withCString { name in
            var application = VkApplicationInfo()
            application.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO
            application.pApplicationName = name
            application.pEngineName = name
            application.apiVersion = (1 << 22) | (1 << 12)  // VK_API_VERSION_1_1
            return withUnsafePointer(to: &application) { applicationPointer in
                var info = VkInstanceCreateInfo()
                info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO
                info.pApplicationInfo = applicationPointer
                return vkCreateInstance(&info, nil, &instance)
            }
        }
        if result == VK_ERROR_INCOMPATIBLE_DRIVER || result == VK_ERROR_INITIALIZATION_FAILED {
            throw .noDevice("vkCreateInstance: VkResult \(result.rawValue)")
        }
        try check(result, "vkCreateInstance")
        return instance!
    }

    private static func choosePhysicalDevice(_ instance: VkInstance) throws(VulkanError) -> (VkPhysicalDevice, UInt32, VkPhysicalDeviceProperties, UInt32)? {
        var count: UInt32 = 0
        try check(vkEnumeratePhysicalDevices(instance, &count, nil), "vkEnumeratePhysicalDevices")
        guard count > 0 else { throw .noDevice("the Vulkan loader found no device") }
        var devices = [VkPhysicalDevice?](repeating: nil, count: Int(count))
        try check(vkEnumeratePhysicalDevices(instance, &count, &devices), "vkEnumeratePhysicalDevices")
        var candidates: [(VkPhysicalDevice, UInt32, VkPhysicalDeviceProperties, UInt32)] = []
        for case let device? in devices.prefix(Int(count)) {
            var properties = VkPhysicalDeviceProperties()
            vkGetPhysicalDeviceProperties(device, &properties)
            var familyCount: UInt32 = 0
            vkGetPhysicalDeviceQueueFamilyProperties(device, &familyCount, nil)
            var families = [VkQueueFamilyProperties](repeating: VkQueueFamilyProperties(), count: Int(familyCount))
            vkGetPhysicalDeviceQueueFamilyProperties(device, &familyCount, &families)
            if let family = families.indices.first(where: {
                families[$0].queueFlags & VK_QUEUE_COMPUTE_BIT.rawValue != 0 && families[$0].timestampValidBits > 0
            }) {
                candidates.append((device, UInt32(family), properties, families[family].timestampValidBits))
            }
        }
        // A real GPU before a CPU implementation such as lavapipe.
        return candidates.first { $0.2.deviceType != VK_PHYSICAL_DEVICE_TYPE_CPU } ?? candidates.first
    }

    private static func supportsCalibratedMonotonic(instance: VkInstance, physicalDevice: VkPhysicalDevice) -> Bool {
        var count: UInt32 = 0
        guard vkEnumerateDeviceExtensionProperties(physicalDevice, nil, &count, nil) == VK_SUCCESS else { return false }
        var extensions = [VkExtensionProperties](repeating: VkExtensionProperties(), count: Int(count))
        guard vkEnumerateDeviceExtensionProperties(physicalDevice, nil, &count, &extensions) == VK_SUCCESS else { return false }
        let names = extensions.map { properties in
            withUnsafeBytes(of: properties.extensionName) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        guard names.contains("VK_EXT_calibrated_timestamps"),
              let pointer = vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceCalibrateableTimeDomainsEXT") else { return false }
        let getDomains = unsafeBitCast(pointer, to: PFN_vkGetPhysicalDeviceCalibrateableTimeDomainsEXT.self)
        var domainCount: UInt32 = 0
        guard getDomains(physicalDevice, &domainCount, nil) == VK_SUCCESS else { return false }
        var domains = [VkTimeDomainEXT](repeating: VK_TIME_DOMAIN_DEVICE_EXT, count: Int(domainCount))
        guard getDomains(physicalDevice, &domainCount, &domains) == VK_SUCCESS else { return false }
        return domains.contains(VK_TIME_DOMAIN_DEVICE_EXT) && domains.contains(VK_TIME_DOMAIN_CLOCK_MONOTONIC_EXT)
    }

    private static func makeDevice(_ physical: VkPhysicalDevice, family: UInt32, extensions: [String]) throws(VulkanError) -> VkDevice {
        var priority: Float = 1
        var device: VkDevice?
        let names = extensions.map { strdup($0) }
        defer { names.forEach { free($0) } }
        var namePointers = names.map { UnsafePointer<CChar>($0) }
        let result = withUnsafePointer(to: &priority) { priorityPointer in
            var queueInfo = VkDeviceQueueCreateInfo()
            queueInfo.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO
            queueInfo.queueFamilyIndex = family
            queueInfo.queueCount = 1
            queueInfo.pQueuePriorities = priorityPointer
            return withUnsafePointer(to: &queueInfo) { queuePointer in
                namePointers.withUnsafeMutableBufferPointer { namesPointer in
                    var info = VkDeviceCreateInfo()
                    info.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO
                    info.queueCreateInfoCount = 1
                    info.pQueueCreateInfos = queuePointer
                    info.enabledExtensionCount = UInt32(namesPointer.count)
                    info.ppEnabledExtensionNames = UnsafePointer(namesPointer.baseAddress)
                    return vkCreateDevice(physical, &info, nil, &device)
                }
            }
        }
        try check(result, "vkCreateDevice")
        return device!
    }

    private static func allocateCommandBuffer(_ device: VkDevice, pool: VkCommandPool) throws(VulkanError) -> VkCommandBuffer {
        var info = VkCommandBufferAllocateInfo()
        info.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO
        info.commandPool = pool
        info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY
        info.commandBufferCount = 1
        var buffer: VkCommandBuffer?
        try check(vkAllocateCommandBuffers(device, &info, &buffer), "vkAllocateCommandBuffers")
        return buffer!
    }

    private static func makeTimestampQueries(_ device: VkDevice, count: UInt32) throws(VulkanError) -> VkQueryPool {
        var info = VkQueryPoolCreateInfo()
        info.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO
        info.queryType = VK_QUERY_TYPE_TIMESTAMP
        info.queryCount = count
        var pool: VkQueryPool?
        try check(vkCreateQueryPool(device, &info, nil, &pool), "vkCreateQueryPool")
        return pool!
    }
}

/// Extends timestamps of a counter narrower than 64 bits, read often enough not to miss a wrap.
struct TickUnwrapper {
    private let mask: UInt64
    private var last: UInt64?
    private var extended: UInt64 = 0

    init(bits: UInt32) { mask = bits >= 64 ? .max : (UInt64(1) << UInt64(bits)) - 1 }

    mutating func unwrap(_ ticks: UInt64) -> Int64 {
        guard mask != .max else { return Int64(bitPattern: ticks) }
        let value = ticks & mask
        if let last {
            // The shorter way round the counter: a reading a little older than the last is not a wrap.
            let forward = (value &- last) & mask
            extended = forward <= mask / 2 ? extended &+ forward : extended &- ((last &- value) & mask)
        } else {
            extended = value
        }
        last = value
        return Int64(bitPattern: extended)
    }
}

extension VulkanDevice: TimestampSource {
    /// `vulkan:<device> DEVICE+CLOCK_MONOTONIC` or `… submit` (the fallback).
    public var clockBase: String { "vulkan:\(name) \(calibrationMethod == .calibrated ? "DEVICE+CLOCK_MONOTONIC" : "submit")" }
}

extension VulkanDevice {
    /// Why no Vulkan device opens on this machine, or nil where one does (tried once).
    public static let unavailableReason: String? = {
        do {
            _ = try VulkanDevice()
            return nil
        } catch {
            return "no Vulkan device here (\(error)); Debian's mesa-vulkan-drivers provides one on the CPU"
        }
    }()
}
