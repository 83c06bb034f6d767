"""A persistent ggml thread pool for the context: the one binding llama-cpp-python lacks.

Without one attached, ggml makes a throwaway pool inside every ``llama_decode``. In a build
without OpenMP (macOS's clang, ``GGML_OPENMP=OFF``) that means compute threads created and
joined once per step, each step starting cold. In the OpenMP build that ``scripts/setup``
makes (llama.cpp's default) the compute threads are libgomp's and persist anyway, and the
throwaway pool is only a few allocations per step. ``llama-server`` attaches a pool either
way; this binds the four C functions that do the same (``ggml_threadpool_params_init``,
``ggml_threadpool_new``/``_free`` from ggml's CPU backend, ``llama_attach_threadpool``), with
the parameters' layout from ``ggml.h``.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import llama_cpp

GGML_MAX_N_THREADS = 512


class ThreadPoolParams(ctypes.Structure):
    _fields_ = [
        ("cpumask", ctypes.c_bool * GGML_MAX_N_THREADS),
        ("n_threads", ctypes.c_int),
        ("prio", ctypes.c_int),
        ("poll", ctypes.c_uint32),
        ("strict_cpu", ctypes.c_bool),
        ("paused", ctypes.c_bool),
    ]


def _libraries() -> tuple[ctypes.CDLL, ctypes.CDLL, ctypes.CDLL]:
    """ggml, ggml's CPU backend and llama, as llama-cpp-python loaded them (same handles)."""
    lib = Path(llama_cpp.__file__).parent / "lib"
    base, cpu = ctypes.CDLL(str(lib / "libggml-base.so")), ctypes.CDLL(str(lib / "libggml-cpu.so"))
    base.ggml_threadpool_params_init.argtypes = [ctypes.POINTER(ThreadPoolParams), ctypes.c_int]
    base.ggml_threadpool_params_init.restype = None
    cpu.ggml_threadpool_new.argtypes = [ctypes.POINTER(ThreadPoolParams)]
    cpu.ggml_threadpool_new.restype = ctypes.c_void_p
    cpu.ggml_threadpool_free.argtypes = [ctypes.c_void_p]
    cpu.ggml_threadpool_free.restype = None
    llama = llama_cpp.llama_cpp._lib  # type: ignore[attr-defined]
    llama.llama_attach_threadpool.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    llama.llama_attach_threadpool.restype = None
    llama.llama_detach_threadpool.argtypes = [ctypes.c_void_p]
    llama.llama_detach_threadpool.restype = None
    return base, cpu, llama


class ThreadPools:
    """One pool for decoding, and another for prompts when their thread counts differ (as
    ``llama-server`` does: the idle one waits paused)."""

    def __init__(self, ctx: ctypes.c_void_p, n_threads: int, n_threads_batch: int) -> None:
        self._base, self._cpu, self._llama = _libraries()
        self._ctx = ctx
        self.pools: list[int] = []
        batch = self._new(n_threads_batch, paused=False) if n_threads_batch != n_threads else None
        decode = self._new(n_threads, paused=batch is not None)
        self._llama.llama_attach_threadpool(ctx, decode, batch)

    def _new(self, n_threads: int, *, paused: bool) -> int:
        params = ThreadPoolParams()
        self._base.ggml_threadpool_params_init(ctypes.byref(params), n_threads)
        params.paused = paused
        pool = self._cpu.ggml_threadpool_new(ctypes.byref(params))
        if not pool:
            raise RuntimeError(f"ggml could not start a pool of {n_threads} threads")
        self.pools.append(pool)
        return pool

    def close(self) -> None:
        """Detaches and stops the pools; the context must not decode afterwards."""
        self._llama.llama_detach_threadpool(self._ctx)
        for pool in self.pools:
            self._cpu.ggml_threadpool_free(pool)
        self.pools = []
