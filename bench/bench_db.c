/* bench_db.c - a fresh database per bench scenario (bench_db.h). */
#include "bench_db.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *bench_db_base(const char *arg)
{
    const char *env = getenv("EDGEPROMO_BENCH_DB");

    if (arg != NULL && arg[0] != '\0')
        return arg;
    return env != NULL && env[0] != '\0' ? env : NULL;
}

bool bench_db_is_postgres(const char *base)
{
    return base != NULL && (strncmp(base, "postgresql://", 13) == 0 ||
                            strncmp(base, "postgres://", 11) == 0);
}

const char *bench_db_engine(const char *base)
{
    return bench_db_is_postgres(base) ? "postgresql" : "sqlite";
}

/* Runs sql on base; 0 or -1 with a message on stderr. */
static int pg_exec(const char *base, const char *sql)
{
    PGconn *conn = PQconnectdb(base);
    PGresult *res = NULL;
    int rc = -1;

    if (PQstatus(conn) == CONNECTION_OK) {
        res = PQexec(conn, sql);
        if (PQresultStatus(res) == PGRES_COMMAND_OK ||
            PQresultStatus(res) == PGRES_TUPLES_OK)
            rc = 0;
    }
    if (rc != 0)
        fprintf(stderr, "bench: %s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    PQfinish(conn);
    return rc;
}

/* base with options=-csearch_path=name added to its parameters. */
static void url_with_schema(const char *base, const char *name, char *url,
                            size_t size)
{
    snprintf(url, size, "%s%soptions=-csearch_path%%3D%s", base,
             strchr(base, '?') != NULL ? "&" : "?", name);
}

int bench_db_fresh(const char *base, const char *dir, const char *name,
                   char *url, size_t size)
{
    char sql[256];

    if (!bench_db_is_postgres(base)) {
        snprintf(url, size, "%s/edge.db", dir);
        snprintf(sql, sizeof(sql), "rm -f '%s' '%s-wal' '%s-shm'", url, url,
                 url);
        return system(sql) == 0 ? 0 : -1;
    }
    snprintf(sql, sizeof(sql),
             "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s "
             "CASCADE; CREATE SCHEMA %s",
             name, name);
    url_with_schema(base, name, url, size);
    return pg_exec(base, sql);
}

void bench_db_drop(const char *base, const char *name)
{
    char sql[160];

    if (!bench_db_is_postgres(base))
        return;
    snprintf(sql, sizeof(sql),
             "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s "
             "CASCADE",
             name);
    pg_exec(base, sql);
}

static long long pg_schema_size(const char *base, const char *name)
{
    const char *sql = "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), "
                      "0) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                      "c.relnamespace WHERE n.nspname = $1 AND c.relkind "
                      "IN ('r', 'm')";
    PGconn *conn = PQconnectdb(base);
    PGresult *res = NULL;
    long long bytes = -1;

    if (PQstatus(conn) == CONNECTION_OK)
        res = PQexecParams(conn, sql, 1, NULL, &name, NULL, NULL, 0);
    if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK)
        bytes = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(conn);
    return bytes;
}

long long bench_db_size(const char *base, const char *dir, const char *name)
{
    char path[600];
    struct stat info;

    if (bench_db_is_postgres(base))
        return pg_schema_size(base, name);
    snprintf(path, sizeof(path), "%s/edge.db", dir);
    return stat(path, &info) == 0 ? (long long)info.st_size : -1;
}
