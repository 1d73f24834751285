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

#ifndef PORTRES_HELPERMSG_H
#define PORTRES_HELPERMSG_H

#include <stddef.h>
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

/* The board: a second way to ask, with no wineserver round trip.  The
 * helper makes the file PORTRES_HELPER_BOARD (mode 0600) next to its
 * PORTRES_HELPER_FILE, PORTRES_HELPER_SLOTS slots of 64 bytes, and
 * watches it with inotify.  A process takes a slot (an exclusive lock of
 * byte PORTRES_HELPER_BOARD_LOCK + slot, held while it lives), writes a
 * request into its first half and reads the reply from its second half:
 * plain writes and reads at offsets, which Wine makes without its
 * wineserver.  A request is new while its seq differs from the reply's;
 * each half carries a check of its fields, so that a half read while it
 * was being written is not believed.  Only the user can write the file:
 * no key. */
#define PORTRES_HELPER_BOARD       "helper-board"
#define PORTRES_HELPER_SLOTS       256
#define PORTRES_HELPER_BOARD_LOCK  (PORTRES_HELPER_SLOTS * 64)   /* the slots' lock bytes */

struct portres_helper_request
{
    uint32_t magic;                     /* PORTRES_HELPER_MAGIC */
    uint32_t seq;
    uint16_t op;                        /* enum portres_helper_op */
    uint16_t proto;
    uint16_t start;
    uint16_t count;
    uint32_t check;                     /* portres_helper_check of the fields above */
    uint32_t pad[3];
};

struct portres_helper_reply
{
    uint32_t magic;                     /* PORTRES_HELPER_MAGIC */
    uint32_t seq;                       /* of the request answered */
    uint16_t status;                    /* 0, or an errno of the check */
    uint16_t busy;                      /* the first port in use, 0 if none */
    uint16_t proto;                     /* the request's block, echoed: a reply */
    uint16_t start;                     /* is taken only for the block asked */
    uint16_t count;
    uint16_t pad0;
    uint32_t check;                     /* portres_helper_check of the fields above */
    uint32_t pad[2];
};

struct portres_helper_slot
{
    struct portres_helper_request request;
    struct portres_helper_reply   reply;
};

/* the check of a request's or a reply's fields before `check` (FNV-1a) */
static inline uint32_t portres_helper_check( const void *fields, unsigned int size )
{
    const uint8_t *p = fields;
    uint32_t hash = 2166136261u;

    for (unsigned int i = 0; i < size; i++) hash = (hash ^ p[i]) * 16777619u;
    return hash;
}

#define PORTRES_HELPER_REQUEST_FIELDS  offsetof(struct portres_helper_request, check)
#define PORTRES_HELPER_REPLY_FIELDS    offsetof(struct portres_helper_reply, check)

#endif /* PORTRES_HELPERMSG_H */
