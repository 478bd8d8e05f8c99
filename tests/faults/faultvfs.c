/*
 * faultvfs.c - the fault-injecting VFS of faultvfs.h.
 *
 * Each file opened through it is a struct fault_file followed by the real
 * VFS's own file object; every method passes the call on to the real one
 * after the fault check. Only xWrite, xSync and xTruncate are ever failed:
 * that is where a full or failing disk shows. Shared memory (the WAL
 * index) is passed on untouched.
 */
#include "faultvfs.h"

#include <sqlite3.h>
#include <string.h>

struct fault_file {
    sqlite3_file base;  /* methods: fault_methods */
    sqlite3_file *real; /* the real VFS's file, right after this struct */
};

static struct {
    sqlite3_vfs *real;      /* the VFS wrapped */
    bool disk_full;         /* no file may grow */
    long countdown;         /* ops until the failing disk; 0: off */
    bool failing;           /* the disk has failed */
    enum faultvfs_op first; /* the first failure since arming */
} state;

static sqlite3_file *real_of(sqlite3_file *file)
{
    return ((struct fault_file *)file)->real;
}

/* Counts an operation; true when it must fail. */
static bool io_fails(enum faultvfs_op op)
{
    if (!state.failing && state.countdown > 0 && --state.countdown == 0)
        state.failing = true;
    if (state.failing && state.first == FAULTVFS_NONE)
        state.first = op;
    return state.failing;
}

static int fault_close(sqlite3_file *file)
{
    sqlite3_file *real = real_of(file);
    int rc = real->pMethods != NULL ? real->pMethods->xClose(real) : SQLITE_OK;

    file->pMethods = NULL;
    return rc;
}

static int fault_read(sqlite3_file *file, void *buf, int amount,
                      sqlite3_int64 offset)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xRead(real, buf, amount, offset);
}

static int fault_write(sqlite3_file *file, const void *buf, int amount,
                       sqlite3_int64 offset)
{
    sqlite3_file *real = real_of(file);
    sqlite3_int64 size = 0;

    if (io_fails(FAULTVFS_WRITE))
        return SQLITE_IOERR_WRITE;
    if (state.disk_full &&
        (real->pMethods->xFileSize(real, &size) != SQLITE_OK ||
         offset + amount > size)) {
        if (state.first == FAULTVFS_NONE)
            state.first = FAULTVFS_WRITE;
        return SQLITE_FULL;
    }
    return real->pMethods->xWrite(real, buf, amount, offset);
}

static int fault_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    sqlite3_file *real = real_of(file);
    sqlite3_int64 now = 0;

    if (io_fails(FAULTVFS_TRUNCATE))
        return SQLITE_IOERR_TRUNCATE;
    if (state.disk_full &&
        (real->pMethods->xFileSize(real, &now) != SQLITE_OK || size > now))
        return SQLITE_FULL;
    return real->pMethods->xTruncate(real, size);
}

static int fault_sync(sqlite3_file *file, int flags)
{
    sqlite3_file *real = real_of(file);

    if (io_fails(FAULTVFS_SYNC))
        return SQLITE_IOERR_FSYNC;
    return real->pMethods->xSync(real, flags);
}

static int fault_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xFileSize(real, size);
}

static int fault_lock(sqlite3_file *file, int level)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xLock(real, level);
}

static int fault_unlock(sqlite3_file *file, int level)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xUnlock(real, level);
}

static int fault_check_reserved(sqlite3_file *file, int *out)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xCheckReservedLock(real, out);
}

static int fault_file_control(sqlite3_file *file, int op, void *arg)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xFileControl(real, op, arg);
}

static int fault_sector_size(sqlite3_file *file)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xSectorSize(real);
}

static int fault_device(sqlite3_file *file)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xDeviceCharacteristics(real);
}

static int fault_shm_map(sqlite3_file *file, int page, int size, int extend,
                         void volatile **out)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xShmMap(real, page, size, extend, out);
}

static int fault_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xShmLock(real, offset, n, flags);
}

static void fault_shm_barrier(sqlite3_file *file)
{
    sqlite3_file *real = real_of(file);

    real->pMethods->xShmBarrier(real);
}

static int fault_shm_unmap(sqlite3_file *file, int delete_flag)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xShmUnmap(real, delete_flag);
}

static int fault_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount,
                       void **out)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xFetch(real, offset, amount, out);
}

static int fault_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *p)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xUnfetch(real, offset, p);
}

static const sqlite3_io_methods fault_methods = {
    3,
    fault_close,
    fault_read,
    fault_write,
    fault_truncate,
    fault_sync,
    fault_file_size,
    fault_lock,
    fault_unlock,
    fault_check_reserved,
    fault_file_control,
    fault_sector_size,
    fault_device,
    fault_shm_map,
    fault_shm_lock,
    fault_shm_barrier,
    fault_shm_unmap,
    fault_fetch,
    fault_unfetch,
};

static int fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file,
                      int flags, int *out_flags)
{
    struct fault_file *f = (struct fault_file *)file;
    int rc;

    (void)vfs;
    f->real = (sqlite3_file *)(f + 1);
    memset(f->real, 0, (size_t)state.real->szOsFile);
    rc = state.real->xOpen(state.real, name, f->real, flags, out_flags);
    /* The real methods must be version 3 (shared memory) to be wrapped. */
    f->base.pMethods =
        f->real->pMethods != NULL && f->real->pMethods->iVersion >= 3
            ? &fault_methods
            : NULL;
    if (rc == SQLITE_OK && f->base.pMethods == NULL) {
        if (f->real->pMethods != NULL)
            f->real->pMethods->xClose(f->real);
        rc = SQLITE_CANTOPEN;
    }
    return rc;
}

static int fault_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return state.real->xDelete(state.real, name, sync_dir);
}

static int fault_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return state.real->xAccess(state.real, name, flags, out);
}

static int fault_full_pathname(sqlite3_vfs *vfs, const char *name, int size,
                               char *out)
{
    (void)vfs;
    return state.real->xFullPathname(state.real, name, size, out);
}

static int fault_randomness(sqlite3_vfs *vfs, int size, char *out)
{
    (void)vfs;
    return state.real->xRandomness(state.real, size, out);
}

static int fault_sleep(sqlite3_vfs *vfs, int microseconds)
{
    (void)vfs;
    return state.real->xSleep(state.real, microseconds);
}

static int fault_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return state.real->xCurrentTime(state.real, out);
}

static int fault_last_error(sqlite3_vfs *vfs, int size, char *out)
{
    (void)vfs;
    return state.real->xGetLastError(state.real, size, out);
}

static int fault_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return state.real->xCurrentTimeInt64(state.real, out);
}

static sqlite3_vfs fault_vfs = {
    2,    /* iVersion: up to xCurrentTimeInt64 */
    0,    /* szOsFile: set at install */
    0,    /* mxPathname: set at install */
    NULL, /* pNext */
    "faultvfs",
    NULL, /* pAppData */
    fault_open,
    fault_delete,
    fault_access,
    fault_full_pathname,
    NULL, /* xDlOpen: extensions are not loaded */
    NULL,
    NULL,
    NULL,
    fault_randomness,
    fault_sleep,
    fault_current_time,
    fault_last_error,
    fault_current_time_int64,
    NULL,
    NULL,
    NULL,
};

void faultvfs_install(void)
{
    if (state.real != NULL)
        return;
    state.real = sqlite3_vfs_find(NULL);
    fault_vfs.szOsFile = (int)sizeof(struct fault_file) + state.real->szOsFile;
    fault_vfs.mxPathname = state.real->mxPathname;
    sqlite3_vfs_register(&fault_vfs, 1);
}

void faultvfs_disk_full(bool on)
{
    state.disk_full = on;
    state.first = FAULTVFS_NONE;
}

void faultvfs_fail_from(long nth)
{
    state.countdown = nth;
    state.failing = false;
    state.first = FAULTVFS_NONE;
}

void faultvfs_off(void)
{
    state.disk_full = false;
    state.countdown = 0;
    state.failing = false;
}

enum faultvfs_op faultvfs_first_failure(void)
{
    return state.first;
}
