/*
 * The host view: the live reservations of every prefix of one Unix user,
 * in one file of the user's runtime folder (doc/design.md, "The host
 * view"; behaviour §6).  No Win32 here: the layout, its checks and its
 * reading are unit-tested and fuzzed natively; libs/portres/host.c does
 * the file, its locks and the calls.
 *
 * The file holds a header and PORTRES_HOST_SLOTS slots.  A prefix (a
 * wineserver's run) writes its pool's blocks into its own slot, under its
 * pool mutex, so each slot has one writer at a time; every process reads
 * all slots.  Nothing in the file is trusted: a slot counts only when its
 * magic, its epoch (the header's), its checksum and every block check
 * out, and only while its prefix is alive, which the file's byte locks
 * tell (the kernel drops them when a process or a wineserver dies):
 *
 *   PORTRES_HOST_LOCK_HEADER        exclusive while the header is made anew
 *   PORTRES_HOST_LOCK_LIVE + slot   shared by every process of the prefix
 *                                   that uses the slot; exclusive, for a
 *                                   moment, by a process that claims the
 *                                   slot or empties a dead prefix's
 *   PORTRES_HOST_LOCK_HOLDER(slot, owner)  exclusive by the process with
 *                                   that owner id (runtime and pending
 *                                   blocks go with it)
 *
 * The locks lie past the file's data, which they do not touch.  Ports in
 * host byte order; every field little-endian, as on every Wine host.
 */

#ifndef PORTRES_HOSTVIEW_H
#define PORTRES_HOSTVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "pool.h"

#define PORTRES_HOST_MAGIC       0x31687370u  /* "psh1": the header */
#define PORTRES_HOST_SLOT_MAGIC  0x31736870u  /* "phs1": a slot in use */
#define PORTRES_HOST_VERSION     1
#define PORTRES_HOST_SLOTS       64           /* prefixes running at once */
#define PORTRES_HOST_BLOCKS      PORTRES_MAX_RESERVATIONS
#define PORTRES_HOST_LABEL       128          /* the prefix's path, for show and traces */

#define PORTRES_HOST_LOCK_HEADER  0x40000000u
#define PORTRES_HOST_LOCK_LIVE   0x40000100u
#define PORTRES_HOST_LOCK_HOLDER( slot, owner ) \
    (0x50000000u + ((uint32_t)(slot) << 20) + ((uint32_t)(owner) & 0xfffffu))

struct portres_host_header
{
    uint32_t magic;
    uint32_t version;
    uint32_t slots;      /* PORTRES_HOST_SLOTS */
    uint32_t crc;        /* of the 24 bytes from magic to epoch, crc left 0 */
    uint64_t epoch;      /* random, new each time the file is made anew */
    uint32_t seq[PORTRES_HOST_SLOTS];  /* bumped by every write of a slot */
};

#define PORTRES_HOST_BLOCK_ADMINISTERED 1  /* an administered exclusion: binds may take its ports */

struct portres_host_block
{
    uint16_t start;      /* first port */
    uint16_t count;
    uint8_t  proto;      /* enum portres_proto */
    uint8_t  kind;       /* enum portres_kind */
    uint16_t flags;      /* PORTRES_HOST_BLOCK_* */
    uint32_t holder;     /* runtime and pending: the owner id in its prefix, else 0 */
};

struct portres_host_slot
{
    uint32_t magic;      /* PORTRES_HOST_SLOT_MAGIC, 0 when free */
    uint32_t crc;        /* of the slot from epoch to the last block, crc left out */
    uint64_t epoch;      /* the header's when written */
    uint64_t prefix;     /* the prefix's id: random, one per wineserver run */
    uint32_t seq;        /* the header's seq of this slot when written */
    uint32_t pid;        /* the writing process (Windows pid), for traces */
    uint32_t count;      /* blocks */
    uint32_t reserved;
    char     label[PORTRES_HOST_LABEL];  /* NUL-terminated */
    struct portres_host_block blocks[PORTRES_HOST_BLOCKS];
};

#define PORTRES_HOST_HEADER_SIZE 4096
#define PORTRES_HOST_SLOT_HEAD   offsetof(struct portres_host_slot, blocks)
#define PORTRES_HOST_SLOT_OFFSET( slot ) \
    (PORTRES_HOST_HEADER_SIZE + (uint64_t)(slot) * sizeof(struct portres_host_slot))

void portres_host_header_init( struct portres_host_header *header, uint64_t epoch );
int portres_host_header_valid( const struct portres_host_header *header, size_t size );
size_t portres_host_slot_fill( struct portres_host_slot *slot, const struct portres_pool *pool, uint64_t epoch,
                               uint64_t prefix, uint32_t seq, uint32_t pid, const char *label );
size_t portres_host_slot_size( const struct portres_host_slot *slot );
int portres_host_slot_valid( const struct portres_host_slot *slot, size_t size,
                             const struct portres_host_header *header, unsigned int index );
void portres_host_slot_mark( const struct portres_host_slot *slot, uint8_t bitmap[PORTRES_PROTO_COUNT][PORTRES_BITMAP_BYTES] );
const struct portres_host_block *portres_host_slot_find( const struct portres_host_slot *slot,
                                                         enum portres_proto proto, uint32_t start, uint32_t count,
                                                         const struct portres_host_block *prev );
uint32_t portres_host_pool_hash( const struct portres_pool *pool );

#endif /* PORTRES_HOSTVIEW_H */
