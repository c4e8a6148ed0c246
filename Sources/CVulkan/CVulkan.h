// The Vulkan loader's API (libvulkan-dev). The sender loads extension entry points itself.
#include <vulkan/vulkan.h>
