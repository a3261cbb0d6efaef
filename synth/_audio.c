/* The real-time side of live playback: a ring of audio blocks in C memory and a sound-card callback
 * that only copies blocks out of it.
 *
 * One producer (the render thread, Python) fills blocks and publishes them; one consumer (the audio
 * callback, C) copies them into the device's buffer, or writes silence and counts an underrun when
 * none is ready. The two sides share only C11 atomics: the callback never takes the interpreter
 * lock, never allocates, never blocks, and runs no Python, so a busy machine that delays the Python
 * threads cannot delay it.
 *
 * PortAudio is loaded at run time (dlopen), the same library sounddevice uses, so that importing
 * this module, and rendering, need no PortAudio. For tests without a sound card, Ring.consume runs
 * the callback's code once from Python and Ring.start_consumer runs it from a thread of its own at
 * a steady period, as a card would.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>

/* Per-callback and per-block timings kept for reports: 2**16 entries, 5.8 minutes of 256-frame
 * blocks at 48 kHz; later entries overwrite the oldest. Keep in step with synth/live.py. */
#define TIMING_SLOTS (1 << 16)
#define UNDERRUN_SLOTS 64 /* device underruns whose frame is kept */

static PyObject *AudioError;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock of time.perf_counter_ns on Linux; vDSO, no syscall */
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* --- the ring ------------------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    float *data; /* n_blocks x n_frames x n_channels, interleaved */
    Py_ssize_t n_blocks, n_frames, n_channels;
    Py_ssize_t shape[3], strides[3];

    /* Written by the producer only. */
    _Atomic uint64_t written; /* blocks published */
    _Atomic int finished;     /* no block will follow the ones published */

    /* Written by the consumer only. */
    _Atomic uint64_t read; /* blocks copied out completely */
    uint64_t pos;          /* frames of block `read` already copied (a device may ask for any count) */
    _Atomic uint64_t frames_played; /* frames copied out of the ring */
    _Atomic uint64_t frames_out;    /* frames given to the device, silence included */
    _Atomic uint64_t empty_calls;   /* callbacks that found too little audio while more was to come */
    _Atomic uint64_t device_underruns; /* callbacks the device flagged as having run dry */
    uint64_t underrun_frames[UNDERRUN_SLOTS]; /* frames_out when each of the first device underruns came */
    _Atomic uint64_t callbacks;
    _Atomic int drained; /* the producer finished and every block was played */
    /* The audio clock: (frames_played, time) at the last callback's entry, under a sequence lock. */
    _Atomic uint32_t clock_seq;
    _Atomic uint64_t clock_frame;
    _Atomic int64_t clock_ns;
    int64_t *callback_ns; /* each callback's own duration */
    int64_t *block_ns;    /* when each block began to be copied out */
    float *first_sample;  /* each block's first sample as copied out (tests check the order with it) */

    /* The test consumer thread. */
    pthread_t thread;
    int thread_started;
    _Atomic int thread_run;
    int64_t thread_period_ns;
    Py_ssize_t thread_frames;
    float *scratch;
} Ring;

/* `underflows`: how many times the device said it ran dry since the last call (PortAudio's flag, or
 * the JACK server's xruns), each counted as a device underrun at this point of the stream. */
static void consume(Ring *r, float *out, uint64_t frames, unsigned underflows)
{
    const int64_t t0 = now_ns();
    const uint64_t ch = (uint64_t)r->n_channels, block_frames = (uint64_t)r->n_frames;
    uint64_t rd = atomic_load_explicit(&r->read, memory_order_relaxed);
    uint64_t w = atomic_load_explicit(&r->written, memory_order_acquire);
    uint64_t played = atomic_load_explicit(&r->frames_played, memory_order_relaxed);
    uint64_t done = 0;

    for (; underflows > 0; underflows--) {
        uint64_t k = atomic_load_explicit(&r->device_underruns, memory_order_relaxed); /* one consumer */
        if (k < UNDERRUN_SLOTS)
            r->underrun_frames[k] = atomic_load_explicit(&r->frames_out, memory_order_relaxed);
        atomic_store_explicit(&r->device_underruns, k + 1, memory_order_release);
    }
    uint32_t seq = atomic_load_explicit(&r->clock_seq, memory_order_relaxed);
    atomic_store_explicit(&r->clock_seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&r->clock_frame, played, memory_order_relaxed);
    atomic_store_explicit(&r->clock_ns, t0, memory_order_relaxed);
    atomic_store_explicit(&r->clock_seq, seq + 2, memory_order_release);

    while (done < frames) {
        if (rd == w) {
            w = atomic_load_explicit(&r->written, memory_order_acquire);
            if (rd == w)
                break;
        }
        const float *block = r->data + (rd % (uint64_t)r->n_blocks) * block_frames * ch;
        if (r->pos == 0) {
            r->block_ns[rd % TIMING_SLOTS] = t0;
            r->first_sample[rd % TIMING_SLOTS] = block[0];
        }
        uint64_t k = frames - done;
        if (k > block_frames - r->pos)
            k = block_frames - r->pos;
        memcpy(out + done * ch, block + r->pos * ch, (size_t)(k * ch) * sizeof(float));
        done += k;
        r->pos += k;
        if (r->pos == block_frames) {
            r->pos = 0;
            rd++;
            atomic_store_explicit(&r->read, rd, memory_order_release); /* the slot is the producer's again */
        }
    }
    if (done < frames) {
        memset(out + done * ch, 0, (size_t)((frames - done) * ch) * sizeof(float));
        if (!atomic_load_explicit(&r->finished, memory_order_acquire))
            atomic_fetch_add_explicit(&r->empty_calls, 1, memory_order_relaxed);
        else if (rd == atomic_load_explicit(&r->written, memory_order_acquire))
            atomic_store_explicit(&r->drained, 1, memory_order_release);
    }
    atomic_store_explicit(&r->frames_played, played + done, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->frames_out, frames, memory_order_relaxed);
    uint64_t n = atomic_load_explicit(&r->callbacks, memory_order_relaxed);
    r->callback_ns[n % TIMING_SLOTS] = now_ns() - t0;
    atomic_store_explicit(&r->callbacks, n + 1, memory_order_release);
}

static void *consumer_thread(void *arg)
{
    Ring *r = (Ring *)arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (atomic_load_explicit(&r->thread_run, memory_order_acquire)) {
        consume(r, r->scratch, (uint64_t)r->thread_frames, 0);
        next.tv_nsec += r->thread_period_ns;
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec += 1;
        }
#ifdef __APPLE__ /* no clock_nanosleep: sleep for what is left of the period */
        struct timespec now, left;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t ns = (int64_t)(next.tv_sec - now.tv_sec) * 1000000000LL + (next.tv_nsec - now.tv_nsec);
        if (ns > 0) {
            left.tv_sec = (time_t)(ns / 1000000000LL);
            left.tv_nsec = (long)(ns % 1000000000LL);
            nanosleep(&left, NULL);
        }
#else
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
        }
#endif
    }
    return NULL;
}

static void stop_thread(Ring *r)
{
    if (r->thread_started) {
        atomic_store_explicit(&r->thread_run, 0, memory_order_release);
        pthread_join(r->thread, NULL);
        r->thread_started = 0;
        PyMem_RawFree(r->scratch);
        r->scratch = NULL;
    }
}

static PyObject *Ring_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"n_blocks", "n_frames", "n_channels", NULL};
    Py_ssize_t n_blocks, n_frames, n_channels = 2;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "nn|n", kwlist, &n_blocks, &n_frames, &n_channels))
        return NULL;
    if (n_blocks < 1 || n_frames < 1 || n_channels < 1 || n_channels > 64 ||
        n_blocks > (Py_ssize_t)(1 << 24) / 1 || (double)n_blocks * n_frames * n_channels > 1e9) {
        PyErr_Format(PyExc_ValueError, "a ring needs at least one block of one frame, not %zd x %zd x %zd",
                     n_blocks, n_frames, n_channels);
        return NULL;
    }
    Ring *r = (Ring *)type->tp_alloc(type, 0);
    if (r == NULL)
        return NULL;
    r->n_blocks = n_blocks;
    r->n_frames = n_frames;
    r->n_channels = n_channels;
    r->data = PyMem_RawCalloc((size_t)(n_blocks * n_frames * n_channels), sizeof(float));
    r->callback_ns = PyMem_RawCalloc(TIMING_SLOTS, sizeof(int64_t));
    r->block_ns = PyMem_RawCalloc(TIMING_SLOTS, sizeof(int64_t));
    r->first_sample = PyMem_RawCalloc(TIMING_SLOTS, sizeof(float));
    if (!r->data || !r->callback_ns || !r->block_ns || !r->first_sample) {
        Py_DECREF(r);
        return PyErr_NoMemory();
    }
    /* Touch every page now, and keep it in memory where allowed, so that the callback never waits
     * for the kernel to map a page it reads or stamps (a minor fault can take tens of microseconds
     * on a loaded machine). */
    size_t data_bytes = (size_t)(n_blocks * n_frames * n_channels) * sizeof(float);
    memset(r->data, 0, data_bytes);
    memset(r->callback_ns, 0, TIMING_SLOTS * sizeof(int64_t));
    memset(r->block_ns, 0, TIMING_SLOTS * sizeof(int64_t));
    memset(r->first_sample, 0, TIMING_SLOTS * sizeof(float));
    mlock(r->data, data_bytes);
    mlock(r->callback_ns, TIMING_SLOTS * sizeof(int64_t));
    mlock(r->block_ns, TIMING_SLOTS * sizeof(int64_t));
    mlock(r->first_sample, TIMING_SLOTS * sizeof(float));
    r->shape[0] = n_blocks;
    r->shape[1] = n_frames;
    r->shape[2] = n_channels;
    r->strides[2] = sizeof(float);
    r->strides[1] = n_channels * (Py_ssize_t)sizeof(float);
    r->strides[0] = n_frames * r->strides[1];
    atomic_init(&r->written, 0);
    atomic_init(&r->read, 0);
    atomic_init(&r->finished, 0);
    atomic_init(&r->drained, 0);
    atomic_init(&r->callbacks, 0);
    atomic_init(&r->clock_seq, 0);
    return (PyObject *)r;
}

static void Ring_dealloc(Ring *r)
{
    stop_thread(r); /* the thread holds a reference, so it has stopped already; kept for safety */
    if (r->data != NULL)
        munlock(r->data, (size_t)(r->n_blocks * r->n_frames * r->n_channels) * sizeof(float));
    PyMem_RawFree(r->data);
    PyMem_RawFree(r->callback_ns);
    PyMem_RawFree(r->block_ns);
    PyMem_RawFree(r->first_sample);
    Py_TYPE(r)->tp_free((PyObject *)r);
}

static int Ring_getbuffer(Ring *r, Py_buffer *view, int flags)
{
    view->buf = r->data;
    view->obj = (PyObject *)r;
    Py_INCREF(r);
    view->len = r->n_blocks * r->n_frames * r->n_channels * (Py_ssize_t)sizeof(float);
    view->readonly = 0;
    view->itemsize = sizeof(float);
    view->format = (flags & PyBUF_FORMAT) ? "f" : NULL;
    view->ndim = 3;
    view->shape = (flags & PyBUF_ND) ? r->shape : NULL;
    view->strides = (flags & PyBUF_STRIDES) ? r->strides : NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    return 0;
}

static PyBufferProcs Ring_as_buffer = {(getbufferproc)Ring_getbuffer, NULL};

static uint64_t load_u64(_Atomic uint64_t *a) { return atomic_load_explicit(a, memory_order_acquire); }

static PyObject *Ring_publish(Ring *r, PyObject *Py_UNUSED(ignored))
{
    uint64_t w = atomic_load_explicit(&r->written, memory_order_relaxed);
    if (w - load_u64(&r->read) >= (uint64_t)r->n_blocks) {
        PyErr_SetString(PyExc_RuntimeError, "publish on a full ring");
        return NULL;
    }
    atomic_store_explicit(&r->written, w + 1, memory_order_release);
    Py_RETURN_NONE;
}

static PyObject *Ring_finish(Ring *r, PyObject *Py_UNUSED(ignored))
{
    atomic_store_explicit(&r->finished, 1, memory_order_release);
    Py_RETURN_NONE;
}

static PyObject *Ring_consume(Ring *r, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"out", "underflow", NULL};
    Py_buffer buf;
    int underflow = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "w*|p", kwlist, &buf, &underflow))
        return NULL;
    Py_ssize_t frame_bytes = r->n_channels * (Py_ssize_t)sizeof(float);
    if (!PyBuffer_IsContiguous(&buf, 'C') || buf.len % frame_bytes != 0) {
        PyBuffer_Release(&buf);
        PyErr_SetString(PyExc_ValueError, "consume needs a C-contiguous float32 buffer of whole frames");
        return NULL;
    }
    consume(r, (float *)buf.buf, (uint64_t)(buf.len / frame_bytes), underflow ? 1u : 0u);
    PyBuffer_Release(&buf);
    Py_RETURN_NONE;
}

static PyObject *Ring_start_consumer(Ring *r, PyObject *args)
{
    Py_ssize_t frames;
    double period_s;
    if (!PyArg_ParseTuple(args, "nd", &frames, &period_s))
        return NULL;
    if (r->thread_started) {
        PyErr_SetString(PyExc_RuntimeError, "the consumer thread runs already");
        return NULL;
    }
    if (frames < 1 || period_s <= 0 || period_s > 1.0) {
        PyErr_SetString(PyExc_ValueError, "start_consumer needs frames >= 1 and a period of 0-1 s");
        return NULL;
    }
    r->scratch = PyMem_RawCalloc((size_t)(frames * r->n_channels), sizeof(float));
    if (r->scratch == NULL)
        return PyErr_NoMemory();
    r->thread_frames = frames;
    r->thread_period_ns = (int64_t)(period_s * 1e9);
    atomic_store(&r->thread_run, 1);
    if (pthread_create(&r->thread, NULL, consumer_thread, r) != 0) {
        PyMem_RawFree(r->scratch);
        r->scratch = NULL;
        PyErr_SetString(PyExc_OSError, "cannot start the consumer thread");
        return NULL;
    }
    r->thread_started = 1;
    Py_INCREF(r); /* the ring outlives the thread */
    Py_RETURN_NONE;
}

static PyObject *Ring_stop_consumer(Ring *r, PyObject *Py_UNUSED(ignored))
{
    if (r->thread_started) {
        Py_BEGIN_ALLOW_THREADS
        atomic_store_explicit(&r->thread_run, 0, memory_order_release);
        pthread_join(r->thread, NULL);
        Py_END_ALLOW_THREADS
        r->thread_started = 0;
        PyMem_RawFree(r->scratch);
        r->scratch = NULL;
        Py_DECREF(r);
    }
    Py_RETURN_NONE;
}

static PyObject *Ring_clock(Ring *r, PyObject *Py_UNUSED(ignored))
{
    uint32_t s1, s2;
    uint64_t frame;
    int64_t ns;
    do {
        s1 = atomic_load_explicit(&r->clock_seq, memory_order_acquire);
        frame = atomic_load_explicit(&r->clock_frame, memory_order_relaxed);
        ns = atomic_load_explicit(&r->clock_ns, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        s2 = atomic_load_explicit(&r->clock_seq, memory_order_relaxed);
    } while (s1 != s2 || (s1 & 1));
    if (s1 == 0)
        Py_RETURN_NONE;
    return Py_BuildValue("KL", (unsigned long long)frame, (long long)ns);
}

static PyObject *Ring_callback_times_ns(Ring *r, PyObject *Py_UNUSED(ignored))
{
    uint64_t n = load_u64(&r->callbacks);
    if (n > TIMING_SLOTS)
        n = TIMING_SLOTS;
    return PyBytes_FromStringAndSize((const char *)r->callback_ns, (Py_ssize_t)(n * sizeof(int64_t)));
}

static PyObject *Ring_device_underrun_frames(Ring *r, PyObject *Py_UNUSED(ignored))
{
    uint64_t n = load_u64(&r->device_underruns);
    if (n > UNDERRUN_SLOTS)
        n = UNDERRUN_SLOTS;
    PyObject *t = PyTuple_New((Py_ssize_t)n);
    for (uint64_t k = 0; t != NULL && k < n; k++)
        PyTuple_SET_ITEM(t, (Py_ssize_t)k, PyLong_FromUnsignedLongLong(r->underrun_frames[k]));
    return t;
}

static PyObject *Ring_block_started_ns(Ring *r, PyObject *arg)
{
    unsigned long long k = PyLong_AsUnsignedLongLong(arg);
    if (PyErr_Occurred())
        return NULL;
    return PyLong_FromLongLong(r->block_ns[k % TIMING_SLOTS]);
}

static PyObject *Ring_block_first_sample(Ring *r, PyObject *arg)
{
    unsigned long long k = PyLong_AsUnsignedLongLong(arg);
    if (PyErr_Occurred())
        return NULL;
    return PyFloat_FromDouble(r->first_sample[k % TIMING_SLOTS]);
}

#define U64_GETTER(name, field)                                                                               \
    static PyObject *Ring_get_##name(Ring *r, void *Py_UNUSED(c))                                            \
    {                                                                                                         \
        return PyLong_FromUnsignedLongLong(load_u64(&r->field));                                              \
    }
U64_GETTER(n_written, written)
U64_GETTER(n_read, read)
U64_GETTER(frames_played, frames_played)
U64_GETTER(frames_out, frames_out)
U64_GETTER(empty_blocks, empty_calls)
U64_GETTER(device_underruns, device_underruns)
U64_GETTER(n_callbacks, callbacks)

static PyObject *Ring_get_n_ready(Ring *r, void *Py_UNUSED(c))
{
    uint64_t rd = load_u64(&r->read);
    return PyLong_FromUnsignedLongLong(load_u64(&r->written) - rd);
}

static PyObject *Ring_get_n_free(Ring *r, void *Py_UNUSED(c))
{
    uint64_t rd = load_u64(&r->read);
    return PyLong_FromUnsignedLongLong((uint64_t)r->n_blocks - (load_u64(&r->written) - rd));
}

static PyObject *Ring_get_finished(Ring *r, void *Py_UNUSED(c))
{
    return PyBool_FromLong(atomic_load(&r->finished));
}

static PyObject *Ring_get_drained(Ring *r, void *Py_UNUSED(c))
{
    return PyBool_FromLong(atomic_load(&r->drained));
}

static PyObject *Ring_get_consumer_running(Ring *r, void *Py_UNUSED(c))
{
    return PyBool_FromLong(r->thread_started);
}

static PyGetSetDef Ring_getset[] = {
    {"n_written", (getter)Ring_get_n_written, NULL, "blocks published by the producer", NULL},
    {"n_read", (getter)Ring_get_n_read, NULL, "blocks copied out completely by the consumer", NULL},
    {"n_ready", (getter)Ring_get_n_ready, NULL, "blocks published and not yet copied out", NULL},
    {"n_free", (getter)Ring_get_n_free, NULL, "slots the producer may fill", NULL},
    {"frames_played", (getter)Ring_get_frames_played, NULL, "frames copied out of the ring", NULL},
    {"frames_out", (getter)Ring_get_frames_out, NULL, "frames given to the device, silence included", NULL},
    {"empty_blocks", (getter)Ring_get_empty_blocks, NULL,
     "callbacks that found too little audio before the producer finished (underruns)", NULL},
    {"device_underruns", (getter)Ring_get_device_underruns, NULL, "callbacks the device flagged as late", NULL},
    {"n_callbacks", (getter)Ring_get_n_callbacks, NULL, "callbacks so far", NULL},
    {"finished", (getter)Ring_get_finished, NULL, "the producer said no block follows", NULL},
    {"drained", (getter)Ring_get_drained, NULL, "finished, and every block was played", NULL},
    {"consumer_running", (getter)Ring_get_consumer_running, NULL, "the test consumer thread runs", NULL},
    {NULL}};

static PyMemberDef Ring_members[] = {
    {"n_blocks", T_PYSSIZET, offsetof(Ring, n_blocks), READONLY, "blocks in the ring"},
    {"n_frames", T_PYSSIZET, offsetof(Ring, n_frames), READONLY, "frames per block"},
    {"n_channels", T_PYSSIZET, offsetof(Ring, n_channels), READONLY, "channels per frame"},
    {NULL}};

static PyMethodDef Ring_methods[] = {
    {"publish", (PyCFunction)Ring_publish, METH_NOARGS, "Producer: hand the next slot (filled) to the consumer."},
    {"finish", (PyCFunction)Ring_finish, METH_NOARGS, "Producer: no block follows the ones published."},
    {"consume", (PyCFunction)(void (*)(void))Ring_consume, METH_VARARGS | METH_KEYWORDS,
     "consume(out, underflow=False): run the audio callback's code once into a float32 buffer."},
    {"start_consumer", (PyCFunction)Ring_start_consumer, METH_VARARGS,
     "start_consumer(frames, period_s): a C thread that consumes `frames` every period, as a sound card."},
    {"stop_consumer", (PyCFunction)Ring_stop_consumer, METH_NOARGS, "Stop the consumer thread and wait for it."},
    {"clock", (PyCFunction)Ring_clock, METH_NOARGS,
     "(frames_played, monotonic ns) at the last callback's entry, or None before the first."},
    {"callback_times_ns", (PyCFunction)Ring_callback_times_ns, METH_NOARGS,
     "bytes: int64 durations of the last (up to 65536) callbacks."},
    {"device_underrun_frames", (PyCFunction)Ring_device_underrun_frames, METH_NOARGS,
     "tuple: frames given to the device before each of the first 64 device underruns."},
    {"block_started_ns", (PyCFunction)Ring_block_started_ns, METH_O,
     "monotonic ns at which block k began to be copied out (of the last 65536)."},
    {"block_first_sample", (PyCFunction)Ring_block_first_sample, METH_O,
     "the first sample of block k as the consumer copied it out (of the last 65536)."},
    {NULL}};

static PyTypeObject RingType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "synth._audio.Ring",
    .tp_basicsize = sizeof(Ring),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Ring(n_blocks, n_frames, n_channels=2): float32 audio blocks from one producer to one consumer.",
    .tp_new = Ring_new,
    .tp_dealloc = (destructor)Ring_dealloc,
    .tp_as_buffer = &Ring_as_buffer,
    .tp_methods = Ring_methods,
    .tp_members = Ring_members,
    .tp_getset = Ring_getset,
};

/* --- PortAudio, loaded at run time ------------------------------------------------------------------ */
/* The declarations PortAudio's ABI fixes (portaudio.h, V19), so that no headers are needed to build. */

typedef int PaError;
typedef unsigned long PaSampleFormat;
typedef unsigned long PaStreamCallbackFlags;
typedef unsigned long PaStreamFlags;
typedef void PaStream;
typedef struct {
    int device;
    int channelCount;
    PaSampleFormat sampleFormat;
    double suggestedLatency;
    void *hostApiSpecificStreamInfo;
} PaStreamParameters;
typedef struct {
    int structVersion;
    double inputLatency;
    double outputLatency;
    double sampleRate;
} PaStreamInfo;
typedef struct {
    double inputBufferAdcTime, currentTime, outputBufferDacTime;
} PaStreamCallbackTimeInfo;
typedef int PaStreamCallback(const void *, void *, unsigned long, const PaStreamCallbackTimeInfo *,
                             PaStreamCallbackFlags, void *);
#define paFloat32 ((PaSampleFormat)0x00000001)
#define paClipOff ((PaStreamFlags)0x00000001)
#define paDitherOff ((PaStreamFlags)0x00000002)
#define paOutputUnderflow ((PaStreamCallbackFlags)0x00000004)
#define paContinue 0

static struct {
    void *handle;
    PaError (*Initialize)(void);
    PaError (*Terminate)(void);
    PaError (*OpenStream)(PaStream **, const PaStreamParameters *, const PaStreamParameters *, double,
                          unsigned long, PaStreamFlags, PaStreamCallback *, void *);
    PaError (*StartStream)(PaStream *);
    PaError (*StopStream)(PaStream *);
    PaError (*AbortStream)(PaStream *);
    PaError (*CloseStream)(PaStream *);
    PaError (*IsStreamActive)(PaStream *);
    const PaStreamInfo *(*GetStreamInfo)(PaStream *);
    const char *(*GetErrorText)(PaError);
} pa;

static int load_portaudio(const char *path)
{
    if (pa.handle != NULL)
        return 0;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        PyErr_Format(AudioError, "cannot load the PortAudio library %s: %s", path, dlerror());
        return -1;
    }
#define SYM(field, name)                                                                                      \
    *(void **)(&pa.field) = dlsym(h, name);                                                                   \
    if (pa.field == NULL) {                                                                                   \
        PyErr_Format(AudioError, "the PortAudio library %s has no %s", path, name);                          \
        dlclose(h);                                                                                           \
        return -1;                                                                                            \
    }
    SYM(Initialize, "Pa_Initialize")
    SYM(Terminate, "Pa_Terminate")
    SYM(OpenStream, "Pa_OpenStream")
    SYM(StartStream, "Pa_StartStream")
    SYM(StopStream, "Pa_StopStream")
    SYM(AbortStream, "Pa_AbortStream")
    SYM(CloseStream, "Pa_CloseStream")
    SYM(IsStreamActive, "Pa_IsStreamActive")
    SYM(GetStreamInfo, "Pa_GetStreamInfo")
    SYM(GetErrorText, "Pa_GetErrorText")
#undef SYM
    pa.handle = h;
    return 0;
}

static PyObject *pa_error(const char *what, PaError err)
{
    PyErr_Format(AudioError, "Error %s: %s [PaErrorCode %d]", what, pa.GetErrorText(err), err);
    return NULL;
}

/* The device's callback: copy blocks out of the ring. No Python, no lock, no allocation. */
static int pa_callback(const void *input, void *output, unsigned long frames, const PaStreamCallbackTimeInfo *time_info,
                       PaStreamCallbackFlags flags, void *user)
{
    (void)input;
    (void)time_info;
    consume((Ring *)user, (float *)output, frames, (flags & paOutputUnderflow) ? 1u : 0u);
    return paContinue;
}

typedef struct {
    PyObject_HEAD
    Ring *ring;
    PaStream *stream;
    int initialized;
    double latency_s;
} Stream;

static void Stream_close_now(Stream *s)
{
    if (s->stream != NULL) {
        PaStream *stream = s->stream;
        s->stream = NULL;
        Py_BEGIN_ALLOW_THREADS
        pa.AbortStream(stream);
        pa.CloseStream(stream);
        Py_END_ALLOW_THREADS
    }
    if (s->initialized) {
        s->initialized = 0;
        pa.Terminate(); /* PortAudio counts initialisations: sounddevice keeps its own */
    }
}

static PyObject *Stream_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"ring", "library", "device", "rate_hz", "latency_s", NULL};
    Ring *ring;
    const char *library;
    int device;
    double rate_hz, latency_s;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!sidd", kwlist, &RingType, &ring, &library, &device, &rate_hz,
                                     &latency_s))
        return NULL;
    if (load_portaudio(library) < 0)
        return NULL;
    Stream *s = (Stream *)type->tp_alloc(type, 0);
    if (s == NULL)
        return NULL;
    Py_INCREF(ring);
    s->ring = ring; /* the callback's memory lives as long as the stream */
    PaError err = pa.Initialize();
    if (err != 0) {
        Py_DECREF(s);
        return pa_error("initializing PortAudio", err);
    }
    s->initialized = 1;
    PaStreamParameters out = {device, (int)ring->n_channels, paFloat32, latency_s, NULL};
    PaStream *stream = NULL;
    Py_BEGIN_ALLOW_THREADS
    err = pa.OpenStream(&stream, NULL, &out, rate_hz, (unsigned long)ring->n_frames, paClipOff | paDitherOff,
                        pa_callback, ring);
    Py_END_ALLOW_THREADS
    if (err != 0) {
        Py_DECREF(s);
        return pa_error("opening OutputStream", err);
    }
    s->stream = stream;
    const PaStreamInfo *info = pa.GetStreamInfo(stream);
    s->latency_s = info != NULL ? info->outputLatency : 0.0;
    return (PyObject *)s;
}

static void Stream_dealloc(Stream *s)
{
    Stream_close_now(s);
    Py_XDECREF(s->ring);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyObject *Stream_call(Stream *s, PaError (*fn)(PaStream *), const char *what)
{
    if (s->stream == NULL) {
        PyErr_SetString(AudioError, "the stream is closed");
        return NULL;
    }
    PaError err;
    Py_BEGIN_ALLOW_THREADS
    err = fn(s->stream);
    Py_END_ALLOW_THREADS
    if (err != 0)
        return pa_error(what, err);
    Py_RETURN_NONE;
}

static PyObject *Stream_start(Stream *s, PyObject *Py_UNUSED(i)) { return Stream_call(s, pa.StartStream, "starting stream"); }
static PyObject *Stream_stop(Stream *s, PyObject *Py_UNUSED(i)) { return Stream_call(s, pa.StopStream, "stopping stream"); }
static PyObject *Stream_abort(Stream *s, PyObject *Py_UNUSED(i)) { return Stream_call(s, pa.AbortStream, "aborting stream"); }

static PyObject *Stream_close(Stream *s, PyObject *Py_UNUSED(i))
{
    Stream_close_now(s);
    Py_RETURN_NONE;
}

static PyObject *Stream_get_active(Stream *s, void *Py_UNUSED(c))
{
    if (s->stream == NULL)
        Py_RETURN_FALSE;
    return PyBool_FromLong(pa.IsStreamActive(s->stream) == 1);
}

static PyObject *Stream_get_latency(Stream *s, void *Py_UNUSED(c)) { return PyFloat_FromDouble(s->latency_s); }

static PyGetSetDef Stream_getset[] = {
    {"active", (getter)Stream_get_active, NULL, "the device is calling back", NULL},
    {"latency", (getter)Stream_get_latency, NULL, "the output latency PortAudio reports, in seconds", NULL},
    {NULL}};

static PyMethodDef Stream_methods[] = {
    {"start", (PyCFunction)Stream_start, METH_NOARGS, "Start calling back."},
    {"stop", (PyCFunction)Stream_stop, METH_NOARGS, "Stop after the buffers queued have played."},
    {"abort", (PyCFunction)Stream_abort, METH_NOARGS, "Stop at once."},
    {"close", (PyCFunction)Stream_close, METH_NOARGS, "Stop and let go of the device (idempotent)."},
    {NULL}};

static PyTypeObject StreamType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "synth._audio.Stream",
    .tp_basicsize = sizeof(Stream),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Stream(ring, library, device, rate_hz, latency_s): a PortAudio output whose callback empties ring.",
    .tp_new = Stream_new,
    .tp_dealloc = (destructor)Stream_dealloc,
    .tp_methods = Stream_methods,
    .tp_getset = Stream_getset,
};

/* --- JACK, loaded at run time ----------------------------------------------------------------------- */
/* liquidsky's own JACK client: two output ports fed from the ring by a process callback in C. The
 * declarations below are those jack/jack.h and jack/types.h fix for the ABI, so that building needs
 * no JACK headers; libjack.so.0 is opened at run time, so that importing this module needs no JACK. */

typedef uint32_t jack_nframes_t;
typedef struct _jack_client jack_client_t;
typedef struct _jack_port jack_port_t;
typedef int (*JackProcessCallback)(jack_nframes_t nframes, void *arg);
typedef int (*JackXRunCallback)(void *arg);
typedef void (*JackShutdownCallback)(void *arg);
typedef struct {
    jack_nframes_t min, max;
} jack_latency_range_t;
#define JackNoStartServer 0x01
#define JackServerName 0x04
#define JackFailure 0x01
#define JackServerFailed 0x10
#define JackPortIsInput 0x1UL
#define JackPortIsOutput 0x2UL
#define JackPortIsPhysical 0x4UL
#define JackPlaybackLatency 1
#define JACK_DEFAULT_AUDIO_TYPE "32 bit float mono audio"

static struct {
    void *handle;
    jack_client_t *(*client_open)(const char *, int, int *, ...);
    int (*client_close)(jack_client_t *);
    char *(*get_client_name)(jack_client_t *);
    int (*activate)(jack_client_t *);
    int (*deactivate)(jack_client_t *);
    int (*set_process_callback)(jack_client_t *, JackProcessCallback, void *);
    int (*set_xrun_callback)(jack_client_t *, JackXRunCallback, void *);
    void (*on_shutdown)(jack_client_t *, JackShutdownCallback, void *);
    jack_nframes_t (*get_sample_rate)(jack_client_t *);
    jack_nframes_t (*get_buffer_size)(jack_client_t *);
    jack_port_t *(*port_register)(jack_client_t *, const char *, const char *, unsigned long, unsigned long);
    void *(*port_get_buffer)(jack_port_t *, jack_nframes_t);
    const char *(*port_name)(const jack_port_t *);
    jack_port_t *(*port_by_name)(jack_client_t *, const char *);
    void (*port_get_latency_range)(jack_port_t *, int, jack_latency_range_t *);
    const char **(*get_ports)(jack_client_t *, const char *, const char *, unsigned long);
    int (*connect)(jack_client_t *, const char *, const char *);
    void (*free)(void *);
    void (*set_error_function)(void (*)(const char *));
    void (*set_info_function)(void (*)(const char *));
} jk;

/* libjack prints its errors and notices on stderr (a server that is not running, say); the caller
 * reports what failed in one line of its own instead. */
static void jack_quiet(const char *message) { (void)message; }

static int load_jack(const char *path)
{
    if (jk.handle != NULL)
        return 0;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        PyErr_Format(AudioError, "cannot load the JACK library %s: %s", path, dlerror());
        return -1;
    }
#define SYM(field, name)                                                                                      \
    *(void **)(&jk.field) = dlsym(h, name);                                                                   \
    if (jk.field == NULL) {                                                                                   \
        PyErr_Format(AudioError, "the JACK library %s has no %s", path, name);                               \
        dlclose(h);                                                                                           \
        return -1;                                                                                            \
    }
    SYM(client_open, "jack_client_open")
    SYM(client_close, "jack_client_close")
    SYM(get_client_name, "jack_get_client_name")
    SYM(activate, "jack_activate")
    SYM(deactivate, "jack_deactivate")
    SYM(set_process_callback, "jack_set_process_callback")
    SYM(set_xrun_callback, "jack_set_xrun_callback")
    SYM(on_shutdown, "jack_on_shutdown")
    SYM(get_sample_rate, "jack_get_sample_rate")
    SYM(get_buffer_size, "jack_get_buffer_size")
    SYM(port_register, "jack_port_register")
    SYM(port_get_buffer, "jack_port_get_buffer")
    SYM(port_name, "jack_port_name")
    SYM(port_by_name, "jack_port_by_name")
    SYM(port_get_latency_range, "jack_port_get_latency_range")
    SYM(get_ports, "jack_get_ports")
    SYM(connect, "jack_connect")
    SYM(free, "jack_free")
    SYM(set_error_function, "jack_set_error_function")
    SYM(set_info_function, "jack_set_info_function")
#undef SYM
    jk.handle = h;
    jk.set_error_function(jack_quiet);
    jk.set_info_function(jack_quiet);
    return 0;
}

/* Opens a client of the server (the default one when server is NULL) without starting a server. */
static jack_client_t *jack_open(const char *client_name, const char *server)
{
    int status = 0;
    jack_client_t *client;
    Py_BEGIN_ALLOW_THREADS
    if (server != NULL && server[0] != '\0')
        client = jk.client_open(client_name, JackNoStartServer | JackServerName, &status, server);
    else
        client = jk.client_open(client_name, JackNoStartServer, &status);
    Py_END_ALLOW_THREADS
    if (client == NULL) {
        const char *which = (server != NULL && server[0] != '\0') ? server : "default";
        if (status & JackServerFailed)
            PyErr_Format(AudioError, "no JACK server named '%s' is running", which);
        else
            PyErr_Format(AudioError, "the JACK server '%s' refused a client (status 0x%x)", which, status);
    }
    return client;
}

/* Frames the interleaved scratch buffer holds: more than any usual period; a longer period is copied
 * out in several pieces. */
#define JACK_SCRATCH_FRAMES 8192
#define JACK_MAX_PORTS 64

typedef struct {
    PyObject_HEAD
    Ring *ring;
    jack_client_t *client;
    jack_port_t *ports[JACK_MAX_PORTS];
    int n_ports;
    float *scratch; /* JACK_SCRATCH_FRAMES x n_ports, interleaved as the ring */
    int activated;  /* written by the controlling thread only */
    int connect;
    const char **targets; /* the physical playback ports to connect to (jack_free'd) */
    int n_targets;
    _Atomic int lost;               /* the server shut the client down */
    _Atomic uint32_t xrun_pending;  /* xruns the process callback has not yet counted */
    _Atomic uint64_t xruns;         /* xruns the server reported */
    uint32_t rate_hz, buffer_frames;
    double latency_s;
    PyObject *name; /* the client's name as the server gave it */
} JackStream;

/* The server's process callback, on its real-time thread: copy the ring out into the port buffers.
 * No Python, no lock, no allocation, no system call. */
static int jack_process(jack_nframes_t nframes, void *arg)
{
    JackStream *s = (JackStream *)arg;
    float *bufs[JACK_MAX_PORTS];
    const int n = s->n_ports;
    for (int c = 0; c < n; c++)
        bufs[c] = (float *)jk.port_get_buffer(s->ports[c], nframes);
    unsigned xruns = atomic_exchange_explicit(&s->xrun_pending, 0, memory_order_acq_rel);
    jack_nframes_t done = 0;
    while (done < nframes) {
        jack_nframes_t k = nframes - done;
        if (k > JACK_SCRATCH_FRAMES)
            k = JACK_SCRATCH_FRAMES;
        consume(s->ring, s->scratch, k, xruns);
        xruns = 0;
        const float *in = s->scratch;
        for (jack_nframes_t i = 0; i < k; i++)
            for (int c = 0; c < n; c++)
                bufs[c][done + i] = *in++;
        done += k;
    }
    return 0;
}

/* Called from the client's notification thread for every xrun the server sees. */
static int jack_xrun(void *arg)
{
    JackStream *s = (JackStream *)arg;
    atomic_fetch_add_explicit(&s->xruns, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->xrun_pending, 1, memory_order_release);
    return 0;
}

static void jack_shutdown(void *arg)
{
    atomic_store_explicit(&((JackStream *)arg)->lost, 1, memory_order_release);
}

static void JackStream_close_now(JackStream *s)
{
    if (s->client != NULL) {
        jack_client_t *client = s->client;
        int deactivate = s->activated && !atomic_load(&s->lost);
        s->client = NULL;
        s->activated = 0;
        Py_BEGIN_ALLOW_THREADS
        if (deactivate)
            jk.deactivate(client);
        jk.client_close(client); /* returns once the process thread has stopped */
        Py_END_ALLOW_THREADS
    }
    if (s->targets != NULL) {
        jk.free(s->targets);
        s->targets = NULL;
    }
    if (s->scratch != NULL) {
        munlock(s->scratch, (size_t)JACK_SCRATCH_FRAMES * (size_t)s->n_ports * sizeof(float));
        PyMem_RawFree(s->scratch);
        s->scratch = NULL;
    }
}

static PyObject *JackStream_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"ring", "library", "client_name", "server", "connect", NULL};
    Ring *ring;
    const char *library, *client_name, *server = NULL;
    int connect = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!ss|zp", kwlist, &RingType, &ring, &library, &client_name, &server,
                                     &connect))
        return NULL;
    if (ring->n_channels > JACK_MAX_PORTS) {
        PyErr_Format(PyExc_ValueError, "a JACK client of at most %d ports, not %zd", JACK_MAX_PORTS, ring->n_channels);
        return NULL;
    }
    if (load_jack(library) < 0)
        return NULL;
    JackStream *s = (JackStream *)type->tp_alloc(type, 0);
    if (s == NULL)
        return NULL;
    Py_INCREF(ring);
    s->ring = ring; /* the callback's memory lives as long as the client */
    s->n_ports = (int)ring->n_channels;
    s->connect = connect;
    atomic_init(&s->lost, 0);
    atomic_init(&s->xrun_pending, 0);
    atomic_init(&s->xruns, 0);
    size_t scratch_bytes = (size_t)JACK_SCRATCH_FRAMES * (size_t)s->n_ports * sizeof(float);
    s->scratch = PyMem_RawCalloc(1, scratch_bytes);
    if (s->scratch == NULL) {
        Py_DECREF(s);
        return PyErr_NoMemory();
    }
    memset(s->scratch, 0, scratch_bytes);
    mlock(s->scratch, scratch_bytes);

    s->client = jack_open(client_name, server);
    if (s->client == NULL) {
        Py_DECREF(s);
        return NULL;
    }
    s->name = PyUnicode_FromString(jk.get_client_name(s->client));
    s->rate_hz = jk.get_sample_rate(s->client);
    s->buffer_frames = jk.get_buffer_size(s->client);
    for (int c = 0; c < s->n_ports; c++) {
        char port[32];
        if (s->n_ports == 2)
            snprintf(port, sizeof port, "%s", c == 0 ? "left" : "right");
        else
            snprintf(port, sizeof port, "out_%d", c + 1);
        s->ports[c] = jk.port_register(s->client, port, JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
        if (s->ports[c] == NULL) {
            Py_DECREF(s);
            PyErr_Format(AudioError, "the JACK server refused the output port %s", port);
            return NULL;
        }
    }
    if (jk.set_process_callback(s->client, jack_process, s) != 0 || jk.set_xrun_callback(s->client, jack_xrun, s) != 0) {
        Py_DECREF(s);
        PyErr_SetString(AudioError, "the JACK server refused the client's callbacks");
        return NULL;
    }
    jk.on_shutdown(s->client, jack_shutdown, s);

    /* The output latency as PortAudio's JACK host API reckons it (the playback latency of the port
     * played into, less the one period being written), so that both paths report alike. */
    jack_nframes_t latency = s->buffer_frames;
    if (connect) {
        s->targets = jk.get_ports(s->client, NULL, JACK_DEFAULT_AUDIO_TYPE, JackPortIsPhysical | JackPortIsInput);
        while (s->targets != NULL && s->targets[s->n_targets] != NULL)
            s->n_targets++;
        if (s->n_targets == 0) {
            Py_DECREF(s);
            PyErr_SetString(AudioError, "the JACK server has no playback ports to connect to");
            return NULL;
        }
        jack_port_t *target = jk.port_by_name(s->client, s->targets[0]);
        if (target != NULL) {
            jack_latency_range_t range = {0, 0};
            jk.port_get_latency_range(target, JackPlaybackLatency, &range);
            if (range.max > s->buffer_frames)
                latency = range.max - s->buffer_frames;
        }
    }
    s->latency_s = s->rate_hz > 0 ? (double)latency / s->rate_hz : 0.0;
    return (PyObject *)s;
}

static void JackStream_dealloc(JackStream *s)
{
    JackStream_close_now(s);
    Py_XDECREF(s->name);
    Py_XDECREF(s->ring);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyObject *JackStream_start(JackStream *s, PyObject *Py_UNUSED(i))
{
    if (s->client == NULL || atomic_load(&s->lost)) {
        PyErr_SetString(AudioError, "the JACK client is closed");
        return NULL;
    }
    if (s->activated)
        Py_RETURN_NONE;
    int err;
    Py_BEGIN_ALLOW_THREADS
    err = jk.activate(s->client);
    Py_END_ALLOW_THREADS
    if (err != 0) {
        PyErr_Format(AudioError, "the JACK server did not activate the client (error %d)", err);
        return NULL;
    }
    s->activated = 1;
    for (int c = 0; c < s->n_ports && s->connect; c++) {
        const char *target = s->targets[c % s->n_targets];
        Py_BEGIN_ALLOW_THREADS
        err = jk.connect(s->client, jk.port_name(s->ports[c]), target);
        Py_END_ALLOW_THREADS
        if (err != 0 && err != EEXIST) {
            PyErr_Format(AudioError, "cannot connect %s to %s (error %d)", jk.port_name(s->ports[c]), target, err);
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

/* Stop calling back: what the server has already taken has been played by the time it asks again. */
static PyObject *JackStream_stop(JackStream *s, PyObject *Py_UNUSED(i))
{
    if (s->client != NULL && s->activated && !atomic_load(&s->lost)) {
        int err;
        Py_BEGIN_ALLOW_THREADS
        err = jk.deactivate(s->client);
        Py_END_ALLOW_THREADS
        s->activated = 0;
        if (err != 0) {
            PyErr_Format(AudioError, "the JACK server did not deactivate the client (error %d)", err);
            return NULL;
        }
    }
    s->activated = 0;
    Py_RETURN_NONE;
}

static PyObject *JackStream_close(JackStream *s, PyObject *Py_UNUSED(i))
{
    JackStream_close_now(s);
    Py_RETURN_NONE;
}

static PyObject *JackStream_get_active(JackStream *s, void *Py_UNUSED(c))
{
    return PyBool_FromLong(s->client != NULL && s->activated && !atomic_load(&s->lost));
}

static PyObject *JackStream_get_lost(JackStream *s, void *Py_UNUSED(c)) { return PyBool_FromLong(atomic_load(&s->lost)); }
static PyObject *JackStream_get_latency(JackStream *s, void *Py_UNUSED(c)) { return PyFloat_FromDouble(s->latency_s); }
static PyObject *JackStream_get_rate(JackStream *s, void *Py_UNUSED(c)) { return PyLong_FromUnsignedLong(s->rate_hz); }
static PyObject *JackStream_get_buffer(JackStream *s, void *Py_UNUSED(c))
{
    return PyLong_FromUnsignedLong(s->buffer_frames);
}
static PyObject *JackStream_get_xruns(JackStream *s, void *Py_UNUSED(c))
{
    return PyLong_FromUnsignedLongLong(atomic_load(&s->xruns));
}

static PyObject *JackStream_get_name(JackStream *s, void *Py_UNUSED(c))
{
    if (s->name == NULL)
        Py_RETURN_NONE;
    Py_INCREF(s->name);
    return s->name;
}

static PyObject *JackStream_get_ports(JackStream *s, void *Py_UNUSED(c))
{
    PyObject *t = PyTuple_New(s->n_ports);
    for (int i = 0; t != NULL && i < s->n_ports; i++) {
        PyObject *name = s->client != NULL ? PyUnicode_FromString(jk.port_name(s->ports[i])) : (Py_INCREF(Py_None), Py_None);
        if (name == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, name);
    }
    return t;
}

static PyObject *JackStream_get_targets(JackStream *s, void *Py_UNUSED(c))
{
    PyObject *t = PyTuple_New(s->targets != NULL ? s->n_targets : 0);
    for (int i = 0; t != NULL && s->targets != NULL && i < s->n_targets; i++) {
        PyObject *name = PyUnicode_FromString(s->targets[i]);
        if (name == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, name);
    }
    return t;
}

static PyGetSetDef JackStream_getset[] = {
    {"active", (getter)JackStream_get_active, NULL, "the server is calling back (activated and not shut down)", NULL},
    {"lost", (getter)JackStream_get_lost, NULL, "the server shut the client down", NULL},
    {"latency", (getter)JackStream_get_latency, NULL, "output latency in seconds (as PortAudio reckons it)", NULL},
    {"rate_hz", (getter)JackStream_get_rate, NULL, "the server's sample rate", NULL},
    {"buffer_frames", (getter)JackStream_get_buffer, NULL, "the server's period, in frames", NULL},
    {"xruns", (getter)JackStream_get_xruns, NULL, "xruns the server reported while the client was open", NULL},
    {"name", (getter)JackStream_get_name, NULL, "the client's name on the server", NULL},
    {"ports", (getter)JackStream_get_ports, NULL, "the client's output ports' full names", NULL},
    {"targets", (getter)JackStream_get_targets, NULL, "the playback ports start() connects to", NULL},
    {NULL}};

static PyMethodDef JackStream_methods[] = {
    {"start", (PyCFunction)JackStream_start, METH_NOARGS, "Activate the client and connect its ports."},
    {"stop", (PyCFunction)JackStream_stop, METH_NOARGS, "Deactivate the client (no callback runs after it returns)."},
    {"abort", (PyCFunction)JackStream_stop, METH_NOARGS, "The same as stop: JACK keeps no queue to drop."},
    {"close", (PyCFunction)JackStream_close, METH_NOARGS, "Deactivate and close the client (idempotent)."},
    {NULL}};

static PyTypeObject JackStreamType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "synth._audio.JackStream",
    .tp_basicsize = sizeof(JackStream),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "JackStream(ring, library, client_name, server=None, connect=True): a JACK client whose process "
              "callback empties ring into one output port per channel.",
    .tp_new = JackStream_new,
    .tp_dealloc = (destructor)JackStream_dealloc,
    .tp_methods = JackStream_methods,
    .tp_getset = JackStream_getset,
};

/* jack_server_info(library, server=None) -> (rate_hz, buffer_frames): asks the server with a client
 * that leaves at once. */
static PyObject *mod_jack_server_info(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"library", "server", "client_name", NULL};
    const char *library, *server = NULL, *client_name = "liquidsky-probe";
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s|zs", kwlist, &library, &server, &client_name))
        return NULL;
    if (load_jack(library) < 0)
        return NULL;
    jack_client_t *client = jack_open(client_name, server);
    if (client == NULL)
        return NULL;
    unsigned long rate = jk.get_sample_rate(client), frames = jk.get_buffer_size(client);
    Py_BEGIN_ALLOW_THREADS
    jk.client_close(client);
    Py_END_ALLOW_THREADS
    return Py_BuildValue("kk", rate, frames);
}

/* --- the module ----------------------------------------------------------------------------------- */

static PyObject *mod_now_ns(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(i)) { return PyLong_FromLongLong(now_ns()); }

static PyMethodDef module_methods[] = {
    {"now_ns", mod_now_ns, METH_NOARGS, "The clock the callback stamps its times with (CLOCK_MONOTONIC), in ns."},
    {"jack_server_info", (PyCFunction)(void (*)(void))mod_jack_server_info, METH_VARARGS | METH_KEYWORDS,
     "jack_server_info(library, server=None): (rate_hz, buffer_frames) of a running JACK server."},
    {NULL}};

static struct PyModuleDef audio_module = {
    PyModuleDef_HEAD_INIT, "synth._audio",
    "A lock-free ring of audio blocks, and a PortAudio callback and a JACK client in C that empty it.", -1,
    module_methods};

PyMODINIT_FUNC PyInit__audio(void)
{
    if (PyType_Ready(&RingType) < 0 || PyType_Ready(&StreamType) < 0 || PyType_Ready(&JackStreamType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&audio_module);
    if (m == NULL)
        return NULL;
    AudioError = PyErr_NewException("synth._audio.AudioError", PyExc_RuntimeError, NULL);
    Py_INCREF(&RingType);
    Py_INCREF(&StreamType);
    Py_INCREF(&JackStreamType);
    if (PyModule_AddObject(m, "Ring", (PyObject *)&RingType) < 0 ||
        PyModule_AddObject(m, "Stream", (PyObject *)&StreamType) < 0 ||
        PyModule_AddObject(m, "JackStream", (PyObject *)&JackStreamType) < 0 ||
        PyModule_AddObject(m, "AudioError", AudioError) < 0 ||
        PyModule_AddIntConstant(m, "TIMING_SLOTS", TIMING_SLOTS) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
