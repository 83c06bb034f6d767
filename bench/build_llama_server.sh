#!/usr/bin/env bash
# Build llama.cpp's own `llama-server` for bench/server_local.py, from the llama.cpp tree
# vendored in llama-cpp-python's sdist (the same llama.cpp the binding runs), with the same
# portable CMake flags as scripts/setup (no -march=native: these CPUs report AMX but fault on it).
#
#   bench/build_llama_server.sh        # prints the path of the binary
#
# Everything lives in a cache dir outside the repository ($CLAUDEWIRE_BENCH_CACHE,
# default ~/.cache/claudewire-bench); a second run only prints the path.
set -euo pipefail
version="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
cache="${CLAUDEWIRE_BENCH_CACHE:-$HOME/.cache/claudewire-bench}"
binary="$cache/llama-server-$version/bin/llama-server"
if [[ -x "$binary" ]]; then echo "$binary"; exit 0; fi
mkdir -p "$cache" && cd "$cache"
sdist="llama_cpp_python-$version.tar.gz"
[[ -f "$sdist" ]] || python3 -m pip download -q --no-binary :all: --no-deps "llama-cpp-python==$version" -d . >&2
rm -rf "src-$version" && mkdir "src-$version" && tar -xzf "$sdist" -C "src-$version" --strip-components=1
cmake -S "src-$version/vendor/llama.cpp" -B "build-$version" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_CURL=OFF \
    -DBUILD_SHARED_LIBS=OFF >&2
cmake --build "build-$version" --target llama-server -j "$(nproc)" >&2
mkdir -p "$(dirname "$binary")" && cp "build-$version/bin/llama-server" "$binary"
echo "$binary"
