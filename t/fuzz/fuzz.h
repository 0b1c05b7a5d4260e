
/*
 * Copyright (C) nginx-webrtc-module authors
 */


#ifndef _FUZZ_H_INCLUDED_
#define _FUZZ_H_INCLUDED_


/*
 * libFuzzer targets of the pure codecs.  Besides memory errors, which the
 * sanitizers catch, each target checks what the module relies on after a
 * codec accepted its input, and aborts with a message when it does not
 * hold: libFuzzer then saves the input as a crash.
 */


#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>


#define fuzz_assert(cond, what)                                              \
    if (!(cond)) {                                                           \
        fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, what);            \
        abort();                                                             \
    }


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#endif /* _FUZZ_H_INCLUDED_ */
