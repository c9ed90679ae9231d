#!/usr/bin/env bash
# One-time set-up on Debian/Ubuntu: the Vulkan (Mesa lavapipe) and OpenCL (PoCL) CPU
# drivers and the Vulkan validation layers (the tests run under them) when missing,
# then a virtual environment in .venv with vkdispatch and its test extra. Idempotent:
# re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in mesa-vulkan-drivers libvulkan1 pocl-opencl-icd ocl-icd-libopencl1 vulkan-validationlayers; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
PY=${PYTHON:-python3}
# Debian/Ubuntu's system Python needs python3-venv for `python3 -m venv`
if [ ! -x .venv/bin/python ] && ! "$PY" -c "import ensurepip, venv" >/dev/null 2>&1; then
    need+=(python3-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    echo "installing Debian packages: ${need[*]}"
    $sudo_cmd apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${need[@]}"
fi

if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
stamp=.venv/.vkdispatch-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[test]"
    touch "$stamp"
fi
