/*
 * usfm_blas: single-precision matrix products on TensorFlow.js' WASM heap through a native BLAS.
 *
 * tfjs-backend-wasm keeps every tensor in one WebAssembly.Memory; its XNNPACK GEMM (128-bit SIMD, no FMA)
 * runs ViT-sized products at 15-20 GFLOP/s per core, OpenBLAS at 60-75 on the same core. This addon takes
 * that memory's ArrayBuffer and byte offsets of the operands and runs cblas_sgemm in place: no copies, and
 * transpose flags and batch strides are free. The BLAS library is opened at run time (dlopen), so the addon
 * builds without BLAS headers and the app still runs where no BLAS is installed (the XNNPACK path remains).
 * Every offset is bounds-checked against the buffer before the product runs.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
typedef HMODULE lib_handle;
static lib_handle open_library(const char* path) { return LoadLibraryA(path); }
static void* find_symbol(lib_handle lib, const char* name) { return (void*)GetProcAddress(lib, name); }
static void set_env(const char* name, const char* value) { _putenv_s(name, value); }
#else
#include <dlfcn.h>
typedef void* lib_handle;
static lib_handle open_library(const char* path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }
static void* find_symbol(lib_handle lib, const char* name) { return dlsym(lib, name); }
static void set_env(const char* name, const char* value) { setenv(name, value, 0); /* a user's own setting wins */ }
#endif

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                         const float* b, int ldb, float beta, float* c, int ldc);
typedef void (*set_threads_fn)(int);
typedef char* (*get_config_fn)(void);

static sgemm_fn sgemm = NULL;
static set_threads_fn set_threads = NULL;
static char library_path[1024] = "";
static char library_config[256] = "";

static napi_value throw_error(napi_env env, const char* message) {
  napi_throw_error(env, "USFM_BLAS", message);
  return NULL;
}

static int get_int(napi_env env, napi_value value, int64_t* out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || d != d || d < -9007199254740991.0 || d > 9007199254740991.0) return 0;
  *out = (int64_t)d;
  return (double)*out == d;
}

static napi_value make_string(napi_env env, const char* s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* load(path: string, threads: number): { library, config } — opens a BLAS library exporting cblas_sgemm. */
static napi_value load(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc < 2) return throw_error(env, "load(path, threads) needs two arguments");
  char path[1024];
  size_t length = 0;
  if (napi_get_value_string_utf8(env, args[0], path, sizeof path, &length) != napi_ok || length == 0 || length >= sizeof path - 1)
    return throw_error(env, "load: the library path must be a non-empty string");
  int64_t threads = 0;
  if (!get_int(env, args[1], &threads) || threads < 1 || threads > 256) return throw_error(env, "load: threads must be an integer in 1..256");
  if (sgemm != NULL) return throw_error(env, "load: a BLAS library is already loaded");

  /* OpenBLAS starts its thread pool when it is opened: size it before, not after. */
  char count[16];
  snprintf(count, sizeof count, "%d", (int)threads);
  set_env("OPENBLAS_NUM_THREADS", count);

  lib_handle lib = open_library(path);
  if (lib == NULL) {
    char message[1200];
    snprintf(message, sizeof message, "cannot open %s", path);
    return throw_error(env, message);
  }
  sgemm_fn found = (sgemm_fn)find_symbol(lib, "cblas_sgemm");
  if (found == NULL) return throw_error(env, "the library has no cblas_sgemm");
  set_threads_fn threads_fn = (set_threads_fn)find_symbol(lib, "openblas_set_num_threads");
  if (threads_fn == NULL) threads_fn = (set_threads_fn)find_symbol(lib, "MKL_Set_Num_Threads");
  if (threads_fn == NULL) threads_fn = (set_threads_fn)find_symbol(lib, "bli_thread_set_num_threads");
  get_config_fn config_fn = (get_config_fn)find_symbol(lib, "openblas_get_config");
  library_config[0] = '\0';
  if (config_fn != NULL) {
    const char* config = config_fn();
    if (config != NULL) snprintf(library_config, sizeof library_config, "%s", config);
  }
  snprintf(library_path, sizeof library_path, "%s", path);
  sgemm = found;
  set_threads = threads_fn;
  if (set_threads != NULL) set_threads((int)threads);

  napi_value result;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "library", make_string(env, library_path));
  napi_set_named_property(env, result, "config", make_string(env, library_config));
  napi_value has_threads;
  napi_get_boolean(env, set_threads != NULL, &has_threads);
  napi_set_named_property(env, result, "threadControl", has_threads);
  return result;
}

/* setThreads(n): false when the library offers no thread control. */
static napi_value set_thread_count(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int64_t threads = 0;
  if (argc < 1 || !get_int(env, args[0], &threads) || threads < 1 || threads > 256) return throw_error(env, "setThreads: an integer in 1..256");
  napi_value result;
  napi_get_boolean(env, set_threads != NULL, &result);
  if (set_threads != NULL) set_threads((int)threads);
  return result;
}

/* Does [offset, offset + ((batch-1)·stride + rows·cols)·4) lie inside a buffer of `length` bytes? */
static int fits(int64_t offset, int64_t batch, int64_t stride, int64_t rows, int64_t cols, size_t length) {
  if (offset < 0 || offset % 4 != 0 || stride < 0) return 0;
  int64_t last = offset + ((batch - 1) * stride + rows * cols) * 4;
  return last <= (int64_t)length;
}

/*
 * sgemm(memory, batch, m, n, k, transA, transB, aOffset, aStride, bOffset, bStride, cOffset, cStride, biasOffset)
 * For i < batch: C_i = op(A_i)·op(B_i) (+ bias broadcast over rows), row-major, offsets in bytes, strides in
 * floats between consecutive matrices (0: the same matrix for every i), biasOffset < 0 for no bias.
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value args[14];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc < 14) return throw_error(env, "sgemm needs 14 arguments");
  if (sgemm == NULL) return throw_error(env, "sgemm: no BLAS library loaded");
  void* data = NULL;
  size_t length = 0;
  if (napi_get_arraybuffer_info(env, args[0], &data, &length) != napi_ok || data == NULL)
    return throw_error(env, "sgemm: the memory must be an ArrayBuffer");
  int64_t v[13];
  for (int i = 0; i < 13; i++)
    if (!get_int(env, args[i + 1], &v[i])) return throw_error(env, "sgemm: every size, flag and offset must be an integer");
  int64_t batch = v[0], m = v[1], n = v[2], k = v[3];
  int trans_a = v[4] != 0, trans_b = v[5] != 0;
  int64_t a_off = v[6], a_stride = v[7], b_off = v[8], b_stride = v[9], c_off = v[10], c_stride = v[11], bias_off = v[12];
  const int64_t limit = 2147483647;
  if (batch < 1 || m < 1 || n < 1 || k < 1 || m > limit || n > limit || k > limit) return throw_error(env, "sgemm: sizes must be positive");
  if (!fits(a_off, batch, a_stride, m, k, length)) return throw_error(env, "sgemm: operand A lies outside the memory");
  if (!fits(b_off, batch, b_stride, k, n, length)) return throw_error(env, "sgemm: operand B lies outside the memory");
  if (!fits(c_off, batch, c_stride, m, n, length) || (batch > 1 && c_stride < m * n)) return throw_error(env, "sgemm: the output lies outside the memory or overlaps itself");
  if (bias_off >= 0 && !fits(bias_off, 1, 0, 1, n, length)) return throw_error(env, "sgemm: the bias lies outside the memory");

  char* base = (char*)data;
  const float* bias = bias_off >= 0 ? (const float*)(base + bias_off) : NULL;
  for (int64_t i = 0; i < batch; i++) {
    const float* a = (const float*)(base + a_off) + i * a_stride;
    const float* b = (const float*)(base + b_off) + i * b_stride;
    float* c = (float*)(base + c_off) + i * c_stride;
    if (bias != NULL)
      for (int64_t r = 0; r < m; r++) memcpy(c + r * n, bias, (size_t)n * sizeof(float));
    sgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, (int)m, (int)n, (int)k, 1.0f, a, trans_a ? (int)m : (int)k, b,
          trans_b ? (int)k : (int)n, bias != NULL ? 1.0f : 0.0f, c, (int)n);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"load", NULL, load, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_thread_count, NULL, NULL, NULL, napi_default, NULL},
      {"sgemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
