/* fl_bufcache.h -- a NumPy memory handler that keeps a few freed large result buffers for reuse.
 *
 * fastloss allocates its results of >= FL_BUF_MIN bytes through this handler (the handler is
 * set only around that allocation, so no other array uses it).  When such an array is freed
 * its buffer is kept, up to FL_BUF_SLOTS buffers and a byte limit (newest kept, oldest freed
 * first), and the next result of exactly the same size reuses it.  A loop that calls
 * y = fl.sigmoid(x) on 1e7 elements then runs without page faults: a fresh 40 MB buffer costs
 * the kernel 4-8 ms of page faults and zeroing (and, with transparent huge pages, an
 * occasional 50 ms compaction stall) against 1.5-3 ms for the computation.
 * Buffers come from NumPy's default handler (its huge-page advice included) and are returned
 * 64-byte aligned: a header before the data keeps the block's start and size, so free and
 * realloc never trust the size NumPy passes.  A lock makes the calls safe from any thread.
 */
#ifndef FL_BUFCACHE_H
#define FL_BUFCACHE_H
#include <Python.h>
#include <pythread.h>
#include <string.h>
#include <numpy/arrayobject.h>

#define FL_BUF_MIN ((size_t)1 << 20)    /* smaller results use NumPy's allocator directly */
#define FL_BUF_SLOTS 8
#define FL_BUF_ALIGN 64

typedef struct { void *block; size_t n; } fl_buf_head;   /* just before the data */

typedef struct {
    PyThread_type_lock lock;
    PyDataMem_Handler *base;         /* NumPy's default handler: the memory comes from it */
    void *block[FL_BUF_SLOTS];       /* cached blocks, oldest first */
    size_t n[FL_BUF_SLOTS];          /* their data sizes */
    int count;
    size_t bytes, limit;             /* cached bytes, and their limit (0: no cache) */
    unsigned long long hits, misses;
} fl_buf_state;
static fl_buf_state fl_buf;

static size_t fl_buf_block_size(size_t n) { return n + sizeof(fl_buf_head) + FL_BUF_ALIGN; }

/* the data pointer inside a fresh block (64-byte aligned, header right before it) */
static void *fl_buf_place(void *block, size_t n)
{
    uintptr_t p = ((uintptr_t)block + sizeof(fl_buf_head) + FL_BUF_ALIGN - 1)
                  & ~(uintptr_t)(FL_BUF_ALIGN - 1);
    fl_buf_head h = {block, n};
    memcpy((char *)p - sizeof h, &h, sizeof h);
    return (void *)p;
}

static fl_buf_head fl_buf_head_of(void *p)
{
    fl_buf_head h;
    memcpy(&h, (char *)p - sizeof h, sizeof h);
    return h;
}

static void fl_buf_base_free(void *block, size_t n)
{
    fl_buf.base->allocator.free(fl_buf.base->allocator.ctx, block, fl_buf_block_size(n));
}

/* drop the oldest buffers until at most `slots` remain and their bytes fit the limit
 * (called with the lock held) */
static void fl_buf_trim(int slots)
{
    int drop = 0;
    size_t bytes = fl_buf.bytes;
    while (drop < fl_buf.count && (fl_buf.count - drop > slots || bytes > fl_buf.limit)) {
        bytes -= fl_buf.n[drop];
        fl_buf_base_free(fl_buf.block[drop], fl_buf.n[drop]);
        drop++;
    }
    memmove(fl_buf.block, fl_buf.block + drop, (size_t)(fl_buf.count - drop) * sizeof(void *));
    memmove(fl_buf.n, fl_buf.n + drop, (size_t)(fl_buf.count - drop) * sizeof(size_t));
    fl_buf.count -= drop;
    fl_buf.bytes = bytes;
}

static void *fl_buf_malloc(void *ctx, size_t n)
{
    (void)ctx;
    void *block = NULL;
    PyThread_acquire_lock(fl_buf.lock, WAIT_LOCK);
    for (int i = fl_buf.count - 1; i >= 0; i--) {        /* newest first */
        if (fl_buf.n[i] == n) {
            block = fl_buf.block[i];
            fl_buf.bytes -= n;
            memmove(fl_buf.block + i, fl_buf.block + i + 1, (size_t)(fl_buf.count - i - 1) * sizeof(void *));
            memmove(fl_buf.n + i, fl_buf.n + i + 1, (size_t)(fl_buf.count - i - 1) * sizeof(size_t));
            fl_buf.count--;
            break;
        }
    }
    if (block) fl_buf.hits++; else fl_buf.misses++;
    PyThread_release_lock(fl_buf.lock);
    if (!block) block = fl_buf.base->allocator.malloc(fl_buf.base->allocator.ctx, fl_buf_block_size(n));
    return block ? fl_buf_place(block, n) : NULL;
}

static void *fl_buf_calloc(void *ctx, size_t nelem, size_t elsize)
{
    (void)ctx;
    if (elsize && nelem > ((size_t)-1 - sizeof(fl_buf_head) - FL_BUF_ALIGN) / elsize) return NULL;
    size_t n = nelem * elsize;
    void *block = fl_buf.base->allocator.calloc(fl_buf.base->allocator.ctx, 1, fl_buf_block_size(n));
    return block ? fl_buf_place(block, n) : NULL;
}

static void fl_buf_free(void *ctx, void *p, size_t size)
{
    (void)ctx; (void)size;
    if (!p) return;
    fl_buf_head h = fl_buf_head_of(p);
    PyThread_acquire_lock(fl_buf.lock, WAIT_LOCK);
    if (h.n >= FL_BUF_MIN && h.n <= fl_buf.limit) {
        if (fl_buf.count == FL_BUF_SLOTS) fl_buf_trim(FL_BUF_SLOTS - 1);
        fl_buf.block[fl_buf.count] = h.block;
        fl_buf.n[fl_buf.count] = h.n;
        fl_buf.count++;
        fl_buf.bytes += h.n;
        fl_buf_trim(FL_BUF_SLOTS);
        h.block = NULL;
    }
    PyThread_release_lock(fl_buf.lock);
    if (h.block) fl_buf_base_free(h.block, h.n);
}

static void *fl_buf_realloc(void *ctx, void *p, size_t n)
{
    if (!p) return fl_buf_malloc(ctx, n);
    fl_buf_head h = fl_buf_head_of(p);
    void *q = fl_buf_malloc(ctx, n);
    if (!q) return NULL;
    memcpy(q, p, h.n < n ? h.n : n);
    fl_buf_free(ctx, p, h.n);
    return q;
}

static PyDataMem_Handler fl_buf_handler = {
    "fastloss_buffer_cache", 1,
    {NULL, fl_buf_malloc, fl_buf_calloc, fl_buf_realloc, fl_buf_free}
};

/* 0 on success; -1 with a Python error set */
static int fl_buf_init(size_t limit)
{
    fl_buf.lock = PyThread_allocate_lock();
    if (!fl_buf.lock) { PyErr_NoMemory(); return -1; }
    fl_buf.base = (PyDataMem_Handler *)PyCapsule_GetPointer(PyDataMem_DefaultHandler, "mem_handler");
    if (!fl_buf.base) return -1;
    fl_buf.limit = limit;
    return 0;
}

/* a new lock in a forked child (the parent's may have been held by another thread) */
static void fl_buf_after_fork(void)
{
    fl_buf.lock = PyThread_allocate_lock();
}

static void fl_buf_set_limit(size_t limit)
{
    PyThread_acquire_lock(fl_buf.lock, WAIT_LOCK);
    fl_buf.limit = limit;
    fl_buf_trim(FL_BUF_SLOTS);
    PyThread_release_lock(fl_buf.lock);
}
#endif
