/*
 * libFuzzer target: the host view's checks (libs/core/hostview.c), which
 * every reader makes on bytes another process wrote (hostview.h: nothing
 * in the file is trusted)
 *
 * The input is a header followed by a slot, as read from the file, cut
 * anywhere.  Checking them must never read past what was read; a slot
 * that passes must hold only valid blocks, marking and finding in it must
 * stay inside the bitmap, and writing its blocks again into a slot must
 * give one that passes too.
 *
 *   make fuzz FUZZ_SECONDS=60
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostview.h"

#define CHECK(x) do { if (!(x)) { fprintf( stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x ); abort(); } } while (0)

int LLVMFuzzerTestOneInput( const uint8_t *data, size_t size )
{
    static uint8_t bitmap[PORTRES_PROTO_COUNT][PORTRES_BITMAP_BYTES];
    static struct portres_pool pool;
    struct portres_host_header header;
    struct portres_host_slot *slot;
    size_t header_size = size < sizeof(header) ? size : sizeof(header), slot_size = size - header_size;
    unsigned int index = size ? data[0] % (PORTRES_HOST_SLOTS + 1) : 0;

    memset( &header, 0, sizeof(header) );
    memcpy( &header, data, header_size );
    if (!portres_host_header_valid( &header, header_size ))
    {
        /* a reader makes the header anew; the slot is then read against it */
        portres_host_header_init( &header, 42 );
        if (index < PORTRES_HOST_SLOTS && slot_size >= PORTRES_HOST_SLOT_HEAD)
            header.seq[index] = ((const struct portres_host_slot *)(data + header_size))->seq;
    }
    /* exactly the bytes read, on the heap, so that a read past them is caught */
    slot = malloc( slot_size ? slot_size : 1 );
    memcpy( slot, data + header_size, slot_size );
    if (portres_host_slot_valid( slot, slot_size, &header, index ))
    {
        CHECK( slot->count <= PORTRES_HOST_BLOCKS );
        CHECK( portres_host_slot_size( slot ) <= slot_size );
        for (uint32_t i = 0; i < slot->count; i++)
        {
            CHECK( slot->blocks[i].proto < PORTRES_PROTO_COUNT );
            CHECK( portres_range_valid( slot->blocks[i].start, slot->blocks[i].count ) );
        }
        portres_host_slot_mark( slot, bitmap );
        for (uint32_t i = 0; i < slot->count; i++)
            CHECK( portres_host_slot_find( slot, slot->blocks[i].proto, slot->blocks[i].start, 1, NULL ) );

        /* the same blocks through a pool: a slot written from them passes */
        portres_pool_init( &pool, 1 );
        for (uint32_t i = 0; i < slot->count; i++)
        {
            const struct portres_host_block *b = &slot->blocks[i];
            struct portres_reservation tmpl = { .start = b->start, .count = b->count, .proto = b->proto,
                                                .kind = b->kind, .owner = b->holder, .token = i + 1 };
            if (!portres_pool_find_overlap( &pool, b->proto, b->start, b->count )) portres_pool_add( &pool, &tmpl );
        }
        {
            struct portres_host_slot *again = malloc( sizeof(*again) );
            size_t n = portres_host_slot_fill( again, &pool, header.epoch, slot->prefix, header.seq[index], 1, slot->label );
            CHECK( portres_host_slot_valid( again, n, &header, index ) );
            free( again );
        }
    }
    free( slot );

    /* and a slot written from blocks the input names, then one byte of it
     * changed (where and to what, from the input): it passes only if the
     * change left it valid */
    if (size >= 4)
    {
        struct portres_host_slot *made = malloc( sizeof(*made) );
        size_t n;

        portres_pool_init( &pool, 1 );
        for (size_t i = 3; i + 5 <= size; i += 5)
        {
            struct portres_reservation tmpl = { .start = data[i] | data[i + 1] << 8, .count = data[i + 2] | data[i + 3] << 8,
                                                .proto = data[i + 4] & 1, .kind = (data[i + 4] >> 1) % PORTRES_KIND_COUNT,
                                                .owner = data[i], .token = i + 1 };
            if (portres_range_valid( tmpl.start, tmpl.count ) &&
                !portres_pool_find_overlap( &pool, tmpl.proto, tmpl.start, tmpl.count ))
                portres_pool_add( &pool, &tmpl );
        }
        portres_host_header_init( &header, 7 );
        header.seq[1] = 3;
        n = portres_host_slot_fill( made, &pool, header.epoch, 5, 3, 1, "prefix" );
        CHECK( portres_host_slot_valid( made, n, &header, 1 ) );
        ((uint8_t *)made)[(data[1] | data[2] << 8) % n] ^= data[0] | 1;
        if (portres_host_slot_valid( made, n, &header, 1 ))
            for (uint32_t i = 0; i < made->count; i++)
                CHECK( portres_range_valid( made->blocks[i].start, made->blocks[i].count ) );
        free( made );
    }
    return 0;
}
