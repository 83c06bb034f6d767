# Included right after llama.cpp's project() (CMAKE_PROJECT_llama.cpp_INCLUDE, set by scripts/setup).
# llama-cpp-python forces llama.cpp's "common" library on, but its Python binding loads only
# libllama and libggml*: common (51 C++ files of chat templates, JSON and argument parsing) was
# over half of the compile time, and went into the wheel unused.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama.cpp common utils library (not loaded by the binding)" FORCE)
