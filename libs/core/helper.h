/*
 * The host helper's protocol: portres-helper (tools/portres-helper.c), a
 * native Linux program, answers "is a port of this block in use on the
 * host?" for the PE code of every prefix of one Unix user (doc/design.md,
 * "The host helper").  No Win32 here: both sides include it.
 *
 * The helper listens on a UDP socket of 127.0.0.1 and writes its port
 * and a random key to the file PORTRES_HELPER_FILE of its runtime folder
 * (the user's $XDG_RUNTIME_DIR/portres, mode 0700, or PORTRES_RUNTIME_DIR),
 * which only the user can read.  A request carries the key; a request
 * without it gets no answer, and a reply carries it back, so another user
 * can neither ask nor answer.  Ports in host byte order.
 */

#ifndef PORTRES_HELPER_H
#define PORTRES_HELPER_H

#include <stdint.h>

#define PORTRES_HELPER_MAGIC   0x31687270u  /* "prh1" */
#define PORTRES_HELPER_KEY     16
#define PORTRES_HELPER_FILE    "helper"     /* "PORT KEY-IN-HEX PID\n" */
#define PORTRES_HELPER_IDLE_S  60           /* the helper ends after this long without a request */

enum portres_helper_op
{
    PORTRES_HELPER_IN_USE = 1,  /* start, count, proto: the first port of the block in use, or 0 */
};

struct portres_helper_msg
{
    uint32_t magic;
    uint32_t seq;                       /* the request's, echoed */
    uint8_t  key[PORTRES_HELPER_KEY];
    uint16_t op;                        /* enum portres_helper_op */
    uint16_t proto;                     /* enum portres_proto */
    uint16_t start;
    uint16_t count;
    uint16_t status;                    /* reply: 0, or an errno of the check */
    uint16_t busy;                      /* reply: the first port in use, 0 if none */
};

#endif /* PORTRES_HELPER_H */
