#!/usr/bin/env bash
# One-time set-up on Debian/Ubuntu: the Vulkan (Mesa lavapipe) and OpenCL (PoCL) CPU
# drivers and the Vulkan validation layers (the tests run under them), and the C++
# compiler and OpenCL headers pyvkfft builds with, when missing; then a virtual
# environment in .venv with vkdispatch, its test extra and its vkfft extra (pyvkfft,
# built from source for OpenCL; VKFFT_BACKEND=cuda,opencl adds its CUDA module where
# nvcc works). Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in mesa-vulkan-drivers libvulkan1 pocl-opencl-icd ocl-icd-libopencl1 vulkan-validationlayers \
           g++ opencl-headers ocl-icd-opencl-dev; do
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

# The vkfft extra on its own: a pyvkfft that fails to build leaves the rest usable (its
# tests then skip, saying why); tried again when pyproject.toml changes.
vkfft_stamp=.venv/.vkdispatch-vkfft-tried
if [ ! -f "$vkfft_stamp" ] || [ pyproject.toml -nt "$vkfft_stamp" ]; then
    echo "building pyvkfft (the vkfft extra) from source"
    if ! VKFFT_BACKEND=${VKFFT_BACKEND:-opencl} .venv/bin/python -m pip install -q -e ".[vkfft]"; then
        echo "warning: the vkfft extra (pyvkfft) did not build; vd.vkfft's tests will skip" >&2
    fi
    touch "$vkfft_stamp"
fi
