/*
 * Native C baseline for the binding's per-run overhead (docs/benchmarks.md, "Binding per-run overhead").
 *
 * Loads libonnxruntime.so.1 with dlopen, takes the OrtApi table from OrtGetApiBase()->GetApi(15) (the version the binding
 * requests) and calls its functions by slot index, with no ONNX Runtime header: line N of
 * src/MLNetTransformers.OnnxRuntime/Native/ortapi_v30_names.txt is slot N-1. It builds the same session the C# benchmarks
 * build (model file written by `MLNetTransformers.Benchmarks --write-model PATH`: y = x + c, float[1,4]; one intra-op
 * thread), checks the result once, then times, like the C# quick mode (warm-up of at least 0.5 s and 20000 runs per case,
 * then ROUNDS rounds of ITERATIONS runs interleaved across the cases, best and median round reported in ns/run):
 *   - Run with the output allocated by ONNX Runtime, released each iteration (what InferenceSession.Run does);
 *   - Run into a preallocated output tensor;
 *   - RunWithBinding with the input and output bound once.
 *
 * usage: run_overhead LIBONNXRUNTIME MODEL.onnx [ITERATIONS=200000] [ROUNDS=5]
 */
#define _POSIX_C_SOURCE 199309L
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 0-based OrtApi slots. */
enum {
    SLOT_GET_ERROR_MESSAGE = 2,
    SLOT_CREATE_ENV = 3,
    SLOT_CREATE_SESSION = 7,
    SLOT_RUN = 9,
    SLOT_CREATE_SESSION_OPTIONS = 10,
    SLOT_SET_INTRA_OP_NUM_THREADS = 24,
    SLOT_CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE = 49,
    SLOT_CREATE_CPU_MEMORY_INFO = 69,
    SLOT_RELEASE_ENV = 92,
    SLOT_RELEASE_STATUS = 93,
    SLOT_RELEASE_MEMORY_INFO = 94,
    SLOT_RELEASE_SESSION = 95,
    SLOT_RELEASE_VALUE = 96,
    SLOT_RELEASE_SESSION_OPTIONS = 100,
    SLOT_RUN_WITH_BINDING = 133,
    SLOT_CREATE_IO_BINDING = 134,
    SLOT_RELEASE_IO_BINDING = 135,
    SLOT_BIND_INPUT = 136,
    SLOT_BIND_OUTPUT = 137,
    SLOT_COUNT_V15 = 255, /* GetBuildInfoString (slot 254) is the last function of API version 15 */
};

typedef struct OrtStatus OrtStatus;
typedef struct {
    const void *(*GetApi)(uint32_t version);
    const char *(*GetVersionString)(void);
} OrtApiBase;

typedef const char *(*GetErrorMessageFn)(const OrtStatus *);
typedef void (*ReleaseFn)(void *);
typedef OrtStatus *(*CreateEnvFn)(int level, const char *logid, void **out);
typedef OrtStatus *(*CreateSessionOptionsFn)(void **out);
typedef OrtStatus *(*SetIntraOpNumThreadsFn)(void *options, int threads);
typedef OrtStatus *(*CreateSessionFn)(const void *env, const char *path, const void *options, void **out);
typedef OrtStatus *(*CreateCpuMemoryInfoFn)(int allocator_type, int mem_type, void **out);
typedef OrtStatus *(*CreateTensorWithDataAsOrtValueFn)(const void *info, void *data, size_t bytes, const int64_t *shape,
                                                       size_t shape_len, int type, void **out);
typedef OrtStatus *(*RunFn)(void *session, const void *run_options, const char *const *input_names,
                            const void *const *inputs, size_t input_len, const char *const *output_names,
                            size_t output_names_len, void **outputs);
typedef OrtStatus *(*CreateIoBindingFn)(void *session, void **out);
typedef OrtStatus *(*BindFn)(void *binding, const char *name, const void *value);
typedef OrtStatus *(*RunWithBindingFn)(void *session, const void *run_options, const void *binding);

static void *const *api;

static void check(OrtStatus *status, const char *what) {
    if (status != NULL) {
        fprintf(stderr, "%s failed: %s\n", what, ((GetErrorMessageFn)api[SLOT_GET_ERROR_MESSAGE])(status));
        ((ReleaseFn)api[SLOT_RELEASE_STATUS])(status);
        exit(1);
    }
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The state every case uses. */
static RunFn run;
static RunWithBindingFn run_with_binding;
static ReleaseFn release_value;
static void *session, *input, *output, *binding;
static const char *input_names[] = {"x"};
static const char *output_names[] = {"y"};

static void run_allocating(void) {
    void *out = NULL;
    check(run(session, NULL, input_names, (const void *const *)&input, 1, output_names, 1, &out), "Run");
    release_value(out);
}

static void run_preallocated(void) {
    void *out = output;
    check(run(session, NULL, input_names, (const void *const *)&input, 1, output_names, 1, &out), "Run");
}

static void run_binding(void) { check(run_with_binding(session, NULL, binding), "RunWithBinding"); }

typedef struct {
    const char *name;
    void (*body)(void);
} Case;

static void warm_up(void (*body)(void)) {
    double start = now_ns();
    long runs = 0;
    while (now_ns() - start < 0.5e9 || runs < 20000) {
        body();
        runs++;
    }
}

/* Rounds are interleaved across the cases, so that whatever else the machine does weighs on every case alike. */
static void measure(const Case *cases, int count, long iterations, int rounds) {
    for (int c = 0; c < count; c++) {
        warm_up(cases[c].body);
    }

    double *per_run = malloc(sizeof(double) * (size_t)rounds * (size_t)count);
    for (int r = 0; r < rounds; r++) {
        for (int c = 0; c < count; c++) {
            void (*body)(void) = cases[c].body;
            double t0 = now_ns();
            for (long i = 0; i < iterations; i++) {
                body();
            }
            per_run[c * rounds + r] = (now_ns() - t0) / (double)iterations;
        }
    }

    for (int c = 0; c < count; c++) {
        double *times = per_run + c * rounds;
        qsort(times, (size_t)rounds, sizeof(double), compare_doubles);
        double median = rounds % 2 ? times[rounds / 2] : (times[rounds / 2 - 1] + times[rounds / 2]) / 2;
        printf("%-44s %12.1f %14.1f\n", cases[c].name, times[0], median);
    }
    free(per_run);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIBONNXRUNTIME MODEL.onnx [ITERATIONS=200000] [ROUNDS=5]\n", argv[0]);
        return 2;
    }

    long iterations = argc > 3 ? atol(argv[3]) : 200000;
    int rounds = argc > 4 ? atoi(argv[4]) : 5;
    if (iterations < 1 || rounds < 1) {
        fprintf(stderr, "ITERATIONS and ROUNDS must be >= 1\n");
        return 2;
    }

    void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        fprintf(stderr, "dlopen(%s): %s\n", argv[1], dlerror());
        return 1;
    }

    const OrtApiBase *(*get_api_base)(void) = (const OrtApiBase *(*)(void))dlsym(library, "OrtGetApiBase");
    if (get_api_base == NULL) {
        fprintf(stderr, "%s exports no OrtGetApiBase\n", argv[1]);
        return 1;
    }

    const OrtApiBase *base = get_api_base();
    api = (void *const *)base->GetApi(15);
    if (api == NULL) {
        fprintf(stderr, "GetApi(15) returned NULL\n");
        return 1;
    }
    for (int slot = 0; slot < SLOT_COUNT_V15; slot++) {
        if (api[slot] == NULL) {
            fprintf(stderr, "OrtApi slot %d is NULL: not the table layout this program expects\n", slot);
            return 1;
        }
    }

    run = (RunFn)api[SLOT_RUN];
    run_with_binding = (RunWithBindingFn)api[SLOT_RUN_WITH_BINDING];
    release_value = (ReleaseFn)api[SLOT_RELEASE_VALUE];

    void *env, *options, *memory_info;
    check(((CreateEnvFn)api[SLOT_CREATE_ENV])(3 /* ORT_LOGGING_LEVEL_ERROR */, "native-baseline", &env), "CreateEnv");
    check(((CreateSessionOptionsFn)api[SLOT_CREATE_SESSION_OPTIONS])(&options), "CreateSessionOptions");
    check(((SetIntraOpNumThreadsFn)api[SLOT_SET_INTRA_OP_NUM_THREADS])(options, 1), "SetIntraOpNumThreads");
    check(((CreateSessionFn)api[SLOT_CREATE_SESSION])(env, argv[2], options, &session), "CreateSession");
    check(((CreateCpuMemoryInfoFn)api[SLOT_CREATE_CPU_MEMORY_INFO])(1 /* OrtArenaAllocator */, 0 /* OrtMemTypeDefault */,
                                                                    &memory_info),
          "CreateCpuMemoryInfo");

    static float x[4] = {1, 2, 3, 4};
    static float y[4];
    static const float expected[4] = {11, 22, 33, 44}; /* x + c, c = {10, 20, 30, 40} */
    const int64_t shape[2] = {1, 4};
    CreateTensorWithDataAsOrtValueFn create_tensor = (CreateTensorWithDataAsOrtValueFn)api[SLOT_CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE];
    check(create_tensor(memory_info, x, sizeof x, shape, 2, 1 /* float */, &input), "CreateTensorWithDataAsOrtValue(x)");
    check(create_tensor(memory_info, y, sizeof y, shape, 2, 1 /* float */, &output), "CreateTensorWithDataAsOrtValue(y)");
    check(((CreateIoBindingFn)api[SLOT_CREATE_IO_BINDING])(session, &binding), "CreateIoBinding");
    check(((BindFn)api[SLOT_BIND_INPUT])(binding, "x", input), "BindInput");
    check(((BindFn)api[SLOT_BIND_OUTPUT])(binding, "y", output), "BindOutput");

    /* Check the result once through each path that writes into y. */
    run_allocating();
    run_preallocated();
    if (memcmp(y, expected, sizeof y) != 0) {
        fprintf(stderr, "Run wrote %g %g %g %g, expected 11 22 33 44\n", y[0], y[1], y[2], y[3]);
        return 1;
    }
    memset(y, 0, sizeof y);
    run_binding();
    if (memcmp(y, expected, sizeof y) != 0) {
        fprintf(stderr, "RunWithBinding wrote %g %g %g %g, expected 11 22 33 44\n", y[0], y[1], y[2], y[3]);
        return 1;
    }

    printf("ONNX Runtime %s (%s), C API version 15 by slot index\n", base->GetVersionString(), argv[1]);
    printf("graph: y = x + c, float[1,4], IntraOpNumThreads = 1; %d rounds x %ld runs per case after warm-up, interleaved\n\n", rounds,
           iterations);
    printf("%-44s %12s %14s\n", "case", "best ns/run", "median ns/run");
    const Case cases[] = {
        {"native C: Run + ReleaseValue", run_allocating},
        {"native C: Run preallocated", run_preallocated},
        {"native C: RunWithBinding", run_binding},
    };
    measure(cases, (int)(sizeof cases / sizeof cases[0]), iterations, rounds);

    ((ReleaseFn)api[SLOT_RELEASE_IO_BINDING])(binding);
    release_value(input);
    release_value(output);
    ((ReleaseFn)api[SLOT_RELEASE_MEMORY_INFO])(memory_info);
    ((ReleaseFn)api[SLOT_RELEASE_SESSION])(session);
    ((ReleaseFn)api[SLOT_RELEASE_SESSION_OPTIONS])(options);
    ((ReleaseFn)api[SLOT_RELEASE_ENV])(env);
    return 0;
}
