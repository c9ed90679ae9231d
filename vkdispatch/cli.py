"""`vdlist`: list the devices vkdispatch can use."""
from __future__ import annotations

import argparse
import os
import sys

from .backends import runtime as rt
from .base.errors import BackendUnavailableError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="vdlist", description="List vkdispatch devices.")
    group = parser.add_mutually_exclusive_group()
    for name in rt.DEFAULT_ORDER:
        group.add_argument(f"--{name}", dest="backend", action="store_const", const=name,
                           help=f"only the {name} backend")
    parser.add_argument("-v", "--verbose", action="store_true", help="show every device field")
    # vkdispatch 0.1's vdlist options
    parser.add_argument("--log_info", action="store_true", help="log at INFO level")
    parser.add_argument("--vulkan_loader_debug_logs", "--loader_debug", action="store_true",
                        help="make the Vulkan loader report how it finds drivers "
                             "(VK_LOADER_DEBUG=all)")
    parser.add_argument("--debug", action="store_true", help="both of the above")
    parser.add_argument("--version", action="version", version=f"vkdispatch {_version()}")
    args = parser.parse_args(argv)
    if args.log_info or args.debug:
        from .base.log import set_log_level
        set_log_level("info")
    if args.vulkan_loader_debug_logs or args.debug:
        os.environ.setdefault("VK_LOADER_DEBUG", "all")
    names = [args.backend] if args.backend else list(rt.DEFAULT_ORDER)
    found = 0
    for name in names:
        try:
            devices = rt.load_runtime(name).devices()
        except BackendUnavailableError as exc:
            print(f"[{name}] unavailable: {exc}")
            continue
        print(f"[{name}] {len(devices)} device(s)")
        for dev in devices:
            print(dev.get_info_string(verbose=args.verbose))
        found += len(devices)
    return 0 if found else 1


def _version() -> str:
    from . import __version__
    return __version__


cli_entrypoint = main   # vkdispatch 0.1's name of the vdlist entry point


if __name__ == "__main__":
    sys.exit(main())
