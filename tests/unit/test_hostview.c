/*
 * cmocka tests: the host view's layout (libs/core/hostview.c): a slot
 * written from a pool, and every check a reader makes before it counts a
 * slot (header, epoch, seq, checksum, size, label, blocks)
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hostview.h"

static struct portres_pool pool;
static struct portres_host_slot slot;
static struct portres_host_header header;

static void add( uint16_t start, uint16_t count, enum portres_proto proto, enum portres_kind kind, uint32_t owner )
{
    struct portres_reservation tmpl = { .start = start, .count = count, .proto = proto, .kind = kind, .owner = owner };

    tmpl.token = portres_pool_new_token( &pool, kind != PORTRES_KIND_RUNTIME );
    assert_non_null( portres_pool_add( &pool, &tmpl ) );
}

static int setup( void **state )
{
    portres_pool_init( &pool, 0x1234 );
    portres_host_header_init( &header, 0xfeedfacecafebeefull );
    return 0;
}

static void test_header( void **state )
{
    struct portres_host_header copy = header;

    assert_true( portres_host_header_valid( &header, sizeof(header) ) );
    assert_false( portres_host_header_valid( &header, sizeof(header) - 1 ) );  /* truncated */
    assert_false( portres_host_header_valid( &header, 0 ) );                   /* a new, empty file */
    copy.epoch ^= 1;                                                            /* damaged */
    assert_false( portres_host_header_valid( &copy, sizeof(copy) ) );
    copy = header;
    copy.version++;
    assert_false( portres_host_header_valid( &copy, sizeof(copy) ) );
    copy = header;
    copy.seq[3] = 77;  /* the seqs change without the checksum */
    assert_true( portres_host_header_valid( &copy, sizeof(copy) ) );
}

static void test_fill_and_read( void **state )
{
    uint8_t bitmap[PORTRES_PROTO_COUNT][PORTRES_BITMAP_BYTES];
    const struct portres_host_block *block;
    size_t size;

    add( 50000, 10, PORTRES_TCP, PORTRES_KIND_RUNTIME, 7 );
    add( 50000, 5, PORTRES_UDP, PORTRES_KIND_PERSISTENT, 0 );
    add( 40000, 1, PORTRES_TCP, PORTRES_KIND_PENDING, 9 );
    add( 41000, 100, PORTRES_UDP, PORTRES_KIND_ACTIVE, 0 );
    header.seq[2] = 5;
    size = portres_host_slot_fill( &slot, &pool, header.epoch, 0xabcull, 5, 1234, "/home/u/.wine" );
    assert_int_equal( size, PORTRES_HOST_SLOT_HEAD + 4 * sizeof(struct portres_host_block) );
    assert_int_equal( portres_host_slot_size( &slot ), size );
    assert_true( portres_host_slot_valid( &slot, size, &header, 2 ) );
    assert_int_equal( slot.count, 4 );
    assert_string_equal( slot.label, "/home/u/.wine" );

    /* runtime and pending blocks carry their owner, the others none */
    block = portres_host_slot_find( &slot, PORTRES_TCP, 50005, 1, NULL );
    assert_non_null( block );
    assert_int_equal( block->holder, 7 );
    assert_int_equal( block->kind, PORTRES_KIND_RUNTIME );
    assert_null( portres_host_slot_find( &slot, PORTRES_TCP, 50005, 1, block ) );
    block = portres_host_slot_find( &slot, PORTRES_TCP, 40000, 1, NULL );
    assert_int_equal( block->holder, 9 );
    block = portres_host_slot_find( &slot, PORTRES_UDP, 49990, 11, NULL );
    assert_int_equal( block->start, 50000 );
    assert_int_equal( block->holder, 0 );
    assert_null( portres_host_slot_find( &slot, PORTRES_UDP, 49990, 10, NULL ) );  /* ends at 49999 */
    assert_null( portres_host_slot_find( &slot, PORTRES_UDP, 50005, 1, NULL ) );   /* UDP ends at 50004 */

    memset( bitmap, 0, sizeof(bitmap) );
    portres_host_slot_mark( &slot, bitmap );
    assert_true( bitmap[PORTRES_TCP][50009 >> 3] & (1 << (50009 & 7)) );
    assert_false( bitmap[PORTRES_TCP][50010 >> 3] & (1 << (50010 & 7)) );
    assert_true( bitmap[PORTRES_UDP][41099 >> 3] & (1 << (41099 & 7)) );
    assert_false( bitmap[PORTRES_UDP][40000 >> 3] & (1 << (40000 & 7)) );
}

static void test_slot_checks( void **state )
{
    struct portres_host_slot *copy = malloc( sizeof(*copy) );
    size_t size;

    add( 50000, 10, PORTRES_TCP, PORTRES_KIND_RUNTIME, 7 );
    add( 60000, 3, PORTRES_UDP, PORTRES_KIND_PERSISTENT, 0 );
    header.seq[0] = 9;
    size = portres_host_slot_fill( &slot, &pool, header.epoch, 0xabcull, 9, 1, "x" );
    assert_true( portres_host_slot_valid( &slot, size, &header, 0 ) );

    assert_false( portres_host_slot_valid( &slot, size - 1, &header, 0 ) );        /* short read */
    assert_false( portres_host_slot_valid( &slot, size, &header, 1 ) );            /* another slot's seq */
    assert_false( portres_host_slot_valid( &slot, size, &header, PORTRES_HOST_SLOTS ) );
    header.seq[0] = 10;                                                             /* being written */
    assert_false( portres_host_slot_valid( &slot, size, &header, 0 ) );
    header.seq[0] = 9;
    header.epoch++;                                                                 /* the file made anew */
    assert_false( portres_host_slot_valid( &slot, size, &header, 0 ) );
    header.epoch--;

    memcpy( copy, &slot, size );
    copy->blocks[1].start = 65535;  /* a block past 65535, checksum broken too */
    assert_false( portres_host_slot_valid( copy, size, &header, 0 ) );
    memcpy( copy, &slot, size );
    copy->count = 3;                /* more blocks than written */
    assert_false( portres_host_slot_valid( copy, size, &header, 0 ) );
    copy->count = PORTRES_HOST_BLOCKS + 1;
    assert_false( portres_host_slot_valid( copy, size, &header, 0 ) );
    memcpy( copy, &slot, size );
    memset( copy->label, 'a', sizeof(copy->label) );  /* no NUL */
    assert_false( portres_host_slot_valid( copy, size, &header, 0 ) );
    memcpy( copy, &slot, size );
    copy->magic = 0;                /* emptied */
    assert_false( portres_host_slot_valid( copy, size, &header, 0 ) );
    free( copy );
}

static void test_empty_slot( void **state )
{
    size_t size = portres_host_slot_fill( &slot, NULL, header.epoch, 1, 1, 1, NULL );

    header.seq[4] = 1;
    assert_int_equal( size, PORTRES_HOST_SLOT_HEAD );
    assert_true( portres_host_slot_valid( &slot, size, &header, 4 ) );
    assert_null( portres_host_slot_find( &slot, PORTRES_TCP, 0, 65535, NULL ) );
}

static void test_hash( void **state )
{
    uint32_t empty = portres_host_pool_hash( &pool ), one, again;
    struct portres_reservation *res;

    add( 50000, 10, PORTRES_TCP, PORTRES_KIND_RUNTIME, 7 );
    one = portres_host_pool_hash( &pool );
    assert_int_not_equal( empty, one );
    res = portres_pool_find_overlap( &pool, PORTRES_TCP, 50000, 1 );
    res->kind = PORTRES_KIND_PENDING;  /* what a slot says changed */
    assert_int_not_equal( portres_host_pool_hash( &pool ), one );
    res->kind = PORTRES_KIND_RUNTIME;
    res->pid = 99;                     /* what it does not say */
    res->token ^= 1;
    again = portres_host_pool_hash( &pool );
    assert_int_equal( again, one );
    portres_pool_remove( &pool, res );
    assert_int_equal( portres_host_pool_hash( &pool ), empty );
}

int main( void )
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test_setup( test_header, setup ),
        cmocka_unit_test_setup( test_fill_and_read, setup ),
        cmocka_unit_test_setup( test_slot_checks, setup ),
        cmocka_unit_test_setup( test_empty_slot, setup ),
        cmocka_unit_test_setup( test_hash, setup ),
    };
    return cmocka_run_group_tests( tests, NULL, NULL );
}
