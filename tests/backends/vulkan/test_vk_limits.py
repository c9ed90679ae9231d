"""Device limits the Vulkan runtime reports beyond the Vulkan API's own: lavapipe
(llvmpipe) stops looping after 65,535 iterations per invocation, all loops together.
Nothing here runs a long loop on lavapipe."""
from vkdispatch.backends.vulkan.physical import LLVMPIPE_MAX_LOOP_ITERATIONS


def test_max_loop_iterations_is_set_for_llvmpipe_only(vk_runtime):
    for phys in vk_runtime.instance.physical_devices:
        info = phys.info()
        if phys.is_llvmpipe:
            assert info.max_loop_iterations == LLVMPIPE_MAX_LOOP_ITERATIONS == 65535
            assert "max loop iterations: 65535" in info.get_info_string()
        else:
            assert info.max_loop_iterations is None
            assert "max loop iterations" not in info.get_info_string()


def test_llvmpipe_is_told_by_its_driver(vk_runtime):
    for phys in vk_runtime.instance.physical_devices:
        assert phys.is_llvmpipe == ("llvmpipe" in phys.name.lower()
                                    or phys.driver_name == "llvmpipe")
