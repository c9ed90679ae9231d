#!/usr/bin/env bash
# Build and install pyvkfft (the vkfft extra) from its source distribution with no network,
# e.g. on the GPU machine (nvcc, no registry):
#   scripts/build-pyvkfft.sh SDIST [TARGET]
# TARGET: a directory to install into (pip --target, e.g. /tmp/site); default: the Python's
# site-packages. VKFFT_BACKEND picks pyvkfft's modules (default "cuda"; "opencl" or
# "cuda,opencl"). PYTHON: the interpreter (default python3); it needs setuptools and wheel.
# pyvkfft's CUDA module needs NVRTC's header and library and libcuda to link: they are
# taken from the CUDA toolkit nvcc belongs to, else from the nvidia-cuda-nvrtc wheel
# (NVRTC) and the driver (libcuda.so.1; LIBCUDA names another file, e.g. a stub).
set -euo pipefail
if [ $# -lt 1 ] || [ ! -f "$1" ]; then
    echo "usage: $0 SDIST [TARGET]   (SDIST: pyvkfft-*.tar.gz from pip download)" >&2
    exit 2
fi
sdist=$1
target=${2:-}
PY=${PYTHON:-python3}
export VKFFT_BACKEND=${VKFFT_BACKEND:-cuda}

if [[ $VKFFT_BACKEND == *cuda* ]]; then
    command -v nvcc >/dev/null || { echo "nvcc is not on PATH" >&2; exit 1; }
    # the toolkit nvcc belongs to (nvcc may be a wrapper script elsewhere)
    top=$(nvcc --dryrun -x cu -c /dev/null -o /dev/null 2>&1 | sed -n 's/^#\$ TOP=//p' | head -1)
    header=$(ls "$top"/include/nvrtc.h "$top"/targets/*/include/nvrtc.h 2>/dev/null | head -1 || true)
    nvrtc=$(ls "$top"/lib64/libnvrtc.so.* "$top"/targets/*/lib/libnvrtc.so.* 2>/dev/null | head -1 || true)
    if [ -z "$header" ] || [ -z "$nvrtc" ]; then
        wheel=$("$PY" -c '
import glob, os, nvidia
hits = [h for d in nvidia.__path__ for h in sorted(glob.glob(os.path.join(d, "*", "include", "nvrtc.h")))]
print(os.path.dirname(os.path.dirname(hits[0])) if hits else "")')
        [ -n "$wheel" ] || { echo "no nvrtc.h in $top nor in an nvidia-cuda-nvrtc wheel" >&2; exit 1; }
        header=$wheel/include/nvrtc.h
        nvrtc=$(ls "$wheel"/lib/libnvrtc.so.* | head -1)
    fi
    libcuda=${LIBCUDA:-$(ldconfig -p | sed -n 's/.*libcuda\.so\.1 (libc6,x86-64.*=> //p' | head -1)}
    [ -n "$libcuda" ] || libcuda=$(ls /usr/local/nvidia/lib64/libcuda.so.1 \
        /usr/lib/x86_64-linux-gnu/libcuda.so.1 /usr/lib64/libcuda.so.1 2>/dev/null | head -1 || true)
    [ -n "$libcuda" ] || { echo "no libcuda.so.1 (the NVIDIA driver) found; set LIBCUDA" >&2; exit 1; }
    # -lnvrtc and -lcuda need unversioned names; the module finds NVRTC at run time by rpath
    links=$(mktemp -d)
    ln -s "$nvrtc" "$links/libnvrtc.so"
    ln -s "$libcuda" "$links/libcuda.so"
    export NVCC_APPEND_FLAGS="${NVCC_APPEND_FLAGS:-} -I$(dirname "$header") -L$links -Xlinker -rpath=$(dirname "$nvrtc")"
    echo "pyvkfft's CUDA module: nvcc of $top, NVRTC $nvrtc, libcuda $libcuda"
fi
"$PY" -m pip install --no-index --no-deps --no-build-isolation --no-cache-dir \
    ${target:+--target "$target"} "$sdist"
