// Persistent worker pool: workers spin on a ticket word, then park on a futex.
// ticket = gen (24 bits) | ntasks (20 bits) | next task (20 bits): a worker claims a task with one
// CAS, and a stale worker can never claim a task of a newer job (the generation would differ).
#define _GNU_SOURCE
#include "riptide_kernels.h"
#include <immintrin.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SPIN_ITERS 20000   // ~50–100 µs of pause before parking
#define MAX_WORKERS 64

struct rk_pool {
    int threads;
    _Atomic unsigned long long ticket;
    _Atomic unsigned wake;            // futex word: bumped on every job
    _Atomic int parked;               // workers asleep or about to sleep
    _Atomic int done;                 // tasks finished in the current job
    _Atomic int quit;
    pthread_mutex_t busy;             // one job at a time; a second (or nested) caller runs inline
    rk_task_fn fn;                    // valid while the job has unclaimed or running tasks
    void *ctx;
    pthread_t tids[MAX_WORKERS];
    struct { void *p; long bytes; char pad[48]; } scratch[MAX_WORKERS];
};

#define GEN(t) ((t) >> 40)
#define NT(t) (((t) >> 20) & 0xFFFFF)
#define IDX(t) ((t) & 0xFFFFF)

// Claims and runs tasks of generation `gen` until none is left.
static void drain(rk_pool *p, unsigned long long gen, int worker) {
    unsigned long long t = atomic_load(&p->ticket);
    while (GEN(t) == gen && IDX(t) < NT(t)) {
        if (atomic_compare_exchange_weak(&p->ticket, &t, t + 1)) {
            p->fn(p->ctx, (int)IDX(t), worker);
            atomic_fetch_add(&p->done, 1);
            t = atomic_load(&p->ticket);
        }
    }
}

typedef struct { rk_pool *p; int worker; } start_arg;

static void *worker_main(void *arg) {
    start_arg sa = *(start_arg *)arg;
    free(arg);
    rk_pool *p = sa.p;
    unsigned long long seen = GEN(atomic_load(&p->ticket));
    for (;;) {
        int spins = 0;
        unsigned long long t;
        for (;;) {
            if (atomic_load_explicit(&p->quit, memory_order_relaxed)) return NULL;
            t = atomic_load(&p->ticket);
            if (GEN(t) != seen) break;
            if (++spins < SPIN_ITERS) { _mm_pause(); continue; }
            unsigned w = atomic_load(&p->wake);
            atomic_fetch_add(&p->parked, 1);
            t = atomic_load(&p->ticket);   // re-check after announcing: the caller reads `parked` after publishing
            if (GEN(t) == seen && !atomic_load(&p->quit))
                syscall(SYS_futex, &p->wake, FUTEX_WAIT_PRIVATE, w, NULL, NULL, 0);
            atomic_fetch_sub(&p->parked, 1);
            spins = 0;
        }
        seen = GEN(t);
        drain(p, seen, sa.worker);
    }
}

rk_pool *rk_pool_create(int threads) {
    if (threads < 1) threads = 1;
    if (threads > MAX_WORKERS) threads = MAX_WORKERS;
    rk_pool *p = aligned_alloc(64, (sizeof(rk_pool) + 63) / 64 * 64);
    memset(p, 0, sizeof *p);
    p->threads = threads;
    pthread_mutex_init(&p->busy, NULL);
    for (int i = 1; i < threads; i++) {
        start_arg *a = malloc(sizeof *a);
        a->p = p; a->worker = i;
        pthread_create(&p->tids[i], NULL, worker_main, a);
    }
    return p;
}

int rk_pool_threads(const rk_pool *p) { return p->threads; }

enum { MAX_TASKS = (1 << 20) - 1 };   // the ticket packs the task count in 20 bits
typedef struct { rk_task_fn fn; void *ctx; int base; } offset_job;
static void offset_task(void *c, int task, int worker) { offset_job *j = c; j->fn(j->ctx, j->base + task, worker); }

void rk_pool_run(rk_pool *p, int tasks, rk_task_fn fn, void *ctx) {
    if (tasks <= 0) return;
    if (tasks > MAX_TASKS) {   // more tasks than a ticket holds: run them in rounds
        for (int base = 0; base < tasks; base += MAX_TASKS) {
            offset_job j = {fn, ctx, base};
            rk_pool_run(p, tasks - base < MAX_TASKS ? tasks - base : MAX_TASKS, offset_task, &j);
        }
        return;
    }
    if (p->threads == 1 || tasks == 1 || pthread_mutex_trylock(&p->busy) != 0) {
        for (int i = 0; i < tasks; i++) fn(ctx, i, -1);   // inline: worker -1 uses thread-local scratch
        return;
    }
    p->fn = fn; p->ctx = ctx;
    atomic_store(&p->done, 0);
    unsigned long long gen = (GEN(atomic_load(&p->ticket)) + 1) & 0xFFFFFF;
    atomic_store(&p->ticket, (gen << 40) | ((unsigned long long)tasks << 20));
    atomic_fetch_add(&p->wake, 1);
    if (atomic_load(&p->parked) > 0) syscall(SYS_futex, &p->wake, FUTEX_WAKE_PRIVATE, MAX_WORKERS, NULL, NULL, 0);
    drain(p, gen, 0);
    while (atomic_load(&p->done) < tasks) _mm_pause();
    pthread_mutex_unlock(&p->busy);
}

static __thread struct { void *p; long bytes; } tls_scratch;

void *rk_pool_scratch(rk_pool *p, int worker, long bytes) {
    if (worker < 0) {
        if (tls_scratch.bytes < bytes) {
            free(tls_scratch.p);
            tls_scratch.bytes = (bytes + 4095) / 4096 * 4096;
            tls_scratch.p = aligned_alloc(64, tls_scratch.bytes);
        }
        return tls_scratch.p;
    }
    if (p->scratch[worker].bytes < bytes) {
        free(p->scratch[worker].p);
        long rounded = (bytes + 4095) / 4096 * 4096;
        p->scratch[worker].p = aligned_alloc(64, rounded);
        p->scratch[worker].bytes = rounded;
    }
    return p->scratch[worker].p;
}

void rk_pool_destroy(rk_pool *p) {
    atomic_store(&p->quit, 1);
    atomic_fetch_add(&p->wake, 1);
    syscall(SYS_futex, &p->wake, FUTEX_WAKE_PRIVATE, MAX_WORKERS, NULL, NULL, 0);
    for (int i = 1; i < p->threads; i++) pthread_join(p->tids[i], NULL);
    for (int i = 0; i < p->threads; i++) free(p->scratch[i].p);
    free(p);
}
