/*
 * libFuzzer target: the journal of persistent changes (libs/core/journal.c)
 *
 * The input is journal text, replayed on a registry list whose generation
 * and entries come from the first bytes.  Replay must neither crash nor
 * hang, must leave a valid list (blocks valid, no overlaps, dynamic
 * ranges valid) and a generation no lower than the registry's; every line
 * that parses must format back to itself byte for byte.
 *
 *   make fuzz FUZZ_SECONDS=60
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

#define CHECK(x) do { if (!(x)) { fprintf( stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x ); abort(); } } while (0)

static struct portres_store_list list;

static void no_warn( void *ctx, const char *text )
{
    CHECK( strlen( text ) < 160 );
}

int LLVMFuzzerTestOneInput( const uint8_t *bytes, size_t size )
{
    const char *text = (const char *)bytes;
    uint64_t reg_gen = 0;
    size_t pos = 0;

    if (size > 65536) return 0;
    portres_store_list_init( &list );
    if (size >= 2)
    {
        reg_gen = bytes[0] % 16;
        for (unsigned int i = 0; i < bytes[1] % 8; i++)
            portres_store_list_add( &list, i & 1, (uint16_t)(1000 * (i + 1)), 10, 0x8000000000000001ull + i );
    }
    list.gen = reg_gen;
    portres_journal_replay( text, size, &list, no_warn, NULL );
    CHECK( list.gen >= reg_gen );
    CHECK( list.count <= PORTRES_MAX_RESERVATIONS );
    for (uint32_t i = 0; i < list.count; i++)
    {
        const struct portres_store_item *a = &list.items[i];
        CHECK( a->proto < PORTRES_PROTO_COUNT && portres_range_valid( a->start, a->count ) );
        for (uint32_t j = i + 1; j < list.count; j++)
        {
            const struct portres_store_item *b = &list.items[j];
            CHECK( a->proto != b->proto || a->start + a->count <= b->start || b->start + b->count <= a->start );
        }
    }
    for (int p = 0; p < PORTRES_PROTO_COUNT; p++)
        CHECK( portres_dynamic_range_valid( list.dyn_first[p], list.dyn_count[p] ) );

    /* every line that parses is canonical */
    while (pos < size)
    {
        const uint8_t *nl = memchr( bytes + pos, '\n', size - pos );
        size_t len = nl ? (size_t)(nl - (bytes + pos)) + 1 : size - pos;
        struct portres_journal_entry e;
        char buf[PORTRES_JOURNAL_LINE_MAX];

        if (portres_journal_parse( text + pos, len, &e ))
        {
            int n = portres_journal_format( buf, sizeof(buf), &e );
            CHECK( n == (int)len && !memcmp( buf, text + pos, len ) );
        }
        pos += len;
    }
    return 0;
}
