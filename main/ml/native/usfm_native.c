/*
 * usfm_native: native kernels on TensorFlow.js' WASM heap. Matrix products through a BLAS library, and
 * the fused element-wise kernels that dominate a ViT training step once the products are fast (GELU and
 * LayerNorm, forward and backward: one pass each instead of 6-10 tfjs kernel passes; column sums; AdamW).
 *
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
#include <math.h>
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
 * Reads a kernel's arguments: the memory (an ArrayBuffer), then `ints` integers (sizes, offsets, flags), then
 * `reals` numbers (constants). Returns the memory, or NULL with an exception naming `kernel` pending.
 */
static char* kernel_args(napi_env env, napi_callback_info info, const char* kernel, size_t ints, int64_t* int_values, size_t reals,
                         double* real_values, size_t* length) {
  napi_value args[24];
  size_t argc = 24;
  char message[160];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc < 1 + ints + reals) {
    snprintf(message, sizeof message, "%s needs %d arguments", kernel, (int)(1 + ints + reals));
    throw_error(env, message);
    return NULL;
  }
  void* data = NULL;
  if (napi_get_arraybuffer_info(env, args[0], &data, length) != napi_ok || data == NULL) {
    snprintf(message, sizeof message, "%s: the memory must be an ArrayBuffer", kernel);
    throw_error(env, message);
    return NULL;
  }
  for (size_t i = 0; i < ints; i++)
    if (!get_int(env, args[1 + i], &int_values[i])) {
      snprintf(message, sizeof message, "%s: every size, flag and offset must be an integer", kernel);
      throw_error(env, message);
      return NULL;
    }
  for (size_t i = 0; i < reals; i++)
    if (napi_get_value_double(env, args[1 + ints + i], &real_values[i]) != napi_ok) {
      snprintf(message, sizeof message, "%s: every constant must be a number", kernel);
      throw_error(env, message);
      return NULL;
    }
  return (char*)data;
}

/*
 * sgemm(memory, batch, m, n, k, transA, transB, aOffset, aStride, bOffset, bStride, cOffset, cStride, biasOffset)
 * For i < batch: C_i = op(A_i)·op(B_i) (+ bias broadcast over rows), row-major, offsets in bytes, strides in
 * floats between consecutive matrices (0: the same matrix for every i), biasOffset < 0 for no bias.
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  if (sgemm == NULL) return throw_error(env, "sgemm: no BLAS library loaded");
  int64_t v[13];
  size_t length = 0;
  char* base = kernel_args(env, info, "sgemm", 13, v, 0, NULL, &length);
  if (base == NULL) return NULL;
  int64_t batch = v[0], m = v[1], n = v[2], k = v[3];
  int trans_a = v[4] != 0, trans_b = v[5] != 0;
  int64_t a_off = v[6], a_stride = v[7], b_off = v[8], b_stride = v[9], c_off = v[10], c_stride = v[11], bias_off = v[12];
  const int64_t limit = 2147483647;
  if (batch < 1 || m < 1 || n < 1 || k < 1 || m > limit || n > limit || k > limit) return throw_error(env, "sgemm: sizes must be positive");
  if (!fits(a_off, batch, a_stride, m, k, length)) return throw_error(env, "sgemm: operand A lies outside the memory");
  if (!fits(b_off, batch, b_stride, k, n, length)) return throw_error(env, "sgemm: operand B lies outside the memory");
  if (!fits(c_off, batch, c_stride, m, n, length) || (batch > 1 && c_stride < m * n)) return throw_error(env, "sgemm: the output lies outside the memory or overlaps itself");
  if (bias_off >= 0 && !fits(bias_off, 1, 0, 1, n, length)) return throw_error(env, "sgemm: the bias lies outside the memory");

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


/* ---- element-wise kernels ------------------------------------------------------------------------ */

#ifdef _MSC_VER
#define RESTRICT __restrict
#else
#define RESTRICT restrict
#endif

/* Loops that the compiler vectorises; on x86-64 Linux a second AVX2+FMA version is chosen at load time. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VECTOR_LOOP __attribute__((target_clones("avx2,fma", "default")))
#else
#define VECTOR_LOOP
#endif

/* e^x in single precision (Cephes' expf: relative error ~1e-7), branch-free so that loops vectorise. */
static inline float exp_approx(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float t = x * 1.44269504088896341f;
  const float n = (t + 12582912.0f) - 12582912.0f; /* round to nearest without a libm call */
  const float r = x - n * 0.693359375f - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  union { int32_t i; float f; } scale;
  scale.i = ((int32_t)n + 127) << 23;
  return p * scale.f;
}

/* erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7), the formula TensorFlow.js' Erf uses. */
static inline float erf_approx(float x) {
  const float a = fabsf(x);
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
  return copysignf(1.0f - poly * exp_approx(-a * a), x);
}

/* GELU(x) = x·Φ(x), Φ(x) = ½(1 + erf(x/√2)); Φ is kept for the backward pass. */
VECTOR_LOOP static void gelu_forward(const float* x, float* y, float* cdf, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float c = 0.5f * (1.0f + erf_approx(x[i] * 0.70710678118654752f));
    cdf[i] = c;
    y[i] = x[i] * c;
  }
}

/* dGELU/dx = Φ(x) + x·φ(x), φ(x) = e^{-x²/2}/√(2π). */
VECTOR_LOOP static void gelu_backward(const float* x, const float* cdf, const float* dy, float* dx, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float pdf = 0.39894228040143268f * exp_approx(-0.5f * x[i] * x[i]);
    dx[i] = dy[i] * (cdf[i] + x[i] * pdf);
  }
}

/* Row-wise LayerNorm of x [m, d]: y = x̂·w + b with x̂ = (x - mean)·rstd; row statistics in double. */
VECTOR_LOOP static void layer_norm_forward(const float* x, const float* w, const float* b, float* y, float* xhat, float* rstd, int64_t m,
                                           int64_t d, float eps) {
  for (int64_t r = 0; r < m; r++) {
    const float* xr = x + r * d;
    double sum = 0.0;
    for (int64_t j = 0; j < d; j++) sum += xr[j];
    const float mean = (float)(sum / (double)d);
    double squares = 0.0;
    for (int64_t j = 0; j < d; j++) {
      const double c = (double)(xr[j] - mean);
      squares += c * c;
    }
    const float rs = (float)(1.0 / sqrt(squares / (double)d + (double)eps));
    rstd[r] = rs;
    float* hr = xhat + r * d;
    float* yr = y + r * d;
    for (int64_t j = 0; j < d; j++) {
      const float h = (xr[j] - mean) * rs;
      hr[j] = h;
      yr[j] = h * w[j] + b[j];
    }
  }
}

/* Its gradient: dx = rstd·(g·w - mean(g·w) - x̂·mean(g·w·x̂)), dw = Σ g·x̂, db = Σ g (over rows). */
VECTOR_LOOP static void layer_norm_backward(const float* g, const float* xhat, const float* rstd, const float* w, float* dx, float* dw, float* db,
                                            int64_t m, int64_t d) {
  memset(dw, 0, (size_t)d * sizeof(float));
  memset(db, 0, (size_t)d * sizeof(float));
  for (int64_t r = 0; r < m; r++) {
    const float* gr = g + r * d;
    const float* hr = xhat + r * d;
    double sum_gw = 0.0, sum_gwh = 0.0;
    for (int64_t j = 0; j < d; j++) {
      const float gw = gr[j] * w[j];
      sum_gw += gw;
      sum_gwh += (double)gw * hr[j];
    }
    const float mean_gw = (float)(sum_gw / (double)d);
    const float mean_gwh = (float)(sum_gwh / (double)d);
    const float rs = rstd[r];
    float* dxr = dx + r * d;
    for (int64_t j = 0; j < d; j++) {
      dxr[j] = rs * (gr[j] * w[j] - mean_gw - hr[j] * mean_gwh);
      dw[j] += gr[j] * hr[j];
      db[j] += gr[j];
    }
  }
}

/* Column sums of x [m, n] (a reduction over leading axes), accumulated in double: out[j] = Σ_r x[r, j]. */
VECTOR_LOOP static int column_sum(const float* x, float* out, int64_t m, int64_t n) {
  double* acc = calloc((size_t)n, sizeof(double));
  if (acc == NULL) return 0;
  for (int64_t r = 0; r < m; r++) {
    const float* row = x + r * n;
    for (int64_t j = 0; j < n; j++) acc[j] += row[j];
  }
  for (int64_t j = 0; j < n; j++) out[j] = (float)acc[j];
  free(acc);
  return 1;
}

/* AdamW, as main/ml/train/adamw.ts composes it: m' = m·b1 + g·c1, v' = v·b2 + g²·c2,
   p' = p·decay - m'·step / (√v'·inv_sqrt_bc2 + eps). New outputs: tensors are never updated in place. */
/* restrict: the outputs are fresh tensors, and without it there are too many pairs to check for overlap. */
VECTOR_LOOP static void adamw_update(const float* RESTRICT p, const float* RESTRICT m, const float* RESTRICT v, const float* RESTRICT g,
                                     float* RESTRICT p_out, float* RESTRICT m_out, float* RESTRICT v_out, int64_t n, const float* RESTRICT k) {
  const float b1 = k[0], c1 = k[1], b2 = k[2], c2 = k[3], step = k[4], inv_sqrt_bc2 = k[5], eps = k[6], decay = k[7];
  for (int64_t i = 0; i < n; i++) {
    const float mn = m[i] * b1 + g[i] * c1;
    const float vn = v[i] * b2 + (g[i] * g[i]) * c2;
    m_out[i] = mn;
    v_out[i] = vn;
    p_out[i] = p[i] * decay - (mn * step) / (sqrtf(vn) * inv_sqrt_bc2 + eps);
  }
}

#define REGION(off, count) fits((off), 1, 0, 1, (count), length)

/* geluForward(memory, x, y, cdf, n) */
static napi_value gelu_forward_call(napi_env env, napi_callback_info info) {
  int64_t v[4];
  size_t length;
  char* base = kernel_args(env, info, "geluForward", 4, v, 0, NULL, &length);
  if (base == NULL) return NULL;
  if (v[3] < 1 || !REGION(v[0], v[3]) || !REGION(v[1], v[3]) || !REGION(v[2], v[3])) return throw_error(env, "geluForward: a tensor lies outside the memory");
  gelu_forward((const float*)(base + v[0]), (float*)(base + v[1]), (float*)(base + v[2]), v[3]);
  return NULL;
}

/* geluBackward(memory, x, cdf, dy, dx, n) */
static napi_value gelu_backward_call(napi_env env, napi_callback_info info) {
  int64_t v[5];
  size_t length;
  char* base = kernel_args(env, info, "geluBackward", 5, v, 0, NULL, &length);
  if (base == NULL) return NULL;
  if (v[4] < 1 || !REGION(v[0], v[4]) || !REGION(v[1], v[4]) || !REGION(v[2], v[4]) || !REGION(v[3], v[4]))
    return throw_error(env, "geluBackward: a tensor lies outside the memory");
  gelu_backward((const float*)(base + v[0]), (const float*)(base + v[1]), (const float*)(base + v[2]), (float*)(base + v[3]), v[4]);
  return NULL;
}

/* layerNormForward(memory, x, w, b, y, xhat, rstd, m, d, eps) */
static napi_value layer_norm_forward_call(napi_env env, napi_callback_info info) {
  int64_t v[8];
  size_t length;
  double eps = 0.0;
  char* base = kernel_args(env, info, "layerNormForward", 8, v, 1, &eps, &length);
  if (base == NULL) return NULL;
  if (!(eps > 0.0 && eps < 1.0)) return throw_error(env, "layerNormForward: eps must be a number in (0, 1)");
  const int64_t m = v[6], d = v[7];
  if (m < 1 || d < 1 || !REGION(v[0], m * d) || !REGION(v[1], d) || !REGION(v[2], d) || !REGION(v[3], m * d) || !REGION(v[4], m * d) || !REGION(v[5], m))
    return throw_error(env, "layerNormForward: a tensor lies outside the memory");
  layer_norm_forward((const float*)(base + v[0]), (const float*)(base + v[1]), (const float*)(base + v[2]), (float*)(base + v[3]), (float*)(base + v[4]),
                     (float*)(base + v[5]), m, d, (float)eps);
  return NULL;
}

/* layerNormBackward(memory, g, xhat, rstd, w, dx, dw, db, m, d) */
static napi_value layer_norm_backward_call(napi_env env, napi_callback_info info) {
  int64_t v[9];
  size_t length;
  char* base = kernel_args(env, info, "layerNormBackward", 9, v, 0, NULL, &length);
  if (base == NULL) return NULL;
  const int64_t m = v[7], d = v[8];
  if (m < 1 || d < 1 || !REGION(v[0], m * d) || !REGION(v[1], m * d) || !REGION(v[2], m) || !REGION(v[3], d) || !REGION(v[4], m * d) ||
      !REGION(v[5], d) || !REGION(v[6], d))
    return throw_error(env, "layerNormBackward: a tensor lies outside the memory");
  layer_norm_backward((const float*)(base + v[0]), (const float*)(base + v[1]), (const float*)(base + v[2]), (const float*)(base + v[3]),
                      (float*)(base + v[4]), (float*)(base + v[5]), (float*)(base + v[6]), m, d);
  return NULL;
}

/* columnSum(memory, x, out, m, n) */
static napi_value column_sum_call(napi_env env, napi_callback_info info) {
  int64_t v[4];
  size_t length;
  char* base = kernel_args(env, info, "columnSum", 4, v, 0, NULL, &length);
  if (base == NULL) return NULL;
  const int64_t m = v[2], n = v[3];
  if (m < 1 || n < 1 || !REGION(v[0], m * n) || !REGION(v[1], n)) return throw_error(env, "columnSum: a tensor lies outside the memory");
  if (!column_sum((const float*)(base + v[0]), (float*)(base + v[1]), m, n)) return throw_error(env, "columnSum: out of memory");
  return NULL;
}

/* adamw(memory, p, m, v, g, pOut, mOut, vOut, n, b1, c1, b2, c2, step, invSqrtBc2, eps, decay) */
static napi_value adamw_call(napi_env env, napi_callback_info info) {
  int64_t v[8];
  size_t length;
  double reals[8];
  char* base = kernel_args(env, info, "adamw", 8, v, 8, reals, &length);
  if (base == NULL) return NULL;
  float constants[8];
  for (int i = 0; i < 8; i++) {
    if (!(reals[i] == reals[i]) || reals[i] > 3.4e38 || reals[i] < -3.4e38) return throw_error(env, "adamw: every constant must be a finite number");
    constants[i] = (float)reals[i];
  }
  const int64_t n = v[7];
  for (int i = 0; i < 7; i++)
    if (n < 1 || !REGION(v[i], n)) return throw_error(env, "adamw: a tensor lies outside the memory");
  adamw_update((const float*)(base + v[0]), (const float*)(base + v[1]), (const float*)(base + v[2]), (const float*)(base + v[3]), (float*)(base + v[4]),
               (float*)(base + v[5]), (float*)(base + v[6]), n, constants);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"load", NULL, load, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_thread_count, NULL, NULL, NULL, napi_default, NULL},
      {"sgemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
      {"geluForward", NULL, gelu_forward_call, NULL, NULL, NULL, napi_default, NULL},
      {"geluBackward", NULL, gelu_backward_call, NULL, NULL, NULL, napi_default, NULL},
      {"layerNormForward", NULL, layer_norm_forward_call, NULL, NULL, NULL, napi_default, NULL},
      {"layerNormBackward", NULL, layer_norm_backward_call, NULL, NULL, NULL, napi_default, NULL},
      {"columnSum", NULL, column_sum_call, NULL, NULL, NULL, napi_default, NULL},
      {"adamw", NULL, adamw_call, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
