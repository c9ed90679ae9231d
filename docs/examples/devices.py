import vkdispatch as vd

# The first call that needs a device initializes the default backend and context.
for device in vd.get_devices():
    print(device.get_info_string())

print("backend:", vd.get_backend())     # 'vulkan', 'cuda' or 'opencl'
ctx = vd.get_context()                  # the devices and queues in use
print(ctx)
info = ctx.device                       # the first device: limits used for launches
print(info.name, info.device_type, info.subgroup_size, info.max_workgroup_size)
assert ctx.queue_count >= 1
