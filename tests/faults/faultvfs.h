/*
 * faultvfs.h - a SQLite VFS for tests that wraps the default one ("unix")
 * and fails writes on command: a full disk (no file may grow) or a failing
 * disk (from the nth write, sync or truncate on, every one fails with an
 * I/O error). Registered as the default VFS, so every connection the
 * process opens afterwards, the store's included, goes through it; while
 * no fault is armed it only passes calls on.
 *
 * SQLite's own test VFS is not in Debian's library; this is the small part
 * of it these tests need. Test code only; not thread-safe (arm and disarm
 * while no other thread uses the database).
 */
#ifndef EP_TEST_FAULTVFS_H
#define EP_TEST_FAULTVFS_H

#include <stdbool.h>

/* What failed first after arming. */
enum faultvfs_op {
    FAULTVFS_NONE,    /* nothing failed */
    FAULTVFS_WRITE,   /* an xWrite */
    FAULTVFS_SYNC,    /* an xSync */
    FAULTVFS_TRUNCATE /* an xTruncate */
};

/* Registers the VFS as the default (once; later calls do nothing). */
void faultvfs_install(void);

/* No file may grow: writes past a file's end fail with SQLITE_FULL. */
void faultvfs_disk_full(bool on);

/*
 * The nth write, sync or truncate from now (1 = the next) fails with an
 * SQLITE_IOERR_* code, and every one after it until faultvfs_off.
 */
void faultvfs_fail_from(long nth);

/* Disarms every fault. */
void faultvfs_off(void);

/* The first operation that failed since arming, or FAULTVFS_NONE. */
enum faultvfs_op faultvfs_first_failure(void);

#endif
