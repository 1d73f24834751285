/*
 * The host view's layout: a prefix's slot written from its pool, and the
 * checks every reader makes before it counts a slot (hostview.h)
 */

#include <string.h>

#include "hostview.h"
#include "journal.h"

#define HEADER_CRC_BYTES offsetof(struct portres_host_header, seq)

static uint32_t header_crc( const struct portres_host_header *header )
{
    struct portres_host_header copy;

    memcpy( &copy, header, HEADER_CRC_BYTES );
    copy.crc = 0;
    return portres_journal_crc32( (const char *)&copy, HEADER_CRC_BYTES );
}

/* portres_host_header_init: a new header with epoch, every slot's seq 0 */
void portres_host_header_init( struct portres_host_header *header, uint64_t epoch )
{
    memset( header, 0, sizeof(*header) );
    header->magic = PORTRES_HOST_MAGIC;
    header->version = PORTRES_HOST_VERSION;
    header->slots = PORTRES_HOST_SLOTS;
    header->epoch = epoch;
    header->crc = header_crc( header );
}

/* portres_host_header_valid: 1 if the size bytes read are a whole header
 * of this layout whose checksum holds */
int portres_host_header_valid( const struct portres_host_header *header, size_t size )
{
    return size >= sizeof(*header) && header->magic == PORTRES_HOST_MAGIC &&
           header->version == PORTRES_HOST_VERSION && header->slots == PORTRES_HOST_SLOTS &&
           header->crc == header_crc( header );
}

/* the checksum of a slot's count blocks and its fields after crc */
static uint32_t slot_crc( const struct portres_host_slot *slot, uint32_t count )
{
    size_t from = offsetof(struct portres_host_slot, epoch);
    return portres_journal_crc32( (const char *)slot + from,
                                  PORTRES_HOST_SLOT_HEAD - from + count * sizeof(struct portres_host_block) );
}

/* portres_host_slot_size: the bytes of slot that are written and read
 * (its head and its blocks); count is not checked here */
size_t portres_host_slot_size( const struct portres_host_slot *slot )
{
    uint32_t count = slot->count <= PORTRES_HOST_BLOCKS ? slot->count : PORTRES_HOST_BLOCKS;
    return PORTRES_HOST_SLOT_HEAD + count * sizeof(struct portres_host_block);
}

/* portres_host_slot_fill: slot as the prefix's pool says, every live
 * reservation of every kind (runtime and pending ones with their owner as
 * holder), for the header's epoch, with the slot's new seq; label is cut
 * to fit.  pool NULL: no blocks.  Returns the bytes to write (portres_host_slot_size). */
size_t portres_host_slot_fill( struct portres_host_slot *slot, const struct portres_pool *pool, uint64_t epoch,
                               uint64_t prefix, uint32_t seq, uint32_t pid, const char *label )
{
    const struct portres_reservation *res;
    uint32_t count = 0;

    memset( slot, 0, PORTRES_HOST_SLOT_HEAD );
    slot->magic = PORTRES_HOST_SLOT_MAGIC;
    slot->epoch = epoch;
    slot->prefix = prefix;
    slot->seq = seq;
    slot->pid = pid;
    if (label) strncpy( slot->label, label, sizeof(slot->label) - 1 );
    if (pool) PORTRES_POOL_FOR_EACH( res, pool )
    {
        struct portres_host_block *block = &slot->blocks[count];

        if (count == PORTRES_HOST_BLOCKS) break;
        memset( block, 0, sizeof(*block) );
        block->start = res->start;
        block->count = res->count;
        block->proto = res->proto;
        block->kind = res->kind;
        if (res->kind == PORTRES_KIND_RUNTIME || res->kind == PORTRES_KIND_PENDING) block->holder = res->owner;
        if (portres_res_administered( res )) block->flags = PORTRES_HOST_BLOCK_ADMINISTERED;
        count++;
    }
    slot->count = count;
    slot->crc = slot_crc( slot, count );
    return portres_host_slot_size( slot );
}

/* portres_host_slot_valid: 1 if the size bytes read of slot index are a
 * slot in use, written for this header's epoch and seq, whole, with a
 * checksum that holds, a NUL-terminated label and blocks that are valid
 * ranges of a known protocol and kind.  A slot being written fails (its
 * seq or its checksum): the reader tries again later. */
int portres_host_slot_valid( const struct portres_host_slot *slot, size_t size,
                             const struct portres_host_header *header, unsigned int index )
{
    if (index >= PORTRES_HOST_SLOTS || size < PORTRES_HOST_SLOT_HEAD || slot->magic != PORTRES_HOST_SLOT_MAGIC ||
        slot->epoch != header->epoch || slot->seq != header->seq[index] || slot->count > PORTRES_HOST_BLOCKS ||
        size < portres_host_slot_size( slot ) || !memchr( slot->label, 0, sizeof(slot->label) ) ||
        slot->crc != slot_crc( slot, slot->count ))
        return 0;
    for (uint32_t i = 0; i < slot->count; i++)
    {
        const struct portres_host_block *block = &slot->blocks[i];

        if (block->proto >= PORTRES_PROTO_COUNT || block->kind >= PORTRES_KIND_COUNT ||
            (block->flags & ~PORTRES_HOST_BLOCK_ADMINISTERED) ||
            !portres_range_valid( block->start, block->count ))
            return 0;
    }
    return 1;
}

/* portres_host_slot_mark: set the bits of slot's ports in bitmap (a valid slot) */
void portres_host_slot_mark( const struct portres_host_slot *slot, uint8_t bitmap[PORTRES_PROTO_COUNT][PORTRES_BITMAP_BYTES] )
{
    for (uint32_t i = 0; i < slot->count; i++)
    {
        const struct portres_host_block *block = &slot->blocks[i];

        for (uint32_t port = block->start; port < (uint32_t)block->start + block->count; port++)
            bitmap[block->proto][port >> 3] |= 1 << (port & 7);
    }
}

/* portres_host_slot_find: the next block of slot (a valid one) after prev
 * (NULL: the first) of proto overlapping start..start+count-1; NULL if none */
const struct portres_host_block *portres_host_slot_find( const struct portres_host_slot *slot,
                                                         enum portres_proto proto, uint32_t start, uint32_t count,
                                                         const struct portres_host_block *prev )
{
    uint32_t i = prev ? (uint32_t)(prev - slot->blocks) + 1 : 0;

    for (; i < slot->count; i++)
    {
        const struct portres_host_block *block = &slot->blocks[i];

        if (block->proto == proto && block->start < start + count && start < (uint32_t)block->start + block->count)
            return block;
    }
    return NULL;
}

/* portres_host_pool_hash: a hash (FNV-1a) of what a slot says of pool, so
 * that a prefix writes its slot only when that changed */
uint32_t portres_host_pool_hash( const struct portres_pool *pool )
{
    const struct portres_reservation *res;
    uint32_t hash = 2166136261u;

    PORTRES_POOL_FOR_EACH( res, pool )
    {
        uint32_t words[3] = { res->start | (uint32_t)res->count << 16,
                              res->proto | (uint32_t)res->kind << 8 | (uint32_t)portres_res_administered( res ) << 16,
                              res->kind == PORTRES_KIND_RUNTIME || res->kind == PORTRES_KIND_PENDING ? res->owner : 0 };
        const uint8_t *p = (const uint8_t *)words;

        for (unsigned int i = 0; i < sizeof(words); i++) hash = (hash ^ p[i]) * 16777619u;
    }
    return hash;
}
