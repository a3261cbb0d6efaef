/* The channel cards' render kernel in C: the rules of synth/card.py for a stretch of host frames.
 *
 * synth/card.py holds the state layout, the documentation of every column and the Python face
 * (render_cards); this file is the loop that runs per clock tick and per frame. It is a CPython
 * extension module only so that `pip install .` builds it like any other; the arrays arrive through
 * the buffer protocol (no numpy headers needed) and the work runs with the GIL released.
 *
 * Per tick the steps are small inline functions, one rule of the card each: envelope_clocks (the
 * timer and the 7497 rate multiplier), dac_latch, then at a wrap of the address counter's low bits
 * segment_end (Mode 1 stepping, loops, the end of the RAM) and envelope_turns; per frame, ladder (the
 * 4-pole filter, one definition for the one-slot and the four-slot paths) and ramp.
 *
 * Each slot renders into rows of its own (held staircase, then filtered left/right/stem signals);
 * the rows are summed into the outputs in slot order afterwards, so the result does not depend on
 * how many threads rendered the slots (a helper thread may take some, see render_shared).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifndef _WIN32
#include <pthread.h>
#define LQS_THREADS 1
#else
#define LQS_THREADS 0
#endif

/* The state layout and the hardware numbers, written by setup.py from synth/card.py and
 * synth/hardware.py (layout() below gives them back, for the tests). */
#include "_card_layout.h"

/* Calls of at least this many frames may be shared with the helper thread (render below). */
#define SHARED_MIN_FRAMES 1024

typedef struct {
    int64_t first_frame;
    int64_t n_frames;
    int64_t n_slots;
    int64_t n_stems; /* stem columns, 0 without stems */
    int64_t half;    /* HALF_TAPS */
    int64_t n_phases;
    int phase_shift; /* n_phases = 2**(TIME_FRAC_BITS - phase_shift), or -1 when it is not a power of two */
    int64_t row_len; /* scratch doubles per slot */
    int64_t *istate;
    double *fstate;
    const float *ram;
    double *carry;     /* (n_slots, 2 * half): the held staircase past the call's last frame */
    float *carry_res;  /* (n_slots, 2 * half): the residuals' sums there */
    double *scratch;
    const float *table;      /* (n_phases + 1, 2 * half): the residual */
    const float *table_diff; /* (n_phases + 1, 2 * half): row p + 1 minus row p (0 for the last) */
    double smooth;
} Job;

/* The DAC moves from value to new_value at fixed-point host time t: add the step's band-limited
 * residual around it into res; returns the buffer index of the first frame that holds new_value.
 *
 * The residuals are summed in single precision, twice as many to a vector as in double: each sum
 * holds the residuals of the steps within HALF_TAPS frames, so its rounding stays near 1e-7 of the
 * steps' size, below the float32 output's own resolution. The held staircase (the large values)
 * stays in double. */
static inline int64_t step(float *restrict res, const Job *job, int64_t t, double value, double new_value)
{
    const int64_t half = job->half;
    const int64_t one = (int64_t)1 << TIME_FRAC_BITS;
    const int64_t n0 = (t + one - 1) >> TIME_FRAC_BITS; /* the first frame that holds the new value */
    const int64_t idx = n0 - job->first_frame + half;
    const double d = new_value - value;
    if (d != 0.0) {
        /* g = n0 - t in frames, as phase rows: g * n_phases = ip + frac */
        const int64_t g_fixed = (n0 << TIME_FRAC_BITS) - t;
        int64_t ip;
        double frac;
        if (job->phase_shift >= 0) {
            /* the same numbers as below, by shifts: both are exact */
            ip = g_fixed >> job->phase_shift;
            frac = (double)(g_fixed & ((((int64_t)1) << job->phase_shift) - 1)) *
                   (1.0 / (double)(((int64_t)1) << job->phase_shift));
        } else {
            const double gp = (double)g_fixed * ((double)job->n_phases / (double)one);
            ip = (int64_t)gp;
            frac = gp - (double)ip;
        }
        const float df = (float)d;
        const float dfr = (float)(d * frac);
        const float *restrict r0 = job->table + ip * 2 * half;
        const float *restrict dr = job->table_diff + ip * 2 * half;
        float *restrict b = res + (idx - half);
        if (half == 16) { /* HALF_TAPS: a loop of known length, unrolled */
            for (int c = 0; c < 32; c++)
                b[c] += df * r0[c] + dfr * dr[c];
        } else {
            for (int64_t c = 0; c < 2 * half; c++)
                b[c] += df * r0[c] + dfr * dr[c];
        }
    }
    return idx;
}

static void reset_slot(int64_t *st, double *fs, double *carry_row, float *carry_res_row, int64_t n_carry)
{
    int64_t stem = st[I_STEM];
    int64_t ended = st[I_ENDED];
    memset(st, 0, N_ISTATE * sizeof(int64_t));
    st[I_STEM] = stem;
    st[I_ENDED] = ended;
    st[I_FADE_LEFT] = -1;
    st[I_LOOP_START] = -1;
    st[I_LOOP_END] = -1;
    memset(fs, 0, N_FSTATE * sizeof(double));
    memset(carry_row, 0, (size_t)n_carry * sizeof(double));
    memset(carry_res_row, 0, (size_t)n_carry * sizeof(float));
}

#if defined(__GNUC__)
#define LQS_INLINE static inline __attribute__((always_inline))
#else
#define LQS_INLINE static inline
#endif

/* The envelope generator's registers while a slot's ticks run (read from its state row and written
 * back after the call). */
typedef struct {
    int64_t level;     /* the 8-bit counter, 0..255 */
    int64_t dir;       /* +1 attack, -1 decay or release, 0 stopped */
    int64_t next;      /* fixed-point host time of the timer's next clock */
    int64_t period;    /* fixed-point host frames per timer clock, for the current phase */
    int64_t rate_acc;  /* the 7497 rate multiplier's accumulator */
    int exponential;   /* through the 7497 rate multiplier */
    int read_after;    /* the multiplier's M from the level the step leads to, not the level before it */
} Envelope;

/* Step 1 of a tick: the envelope timer clocks that fell before tick time t. On the linear curve each
 * clock moves the counter one step; on the exponential curve the 7497 passes M of every 64 clocks, M
 * from the level's top four bits (mirrored when attacking). The phase stops at its target. */
LQS_INLINE void envelope_clocks(Envelope *e, int64_t *st, int64_t t)
{
    if (e->dir == 0)
        return;
    while (e->next <= t) {
        e->next += e->period;
        if (e->exponential) {
            const int64_t read = e->read_after ? e->level + e->dir : e->level;
            const int64_t lvl = e->dir < 0 ? read : 255 - read;
            e->rate_acc += 4 * (lvl >> 4) + 3;
            if (e->rate_acc < RATE_MULTIPLIER_CLOCKS)
                continue;
            e->rate_acc -= RATE_MULTIPLIER_CLOCKS;
        }
        e->level += e->dir;
        if (e->level == st[I_ENV_TARGET]) {
            e->dir = 0;
            return;
        }
    }
}

/* Step 2: the DAC latches the sample at the address, scaled by the envelope and the volume latch
 * (the two multiplying DACs after it). */
LQS_INLINE double dac_latch(const float *restrict level_ram, int64_t addr, const Envelope *e, double volume_scale)
{
    return (double)level_ram[addr] * ((double)e->level * volume_scale);
}

/* Step 3a, at a wrap of the address counter's low 7 bits: the segment logic. Mode 1 steps to the next
 * segment (or loops) once per elapsed segment timer period, else repeats the segment just played;
 * Mode 4 plays on, loops at the loop end, and stops at the end of the RAM. Returns the new address;
 * *ended is set when the voice has run off its last segment. */
LQS_INLINE int64_t segment_end(int64_t *st, int64_t addr, int64_t t, int *ended)
{
    const int64_t seg = (addr >> 7) - 1; /* the segment just finished */
    const int looping = st[I_LOOP_START] >= 0 && seg == st[I_LOOP_END];
    if (st[I_MODE] != 1) {
        if (looping)
            return st[I_LOOP_START] * SEGMENT_SAMPLES;
        if (addr >= WAVE_RAM_SAMPLES)
            *ended = 1;
        return addr;
    }
    while (st[I_SEG_NEXT] <= t) {
        st[I_SEG_NEXT] += st[I_SEG_PERIOD];
        st[I_SEG_PENDING] += 1;
    }
    int64_t nxt = seg;
    if (st[I_SEG_PENDING] > 0) {
        st[I_SEG_PENDING] -= 1;
        if (looping) {
            nxt = st[I_LOOP_START];
        } else {
            nxt = seg + 1;
            if (nxt >= MODE1_SEGMENTS)
                *ended = 1;
        }
    }
    return nxt * SEGMENT_SAMPLES;
}

/* A new envelope phase from tick time t: toward target, clocked every period. */
LQS_INLINE void envelope_phase(Envelope *e, int64_t *st, int64_t stage, int64_t dir, int64_t target,
                               int64_t period, int64_t t)
{
    st[I_ENV_STAGE] = stage;
    st[I_ENV_TARGET] = target;
    e->dir = dir;
    e->period = period;
    e->next = t + period;
    e->rate_acc = 0;
}

/* Step 3b, at the same wrap: the envelope's reloads and turns take effect. A released key turns it to
 * its release (DAMPING); an attack that has reached the top decays to the sustain level, or holds
 * there. Sets *ended when the release has reached zero. */
LQS_INLINE void envelope_turns(Envelope *e, int64_t *st, int64_t t, int *ended)
{
    const int64_t stage = st[I_ENV_STAGE];
    if (st[I_PENDING_RELEASE] == 1 && stage != 3) {
        envelope_phase(e, st, 3, -1, 0, st[I_PERIOD_RELEASE], t);
        if (e->level == 0)
            e->dir = 0;
    } else if (stage == 0 && e->dir == 0) {
        if (st[I_SUSTAIN] < e->level)
            envelope_phase(e, st, 1, -1, st[I_SUSTAIN], st[I_PERIOD_DECAY], t);
        else
            st[I_ENV_STAGE] = 2;
    }
    if (st[I_ENV_STAGE] == 3 && e->level == 0 && e->dir == 0)
        *ended = 1;
}

/* One slot for the job's frames, part 1: its staircase with band-limited steps into its row B of the
 * scratch (final for the call's frames) and the carry. */
LQS_INLINE void slot_steps(const Job *job, int64_t s)
{
    const int64_t half = job->half;
    const int64_t n_frames = job->n_frames;
    const int64_t one = (int64_t)1 << TIME_FRAC_BITS;
    const int64_t end_frame = job->first_frame + n_frames;
    /* A tick belongs to this call when its first held frame ceil(t) is < end_frame. */
    const int64_t tick_limit = (end_frame - 1) * one + 1;
    int64_t *st = job->istate + s * N_ISTATE;
    double *fs = job->fstate + s * N_FSTATE;
    double *carry = job->carry + s * 2 * half;
    float *carry_res = job->carry_res + s * 2 * half;
    double *row = job->scratch + s * job->row_len;
    double *buf = row;                         /* n_frames + 2 * half */
    float *res = (float *)(row + n_frames + 2 * half); /* n_frames + 2 * half floats */
    /* The values the DAC takes during the call, at the buffer index where each is first held
     * (set[i - half] for index i), NaN where none starts: the staircase is filled in one pass after
     * the ticks. The row is the slot's L output, unused until part 2. */
    double *set = row + 2 * (n_frames + 2 * half);

    memset(buf + 2 * half, 0, (size_t)n_frames * sizeof(double));
    memcpy(res, carry_res, (size_t)(2 * half) * sizeof(float));
    memset(res + 2 * half, 0, (size_t)n_frames * sizeof(float));
    memcpy(buf, carry, (size_t)(2 * half) * sizeof(double));
    for (int64_t i = 0; i < n_frames; i++)
        set[i] = NAN;
    const double start_value = fs[F_VALUE]; /* held since before the call */
    double value = start_value;

    if (st[I_ACTIVE] == PLAYING) {
        int64_t t = st[I_NEXT_TICK];
        const int64_t inc = st[I_TICK_INC];
        int64_t addr = st[I_ADDR];
        Envelope env = {st[I_ENV], st[I_ENV_DIR], st[I_ENV_NEXT], st[I_ENV_PERIOD], st[I_RATE_ACC],
                        st[I_CURVE] >= 1, st[I_CURVE] == 2};
        const double volume_scale = (double)st[I_VOLUME] / (255.0 * 255.0);
        const float *level_ram = job->ram + s * WAVE_RAM_SAMPLES;
        int ended = 0;
        while (t < tick_limit) {
            envelope_clocks(&env, st, t);
            const double new_value = dac_latch(level_ram, addr, &env, volume_scale);
            set[step(res, job, t, value, new_value) - half] = new_value;
            value = new_value;
            t += inc;
            /* 3. The address counter; the segment logic and the envelope's turns act when its low 7
             * bits wrap 127 -> 0. */
            addr += 1;
            if ((addr & (SEGMENT_SAMPLES - 1)) == 0) {
                addr = segment_end(st, addr, t, &ended);
                envelope_turns(&env, st, t, &ended);
                if (ended)
                    break;
            }
        }
        if (ended) {
            /* The voice stops (the engine may give its card away now) and the DAC returns to digital
             * zero at the next tick, below: in this call, or a later one if that tick is past it. */
            st[I_ACTIVE] = ENDING;
            st[I_ENDED] = 1;
        }
        st[I_NEXT_TICK] = t;
        st[I_ADDR] = addr;
        st[I_ENV] = env.level;
        st[I_ENV_DIR] = env.dir;
        st[I_ENV_NEXT] = env.next;
        st[I_ENV_PERIOD] = env.period;
        st[I_RATE_ACC] = env.rate_acc;
    }
    if (st[I_ACTIVE] == ENDING && st[I_NEXT_TICK] < tick_limit) {
        const int64_t idx = step(res, job, st[I_NEXT_TICK], value, 0.0);
        set[idx - half] = 0.0;
        value = 0.0;
        st[I_ACTIVE] = DRAINING;
        /* The last step's residual reaches `half` frames past it. */
        st[I_DRAIN_LEFT] = idx - half + 2 * half;
    }
    /* The held staircase for the buffer indices of this call's frames [half, n_frames + half): each
     * frame holds the latest value set at or before it. */
    double held = start_value;
    for (int64_t i = 0; i < n_frames; i++) {
        const double v = set[i];
        held = v == v ? v : held; /* NaN: no new value here */
        buf[half + i] += held;
    }
    /* The frames of this call have every residual they will get (later ticks reach back to end_frame
     * at most): they take their sums now. The sums past them go on in single precision in the next
     * call, so that any block size gives the same samples. */
    for (int64_t i = 0; i < n_frames; i++)
        buf[i] += (double)res[i];
    fs[F_VALUE] = value;
    memcpy(carry, buf + n_frames, (size_t)(2 * half) * sizeof(double));
    memcpy(carry_res, res + n_frames, (size_t)(2 * half) * sizeof(float));
}

/* The analog low-pass after the DAC, one frame: four trapezoidal (TPT) one-poles in series, each
 * v = (x - z) G, y = v + z, z' = y + v, with G = g / (1 + g) shared by the four (see
 * card.filter_coefficient). The ladder and the parameter ramps are written once and made for two
 * types: a double (one slot) and a vector of doubles (four slots at once, group_filter), so both
 * paths do the very same arithmetic and give the same samples. */
#define LQS_LADDER(name, T)                                                                           \
    LQS_INLINE T name(T x, T g, T *z1, T *z2, T *z3, T *z4)                                           \
    {                                                                                                 \
        T v = (x - *z1) * g;                                                                          \
        T y = v + *z1;                                                                                \
        *z1 = y + v;                                                                                  \
        v = (y - *z2) * g;                                                                            \
        y = v + *z2;                                                                                  \
        *z2 = y + v;                                                                                  \
        v = (y - *z3) * g;                                                                            \
        y = v + *z3;                                                                                  \
        *z3 = y + v;                                                                                  \
        v = (y - *z4) * g;                                                                            \
        y = v + *z4;                                                                                  \
        *z4 = y + v;                                                                                  \
        return y;                                                                                     \
    }

/* A smoothed parameter's step toward its target: a one-pole ramp, `smooth` of the way per frame. */
#define LQS_RAMP(name, T)                                                                             \
    LQS_INLINE T name(T x, T target, T smooth)                                                        \
    {                                                                                                 \
        return x + (target - x) * smooth;                                                             \
    }

LQS_LADDER(ladder, double)
LQS_RAMP(ramp, double)

/* Part 2: the analog low-pass (four trapezoidal one-poles), the steal fade and the mixer gains, from row
 * B into the rows L, R, M. Returns the frames written (a draining slot may fall silent before the end). */
LQS_INLINE int64_t slot_filter(const Job *job, int64_t s)
{
    const int64_t half = job->half;
    const int64_t n_frames = job->n_frames;
    int64_t *st = job->istate + s * N_ISTATE;
    double *fs = job->fstate + s * N_FSTATE;
    double *row = job->scratch + s * job->row_len;
    const double *buf = row;
    double *out_l = row + 2 * (n_frames + 2 * half); /* n_frames each */
    double *out_r = out_l + n_frames;
    double *out_m = out_r + n_frames;
    const int filt = st[I_FILTER_ON] == 1;
    const double smooth = job->smooth;
    double g = fs[F_G];
    const double g_tgt = fs[F_G_TGT];
    double z1 = fs[F_Z1], z2 = fs[F_Z2], z3 = fs[F_Z3], z4 = fs[F_Z4];
    double gl = fs[F_GAIN_L], gr = fs[F_GAIN_R], gm = fs[F_GAIN_M];
    const double tl = fs[F_TGT_L], tr = fs[F_TGT_R], tm = fs[F_TGT_M];
    int64_t fade_left = st[I_FADE_LEFT];
    const int64_t fade_total = st[I_FADE_TOTAL];
    const int draining = st[I_ACTIVE] == DRAINING;
    int64_t drain_left = st[I_DRAIN_LEFT];
    int silent = 0;
    /* A smoothed parameter that has reached its target (its next step rounds to nothing) stays there
     * for the whole call: such ramps are skipped, which changes no sample. */
    const int g_moves = ramp(g, g_tgt, smooth) != g;
    const int gains_move = ramp(gl, tl, smooth) != gl || ramp(gr, tr, smooth) != gr || ramp(gm, tm, smooth) != gm;
    int64_t i;
    for (i = 0; i < n_frames; i++) {
        if (draining) {
            /* Once every step's residual is out, what remains is the filter's own decay; the slot
             * stops at the first frame where that is inaudible, whatever the block size. */
            if (drain_left <= 0 && (!filt || fabs(z1) + fabs(z2) + fabs(z3) + fabs(z4) < SILENCE_LEVEL)) {
                silent = 1;
                break;
            }
            drain_left -= 1;
        }
        double x = buf[i];
        if (filt) {
            if (g_moves)
                g = ramp(g, g_tgt, smooth);
            x = ladder(x, g, &z1, &z2, &z3, &z4);
        }
        if (fade_left >= 0) {
            /* The fade holds at full level while fade_left > fade_total: the engine starts it the
             * band limit's look-ahead later, on the frame where the new note sounds. */
            if (fade_left < fade_total)
                x *= (double)fade_left / (double)fade_total;
            if (fade_left > 0)
                fade_left -= 1;
        }
        if (gains_move) {
            gl = ramp(gl, tl, smooth);
            gr = ramp(gr, tr, smooth);
            gm = ramp(gm, tm, smooth);
        }
        out_l[i] = x * gl;
        out_r[i] = x * gr;
        out_m[i] = x * gm;
    }
    fs[F_G] = g;
    fs[F_Z1] = z1;
    fs[F_Z2] = z2;
    fs[F_Z3] = z3;
    fs[F_Z4] = z4;
    fs[F_GAIN_L] = gl;
    fs[F_GAIN_R] = gr;
    fs[F_GAIN_M] = gm;
    st[I_FADE_LEFT] = fade_left;
    st[I_DRAIN_LEFT] = drain_left;
    if (fade_left == 0 || silent)
        reset_slot(st, fs, job->carry + s * 2 * half, job->carry_res + s * 2 * half, 2 * half);
    return i;
}

/* A slot whose part 2 is the plain filter and mixer (playing, filtered, not fading out). */
static int simple_slot(const Job *job, int64_t s)
{
    const int64_t *st = job->istate + s * N_ISTATE;
    return st[I_ACTIVE] == PLAYING && st[I_FADE_LEFT] < 0 && st[I_FILTER_ON] == 1;
}

#if defined(__GNUC__)
#define LQS_LANES 4
typedef double lanes_t __attribute__((vector_size(LQS_LANES * sizeof(double))));
/* (always inlined: no call passes a vector across a function boundary, whatever the ABI says of them) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
LQS_LADDER(ladder_lanes, lanes_t)
LQS_RAMP(ramp_lanes, lanes_t)
#pragma GCC diagnostic pop

/* Part 2 for up to four simple slots at once, one to a vector lane: the filter's chain of dependent
 * operations from one frame to the next is what limits one slot, and four chains share the time of
 * one. Each lane does exactly the arithmetic of slot_filter, so the samples are the same. Lanes past
 * n repeat slot 0 (their writes are its own values again) and keep no state. */
LQS_INLINE void group_filter(const Job *job, const int64_t *slots, int n)
{
    const int64_t half = job->half;
    const int64_t n_frames = job->n_frames;
    const double *in[LQS_LANES];
    double *out_l[LQS_LANES], *out_r[LQS_LANES], *out_m[LQS_LANES];
    lanes_t g, g_tgt, z1, z2, z3, z4, gl, gr, gm, tl, tr, tm, smooth;
    for (int l = 0; l < LQS_LANES; l++) {
        const int64_t s = slots[l < n ? l : 0];
        double *row = job->scratch + s * job->row_len;
        const double *fs = job->fstate + s * N_FSTATE;
        in[l] = row;
        out_l[l] = row + 2 * (n_frames + 2 * half);
        out_r[l] = out_l[l] + n_frames;
        out_m[l] = out_r[l] + n_frames;
        g[l] = fs[F_G];
        g_tgt[l] = fs[F_G_TGT];
        z1[l] = fs[F_Z1];
        z2[l] = fs[F_Z2];
        z3[l] = fs[F_Z3];
        z4[l] = fs[F_Z4];
        gl[l] = fs[F_GAIN_L];
        gr[l] = fs[F_GAIN_R];
        gm[l] = fs[F_GAIN_M];
        tl[l] = fs[F_TGT_L];
        tr[l] = fs[F_TGT_R];
        tm[l] = fs[F_TGT_M];
        smooth[l] = job->smooth;
    }
    for (int64_t i = 0; i < n_frames; i++) {
        lanes_t x;
        for (int l = 0; l < LQS_LANES; l++)
            x[l] = in[l][i];
        /* (a ramp at its target is a no-op here, as slot_filter skipping it) */
        g = ramp_lanes(g, g_tgt, smooth);
        const lanes_t y = ladder_lanes(x, g, &z1, &z2, &z3, &z4);
        gl = ramp_lanes(gl, tl, smooth);
        gr = ramp_lanes(gr, tr, smooth);
        gm = ramp_lanes(gm, tm, smooth);
        const lanes_t a = y * gl, b = y * gr, c = y * gm;
        for (int l = 0; l < LQS_LANES; l++) {
            out_l[l][i] = a[l];
            out_r[l][i] = b[l];
            out_m[l][i] = c[l];
        }
    }
    for (int l = 0; l < n; l++) {
        double *fs = job->fstate + slots[l] * N_FSTATE;
        fs[F_G] = g[l];
        fs[F_Z1] = z1[l];
        fs[F_Z2] = z2[l];
        fs[F_Z3] = z3[l];
        fs[F_Z4] = z4[l];
        fs[F_GAIN_L] = gl[l];
        fs[F_GAIN_R] = gr[l];
        fs[F_GAIN_M] = gm[l];
    }
}
#else
#define LQS_LANES 4
#endif

/* Up to LQS_LANES slots (a chunk of the call's work): parts 1 and 2 of each; the frames written go to
 * written[k]. */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) && !defined(__clang__)
/* The residual sums and the lanes in vectors as wide as the CPU has; the sums are the same on each (no
 * fused multiply-add: setup.py builds with -ffp-contract=off). */
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void render_chunk(const Job *job, const int64_t *slots, int64_t n, int64_t *written)
{
    int64_t simple[LQS_LANES];
    int n_simple = 0;
    for (int64_t k = 0; k < n; k++)
        slot_steps(job, slots[k]);
    for (int64_t k = 0; k < n; k++) {
#if defined(__GNUC__)
        if (simple_slot(job, slots[k])) {
            simple[n_simple++] = slots[k];
            written[k] = job->n_frames;
            continue;
        }
#endif
        written[k] = slot_filter(job, slots[k]);
    }
#if defined(__GNUC__)
    if (n_simple == 1)
        slot_filter(job, simple[0]);
    else if (n_simple > 1)
        group_filter(job, simple, n_simple);
#else
    (void)simple;
    (void)n_simple;
#endif
}

/* The slots of one call, handed out a chunk of at most LQS_LANES at a time to whichever thread asks next;
 * the chunks are as even as they can be (6 slots: 3 and 3, not 4 and 2), so that two threads finish
 * together. */
typedef struct {
    const Job *job;
    const int64_t *slots;
    int64_t *written;
    int64_t n;    /* slots */
    int64_t next; /* the next chunk to render, taken under the pool's lock or alone */
} Work;

static int64_t n_chunks(const Work *work)
{
    return (work->n + LQS_LANES - 1) / LQS_LANES;
}

static void render_work_chunk(Work *work, int64_t k)
{
    const int64_t m = n_chunks(work);
    const int64_t first = k * work->n / m;
    const int64_t end = (k + 1) * work->n / m;
    render_chunk(work->job, work->slots + first, end - first, work->written + first);
}

#if LQS_THREADS
/* One helper thread, started on first use, shares the slots of a call with the calling thread when the
 * call is big enough to pay for the hand-over. Only one call at a time uses it; another call made at
 * the same time (an engine in another Python thread) renders alone. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_idle = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t pool_user = PTHREAD_MUTEX_INITIALIZER;
static int pool_state = 0; /* 0 not started, 1 running, -1 could not start */
static Work *pool_work = NULL; /* the open call, NULL when none */
static uint64_t pool_generation = 0;
static int pool_helping = 0; /* the helper is rendering slots of the open call */

static int64_t take_chunk(Work *work, int locked)
{
    int64_t k;
    if (!locked)
        pthread_mutex_lock(&pool_lock);
    k = work->next < n_chunks(work) ? work->next++ : -1;
    if (!locked)
        pthread_mutex_unlock(&pool_lock);
    return k;
}

static void *pool_helper(void *unused)
{
    uint64_t seen = 0;
    (void)unused;
    pthread_mutex_lock(&pool_lock);
    for (;;) {
        while (pool_work == NULL || pool_generation == seen)
            pthread_cond_wait(&pool_wake, &pool_lock);
        seen = pool_generation;
        Work *work = pool_work;
        pool_helping = 1;
        for (;;) {
            int64_t k = take_chunk(work, 1);
            if (k < 0)
                break;
            pthread_mutex_unlock(&pool_lock);
            render_work_chunk(work, k);
            pthread_mutex_lock(&pool_lock);
        }
        pool_helping = 0;
        pthread_cond_signal(&pool_idle);
    }
    return NULL;
}

static void pool_after_fork(void)
{
    /* A child process has no helper thread: it starts its own when it needs one. */
    pthread_mutex_init(&pool_lock, NULL);
    pthread_mutex_init(&pool_user, NULL);
    pthread_cond_init(&pool_wake, NULL);
    pthread_cond_init(&pool_idle, NULL);
    pool_state = 0;
    pool_work = NULL;
    pool_helping = 0;
}

static int pool_start(void)
{
    if (pool_state == 0) {
        pthread_t thread;
        pthread_attr_t attr;
        pool_state = -1;
        if (pthread_attr_init(&attr) == 0) {
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            if (pthread_create(&thread, &attr, pool_helper, NULL) == 0) {
                pool_state = 1;
                pthread_atfork(NULL, NULL, pool_after_fork);
            }
            pthread_attr_destroy(&attr);
        }
    }
    return pool_state == 1;
}

/* Render the work with the helper; 0 if the helper is not there or busy (nothing was rendered). */
static int render_shared(Work *work)
{
    if (pthread_mutex_trylock(&pool_user) != 0)
        return 0;
    if (!pool_start()) {
        pthread_mutex_unlock(&pool_user);
        return 0;
    }
    pthread_mutex_lock(&pool_lock);
    pool_work = work;
    pool_generation++;
    pthread_cond_signal(&pool_wake);
    pthread_mutex_unlock(&pool_lock);
    int64_t k;
    while ((k = take_chunk(work, 0)) >= 0)
        render_work_chunk(work, k);
    /* Every slot is taken: close the call, and wait only for a slot the helper is still rendering. */
    pthread_mutex_lock(&pool_lock);
    pool_work = NULL;
    while (pool_helping)
        pthread_cond_wait(&pool_idle, &pool_lock);
    pthread_mutex_unlock(&pool_lock);
    pthread_mutex_unlock(&pool_user);
    return 1;
}
#endif

/* The slots' rows into the outputs. Each frame of the mix is summed in double over the slots in slot
 * order and rounded to float32 once; each stem cell adds its slots in slot order. Neither depends on
 * which thread rendered which slot. */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void mix(const Job *job, const int64_t *active, const int64_t *written, int64_t n_active, float *out,
                float *stems)
{
    enum { SPAN = 256 }; /* frames summed at a time, in two small arrays that stay in L1 */
    double sum_l[SPAN], sum_r[SPAN];
    const int64_t n_frames = job->n_frames;
    const int64_t rows_at = 2 * (n_frames + 2 * job->half); /* offset of row L in a slot's scratch */
    for (int64_t i0 = 0; i0 < n_frames; i0 += SPAN) {
        const int64_t n = n_frames - i0 < SPAN ? n_frames - i0 : SPAN;
        for (int64_t i = 0; i < n; i++) {
            sum_l[i] = (double)out[2 * (i0 + i)];
            sum_r[i] = (double)out[2 * (i0 + i) + 1];
        }
        for (int64_t k = 0; k < n_active; k++) {
            const double *l = job->scratch + active[k] * job->row_len + rows_at + i0;
            const double *r = l + n_frames;
            int64_t m = written[k] - i0; /* a slot that fell silent wrote fewer frames */
            m = m < 0 ? 0 : m > n ? n : m;
            for (int64_t i = 0; i < m; i++) {
                sum_l[i] += l[i];
                sum_r[i] += r[i];
            }
        }
        for (int64_t i = 0; i < n; i++) {
            out[2 * (i0 + i)] = (float)sum_l[i];
            out[2 * (i0 + i) + 1] = (float)sum_r[i];
        }
    }
    if (job->n_stems > 0) {
        for (int64_t k = 0; k < n_active; k++) {
            const int64_t s = active[k];
            const double *m = job->scratch + s * job->row_len + rows_at + 2 * n_frames;
            /* the slot's stem column is read from the row it had before any reset */
            const int64_t stem = job->istate[s * N_ISTATE + I_STEM];
            for (int64_t i = 0; i < written[k]; i++) {
                float *cell = stems + i * job->n_stems + stem;
                *cell = (float)((double)*cell + m[i]);
            }
        }
    }
}

static int get_buffer(PyObject *obj, Py_buffer *view, int writable, Py_ssize_t itemsize, const char *name)
{
    if (PyObject_GetBuffer(obj, view, (writable ? PyBUF_WRITABLE : 0) | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    if (view->itemsize != itemsize) {
        PyErr_Format(PyExc_TypeError, "%s: items of %zd bytes expected, not %zd", name, itemsize, view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(render_doc,
             "render(out, stems, first_frame, n_frames, istate, fstate, ram, carry, carry_res, scratch, table, table_diff, "
             "smooth, n_threads)\n\n"
             "Render every slot for frames [first_frame, first_frame + n_frames) and add into out (float32, "
             "(n, 2)) and stems (float32, (n, n_cards), or empty). See synth/card.py.");

static PyObject *render(PyObject *self, PyObject *args)
{
    PyObject *objs[10];
    long long first_frame, n_frames, n_threads;
    double smooth;
    (void)self;
    /* objs[9] is carry_res, which comes after carry */
    if (!PyArg_ParseTuple(args, "OOLLOOOOOOOOdL", &objs[0], &objs[1], &first_frame, &n_frames, &objs[2],
                          &objs[3], &objs[4], &objs[5], &objs[9], &objs[6], &objs[7], &objs[8], &smooth,
                          &n_threads))
        return NULL;
    static const char *names[10] = {"out", "stems", "istate", "fstate", "ram", "carry", "scratch", "table",
                                    "table_diff", "carry_res"};
    static const Py_ssize_t sizes[10] = {4, 4, 8, 8, 4, 8, 8, 4, 4, 4};
    static const int writable[10] = {1, 1, 1, 1, 0, 1, 1, 0, 0, 1};
    Py_buffer views[10];
    int n_got = 0;
    PyObject *result = NULL;
    for (; n_got < 10; n_got++) {
        if (get_buffer(objs[n_got], &views[n_got], writable[n_got], sizes[n_got], names[n_got]) < 0)
            goto done;
    }
    /* Shapes: out (>= n_frames, 2), stems (>= n_frames, n_stems) or empty, istate (n_slots, N_ISTATE),
     * fstate (n_slots, N_FSTATE), ram (n_slots, WAVE_RAM_SAMPLES), carry and carry_res (n_slots, 2 * half),
     * scratch (>= n_slots * row_len), table and table_diff (n_phases + 1, 2 * half). */
    for (int k = 0; k < 10; k++) {
        if (views[k].ndim != (k == 6 ? 1 : 2)) {
            PyErr_Format(PyExc_ValueError, "render: %s has %d dimensions, not %d", names[k], views[k].ndim,
                         k == 6 ? 1 : 2);
            goto done;
        }
    }
    Job job;
    job.first_frame = first_frame;
    job.n_frames = n_frames;
    job.n_slots = views[2].shape[0];
    job.half = views[7].shape[1] / 2;
    job.n_phases = views[7].shape[0] - 1;
    job.phase_shift = -1;
    for (int k = 0; k <= TIME_FRAC_BITS; k++) {
        if (job.n_phases == ((int64_t)1 << (TIME_FRAC_BITS - k)))
            job.phase_shift = k;
    }
    job.row_len = 5 * n_frames + 4 * job.half;
    job.n_stems = views[1].shape[0] > 0 ? views[1].shape[1] : 0;
    job.istate = (int64_t *)views[2].buf;
    job.fstate = (double *)views[3].buf;
    job.ram = (const float *)views[4].buf;
    job.carry = (double *)views[5].buf;
    job.carry_res = (float *)views[9].buf;
    job.scratch = (double *)views[6].buf;
    job.table = (const float *)views[7].buf;
    job.table_diff = (const float *)views[8].buf;
    job.smooth = smooth;
    if (n_frames < 0 || job.half < 1 || job.n_phases < 1 || views[7].shape[1] != 2 * job.half ||
        views[0].shape[0] < n_frames || views[0].shape[1] != 2 ||
        (job.n_stems > 0 && views[1].shape[0] < n_frames) ||
        views[2].shape[1] != N_ISTATE ||
        views[3].shape[0] != job.n_slots || views[3].shape[1] != N_FSTATE ||
        views[4].shape[0] != job.n_slots || views[4].shape[1] != WAVE_RAM_SAMPLES ||
        views[5].shape[0] != job.n_slots || views[5].shape[1] != 2 * job.half ||
        views[9].shape[0] != job.n_slots || views[9].shape[1] != 2 * job.half ||
        views[6].shape[0] < job.n_slots * job.row_len ||
        views[8].shape[0] != views[7].shape[0] || views[8].shape[1] != views[7].shape[1]) {
        PyErr_SetString(PyExc_ValueError, "render: array shapes do not agree");
        goto done;
    }
    for (int64_t s = 0; s < job.n_slots; s++) {
        const int64_t *st = job.istate + s * N_ISTATE;
        if (st[I_ACTIVE] == PLAYING && (st[I_ADDR] < 0 || st[I_ADDR] >= WAVE_RAM_SAMPLES || st[I_TICK_INC] <= 0)) {
            PyErr_SetString(PyExc_ValueError, "render: a slot's address or clock is out of range");
            goto done;
        }
        if (job.n_stems > 0 && (st[I_STEM] < 0 || st[I_STEM] >= job.n_stems)) {
            PyErr_SetString(PyExc_ValueError, "render: a slot's stem is out of range");
            goto done;
        }
    }

    int64_t active[256], written[256];
    int64_t n_active = 0;
    if (job.n_slots > 256) {
        PyErr_SetString(PyExc_ValueError, "render: at most 256 slots");
        goto done;
    }
    for (int64_t s = 0; s < job.n_slots; s++)
        if (job.istate[s * N_ISTATE + I_ACTIVE] != IDLE)
            active[n_active++] = s;

    Py_BEGIN_ALLOW_THREADS
    Work work = {&job, active, written, n_active, 0};
    int shared = 0;
#if LQS_THREADS
    /* Only long calls are shared: below this the hand-over costs about what it saves, and live blocks
     * (256 frames by default) stay on their real-time thread instead of waiting for an ordinary one.
     * A choice, from timing bench.mid. */
    if (n_threads > 1 && n_active > LQS_LANES && n_frames >= SHARED_MIN_FRAMES)
        shared = render_shared(&work);
#endif
    if (!shared) {
        for (int64_t k = 0; k < n_chunks(&work); k++)
            render_work_chunk(&work, k);
    }

    mix(&job, active, written, n_active, (float *)views[0].buf, (float *)views[1].buf);
    Py_END_ALLOW_THREADS

    result = Py_None;
    Py_INCREF(result);
done:
    for (int k = 0; k < n_got; k++)
        PyBuffer_Release(&views[k]);
    return result;
}

PyDoc_STRVAR(layout_doc, "layout() -> dict: the state layout and constants this kernel was built with.");

#define ENTRY(name) {#name, (double)(name)}
static const struct {
    const char *name;
    double value;
} layout_entries[] = {
    ENTRY(TIME_FRAC_BITS), ENTRY(IDLE), ENTRY(PLAYING), ENTRY(DRAINING), ENTRY(ENDING), ENTRY(I_ACTIVE), ENTRY(I_MODE),
    ENTRY(I_ADDR), ENTRY(I_NEXT_TICK), ENTRY(I_TICK_INC), ENTRY(I_ENV), ENTRY(I_ENV_DIR), ENTRY(I_ENV_NEXT),
    ENTRY(I_ENV_PERIOD), ENTRY(I_ENV_TARGET), ENTRY(I_ENV_STAGE), ENTRY(I_PENDING_RELEASE), ENTRY(I_RATE_ACC),
    ENTRY(I_CURVE), ENTRY(I_LOOP_START), ENTRY(I_LOOP_END), ENTRY(I_SEG_NEXT), ENTRY(I_SEG_PERIOD),
    ENTRY(I_SEG_PENDING), ENTRY(I_VOLUME), ENTRY(I_PERIOD_DECAY), ENTRY(I_PERIOD_RELEASE), ENTRY(I_SUSTAIN),
    ENTRY(I_ENDED), ENTRY(I_DRAIN_LEFT), ENTRY(I_FADE_LEFT), ENTRY(I_FADE_TOTAL), ENTRY(I_FILTER_ON),
    ENTRY(I_STEM), ENTRY(N_ISTATE), ENTRY(F_VALUE), ENTRY(F_GAIN_L), ENTRY(F_GAIN_R), ENTRY(F_GAIN_M),
    ENTRY(F_TGT_L), ENTRY(F_TGT_R), ENTRY(F_TGT_M), ENTRY(F_G), ENTRY(F_G_TGT), ENTRY(F_Z1), ENTRY(F_Z2),
    ENTRY(F_Z3), ENTRY(F_Z4), ENTRY(N_FSTATE), ENTRY(SEGMENT_SAMPLES), ENTRY(WAVE_RAM_SAMPLES),
    ENTRY(MODE1_SEGMENTS), ENTRY(RATE_MULTIPLIER_CLOCKS), ENTRY(SILENCE_LEVEL),
};

static PyObject *layout(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyObject *dict = PyDict_New();
    if (dict == NULL)
        return NULL;
    for (size_t k = 0; k < sizeof(layout_entries) / sizeof(layout_entries[0]); k++) {
        double v = layout_entries[k].value;
        PyObject *value = v == (double)(long long)v ? PyLong_FromLongLong((long long)v) : PyFloat_FromDouble(v);
        if (value == NULL || PyDict_SetItemString(dict, layout_entries[k].name, value) < 0) {
            Py_XDECREF(value);
            Py_DECREF(dict);
            return NULL;
        }
        Py_DECREF(value);
    }
    return dict;
}

static PyMethodDef methods[] = {
    {"render", render, METH_VARARGS, render_doc},
    {"layout", layout, METH_NOARGS, layout_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cards", "The channel cards' render kernel (see synth/card.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__cards(void)
{
    return PyModule_Create(&module);
}
