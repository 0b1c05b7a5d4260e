
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _UNIT_H_INCLUDED_
#define _UNIT_H_INCLUDED_


/*
 * A tiny TAP producer for the C unit tests of the pure codecs.
 *
 *     int
 *     main(int argc, char **argv)
 *     {
 *         unit_init(argc, argv);
 *         ok(1 + 1 == 2, "arithmetic");
 *         is_int(f(), 3, "f() is %d", 3);
 *         return done();
 *     }
 *
 * Every check prints "ok N - name" or "not ok N - name" followed by
 * "#" diagnostics; done() prints the plan "1..N" (TAP allows it last),
 * a "# N passed, N failed" line, and returns the exit status.
 * argv[1] is the fixtures directory (t/sdp by default).
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>


/*
 * UBSan reports are fatal, as ASan's are: built with the recoverable
 * -fsanitize=undefined, a report would otherwise only be printed.
 * Defined here, so unit.h goes in one source file of a test program.
 */

const char *__ubsan_default_options(void);

const char *
__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1";
}


static unsigned     unit_tests;
static unsigned     unit_failed;
static const char  *unit_dir = "t/sdp";


#define ok(cond, ...)                                                        \
    unit_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, expected, ...)                                           \
    unit_is_int((long long) (got), (long long) (expected), __FILE__,         \
                __LINE__, __VA_ARGS__)

/* got is evaluated twice */
#define is_str(got, expected, ...)                                           \
    unit_is_mem((const void *) (got), (got) ? strlen(got) : 0, expected,     \
                __FILE__, __LINE__, __VA_ARGS__)

/* a counted string (pointer, length) against a C string */
#define is_mem(got, len, expected, ...)                                      \
    unit_is_mem((const void *) (got), len, expected, __FILE__, __LINE__,     \
                __VA_ARGS__)

#define diag(...)  unit_diag(__VA_ARGS__)

#define done()  unit_done()


static inline void
unit_vname(int pass, const char *fmt, va_list args)
{
    unit_tests++;

    if (!pass) {
        unit_failed++;
    }

    printf("%sok %u - ", pass ? "" : "not ", unit_tests);
    vprintf(fmt, args);
    printf("\n");
}


static inline void
unit_diag(const char *fmt, ...)
{
    va_list  args;

    printf("# ");
    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);
    printf("\n");
    fflush(stdout);
}


static inline int
unit_ok(int pass, const char *file, int line, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    unit_vname(pass, fmt, args);
    va_end(args);

    if (!pass) {
        unit_diag("  Failed test at %s line %d.", file, line);
    }

    fflush(stdout);

    return pass;
}


static inline int
unit_is_int(long long got, long long expected, const char *file, int line,
    const char *fmt, ...)
{
    int      pass;
    va_list  args;

    pass = (got == expected);

    va_start(args, fmt);
    unit_vname(pass, fmt, args);
    va_end(args);

    if (!pass) {
        unit_diag("  Failed test at %s line %d.", file, line);
        unit_diag("         got: %lld", got);
        unit_diag("    expected: %lld", expected);
    }

    fflush(stdout);

    return pass;
}


static inline int
unit_is_mem(const void *got, size_t len, const char *expected,
    const char *file, int line, const char *fmt, ...)
{
    int      pass;
    va_list  args;

    if (got == NULL || expected == NULL) {
        pass = (got == NULL && expected == NULL);

    } else {
        pass = (len == strlen(expected) && memcmp(got, expected, len) == 0);
    }

    va_start(args, fmt);
    unit_vname(pass, fmt, args);
    va_end(args);

    if (!pass) {
        unit_diag("  Failed test at %s line %d.", file, line);

        if (got) {
            unit_diag("         got: '%.*s'", (int) len, (const char *) got);

        } else {
            unit_diag("         got: NULL");
        }

        unit_diag("    expected: '%s'", expected ? expected : "NULL");
    }

    fflush(stdout);

    return pass;
}


static inline void
unit_init(int argc, char **argv)
{
    if (argc > 1) {
        unit_dir = argv[1];
    }

    /* keep TAP lines and sanitizer reports in order */
    setvbuf(stdout, NULL, _IOLBF, 0);
}


/*
 * Reads <dir>/<name> into a malloc()ed buffer of exactly *len bytes (no
 * terminating NUL, so that ASan catches a read past the end).  Returns
 * NULL and fails a test if the file cannot be read.
 */

static inline u_char *
unit_fixture(const char *name, size_t *len)
{
    long     size;
    FILE    *f;
    char     path[4096];
    u_char  *buf;

    *len = 0;

    snprintf(path, sizeof(path), "%s/%s", unit_dir, name);

    f = fopen(path, "rb");
    if (f == NULL) {
        unit_ok(0, __FILE__, __LINE__, "fixture %s can be opened", path);
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        unit_ok(0, __FILE__, __LINE__, "fixture %s can be read", path);
        return NULL;
    }

    buf = malloc(size ? (size_t) size : 1);
    if (buf == NULL) {
        fclose(f);
        unit_ok(0, __FILE__, __LINE__, "malloc(%ld)", size);
        return NULL;
    }

    if (fread(buf, 1, (size_t) size, f) != (size_t) size) {
        fclose(f);
        free(buf);
        unit_ok(0, __FILE__, __LINE__, "fixture %s can be read", path);
        return NULL;
    }

    fclose(f);

    *len = (size_t) size;

    return buf;
}


/* a copy of len bytes in a buffer of exactly that size */

static inline u_char *
unit_dup(const void *p, size_t len)
{
    u_char  *buf;

    buf = malloc(len ? len : 1);
    if (buf == NULL) {
        printf("Bail out! malloc(%zu) failed\n", len);
        exit(2);
    }

    memcpy(buf, p, len);

    return buf;
}


static inline int
unit_done(void)
{
    printf("1..%u\n", unit_tests);
    printf("# %u passed, %u failed\n", unit_tests - unit_failed, unit_failed);
    fflush(stdout);

    return unit_failed ? 1 : 0;
}


#endif /* _UNIT_H_INCLUDED_ */
