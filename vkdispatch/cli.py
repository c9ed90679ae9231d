"""`vdlist`: list the devices vkdispatch can use."""
from __future__ import annotations

import argparse
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
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
