/*
 * Unit tests of the reservation pool (libs/core/pool.c), native, cmocka
 *
 * struct portres_pool is ~145 KB: every test allocates it with calloc.
 * check_consistent() recomputes the bitmaps, live[] and the high-water
 * mark from the slots by brute force and compares them with the pool.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pool.h"

#define BIT63 PORTRES_PERSISTENT_TOKEN_BIT

/* --- helpers ------------------------------------------------------------ */

static struct portres_pool *new_pool( void )
{
    struct portres_pool *pool = calloc( 1, sizeof(*pool) );
    assert_non_null( pool );
    portres_pool_init( pool, 0x1234567800000000ull );
    return pool;
}

static struct portres_reservation tmpl( enum portres_proto proto, uint16_t start, uint16_t count,
                                        int persistent, uint32_t owner, uint64_t socket, uint64_t token )
{
    struct portres_reservation r;
    memset( &r, 0, sizeof(r) );
    r.token = token;
    r.watch = socket;
    r.owner = persistent ? 0 : owner;
    r.pid = owner * 10;
    r.start = start;
    r.count = count;
    r.proto = (uint8_t)proto;
    r.kind = persistent ? PORTRES_KIND_PERSISTENT : PORTRES_KIND_RUNTIME;
    return r;
}

/* add a reservation with a fresh token of the right kind */
static struct portres_reservation *add( struct portres_pool *pool, enum portres_proto proto, uint16_t start,
                                        uint16_t count, int persistent, uint32_t owner, uint64_t socket )
{
    struct portres_reservation r = tmpl( proto, start, count, persistent, owner, socket,
                                         portres_pool_new_token( pool, persistent ) );
    return portres_pool_add( pool, &r );
}

static int bit( const uint8_t *bitmap, uint32_t port )
{
    return (bitmap[port >> 3] >> (port & 7)) & 1;
}

/* the pool's derived state agrees with its slots */
static void check_consistent( const struct portres_pool *pool )
{
    static uint8_t bitmap[PORTRES_PROTO_COUNT][65536 / 8];
    uint32_t live[PORTRES_PROTO_COUNT] = { 0 };
    uint32_t last = 0;

    memset( bitmap, 0, sizeof(bitmap) );
    assert_true( pool->used <= PORTRES_MAX_RESERVATIONS );
    for (uint32_t i = 0; i < PORTRES_MAX_RESERVATIONS; i++)
    {
        const struct portres_reservation *r = &pool->res[i];
        if (!r->token) continue;
        assert_true( r->proto < PORTRES_PROTO_COUNT );
        assert_true( portres_range_valid( r->start, r->count ) );
        for (uint32_t p = r->start; p < (uint32_t)r->start + r->count; p++)
        {
            assert_int_equal( bit( bitmap[r->proto], p ), 0 );  /* no two live slots overlap */
            bitmap[r->proto][p >> 3] |= 1u << (p & 7);
        }
        live[r->proto]++;
        last = i + 1;
    }
    assert_memory_equal( bitmap, pool->bitmap, sizeof(bitmap) );
    assert_int_equal( live[PORTRES_TCP], pool->live[PORTRES_TCP] );
    assert_int_equal( live[PORTRES_UDP], pool->live[PORTRES_UDP] );
    /* the high-water mark is kept tight: one past the last slot in use */
    assert_int_equal( pool->used, last );
}

static void assert_block_reserved( const struct portres_pool *pool, enum portres_proto proto,
                                   uint32_t start, uint32_t count, int reserved )
{
    for (uint32_t p = start; p < start + count; p++)
        assert_int_equal( portres_pool_is_reserved( pool, proto, (uint16_t)p ), reserved );
}

/* --- portres_range_valid, portres_dynamic_range_valid --------------------- */

static void test_range_valid_edges( void **state )
{
    (void)state;
    assert_false( portres_range_valid( 0, 1 ) );
    assert_false( portres_range_valid( 1, 0 ) );
    assert_false( portres_range_valid( 0, 0 ) );
    assert_true( portres_range_valid( 1, 1 ) );
    assert_true( portres_range_valid( 65535, 1 ) );      /* ends at 65535 */
    assert_false( portres_range_valid( 65535, 2 ) );     /* ends at 65536 */
    assert_true( portres_range_valid( 1, 65535 ) );      /* 1..65535 */
    assert_false( portres_range_valid( 2, 65535 ) );     /* 2..65536 */
    assert_true( portres_range_valid( 65000, 536 ) );    /* start+count-1 == 65535 */
    assert_false( portres_range_valid( 65000, 537 ) );   /* start+count-1 == 65536 */
    assert_false( portres_range_valid( 65536, 1 ) );
    assert_false( portres_range_valid( 1, 65536 ) );
    assert_false( portres_range_valid( UINT32_MAX, 2 ) );   /* no wrap-around */
    assert_false( portres_range_valid( 2, UINT32_MAX ) );
    assert_false( portres_range_valid( 0x10000, 0xffff0001u ) );
}

static void test_dynamic_range_valid_edges( void **state )
{
    (void)state;
    assert_true( portres_dynamic_range_valid( PORTRES_DYNAMIC_FIRST, PORTRES_DYNAMIC_COUNT ) );
    assert_true( portres_dynamic_range_valid( 1025, 255 ) );
    assert_false( portres_dynamic_range_valid( 1024, 255 ) );
    assert_false( portres_dynamic_range_valid( 1025, 254 ) );
    assert_true( portres_dynamic_range_valid( 65281, 255 ) );   /* ends at 65535 */
    assert_false( portres_dynamic_range_valid( 65282, 255 ) );
    assert_false( portres_dynamic_range_valid( 0, 0 ) );
}

/* --- init ------------------------------------------------------------------ */

static void test_pool_init( void **state )
{
    struct portres_pool *pool = malloc( sizeof(*pool) );
    (void)state;

    assert_non_null( pool );
    memset( pool, 0xa5, sizeof(*pool) );   /* init must not rely on zeroed memory */
    portres_pool_init( pool, ~0ull );
    assert_int_equal( pool->magic, PORTRES_POOL_MAGIC );
    assert_int_equal( pool->version, PORTRES_POOL_VERSION );
    assert_int_equal( pool->used, 0 );
    assert_int_equal( pool->next_owner, 0 );
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
    {
        assert_int_equal( pool->live[proto], 0 );
        assert_int_equal( pool->dyn_first[proto], PORTRES_DYNAMIC_FIRST );
        assert_int_equal( pool->dyn_count[proto], PORTRES_DYNAMIC_COUNT );
        for (uint32_t p = 0; p < 65536; p++) assert_int_equal( bit( pool->bitmap[proto], p ), 0 );
    }
    for (int i = 0; i < PORTRES_MAX_RESERVATIONS; i++) assert_int_equal( pool->res[i].token, 0 );
    /* the seed's two top bits (the token's class) never leak into the counter */
    assert_int_equal( pool->next_token & (BIT63 | PORTRES_ADMINISTERED_TOKEN_BIT), 0 );
    assert_int_equal( pool->next_token & 0xffffffffull, 1 );
    assert_int_equal( pool->next_token >> 32, 0x3fffffffull );
    assert_int_equal( portres_pool_new_token( pool, 0 ) & (BIT63 | PORTRES_ADMINISTERED_TOKEN_BIT), 0 );
    check_consistent( pool );

    /* the classes: runtime, persistent (API), administered */
    {
        uint64_t runtime = portres_pool_new_token( pool, PORTRES_TOKEN_RUNTIME );
        uint64_t api = portres_pool_new_token( pool, PORTRES_TOKEN_PERSISTENT );
        uint64_t admin = portres_pool_new_token( pool, PORTRES_TOKEN_ADMINISTERED );
        struct portres_reservation res = { .kind = PORTRES_KIND_PERSISTENT };

        assert_int_equal( runtime & (BIT63 | PORTRES_ADMINISTERED_TOKEN_BIT), 0 );
        assert_int_equal( api & (BIT63 | PORTRES_ADMINISTERED_TOKEN_BIT), BIT63 );
        assert_int_equal( admin & (BIT63 | PORTRES_ADMINISTERED_TOKEN_BIT), BIT63 | PORTRES_ADMINISTERED_TOKEN_BIT );
        res.token = api;
        assert_false( portres_res_administered( &res ) );
        res.token = admin;
        assert_true( portres_res_administered( &res ) );
        res.kind = PORTRES_KIND_ACTIVE;
        assert_true( portres_res_administered( &res ) );
        res.kind = PORTRES_KIND_RUNTIME;
        assert_false( portres_res_administered( &res ) );
    }

    /* different seeds give different tokens */
    {
        struct portres_pool *other = new_pool();
        uint64_t a, b;
        portres_pool_init( pool, 0x1111111100000000ull );
        portres_pool_init( other, 0x2222222200000000ull );
        a = portres_pool_new_token( pool, 0 );
        b = portres_pool_new_token( other, 0 );
        assert_int_not_equal( a, b );
        free( other );
    }
    free( pool );
}

/* --- add, overlap ------------------------------------------------------- */

static void test_add_basic( void **state )
{
    struct portres_pool *pool = new_pool();
    struct portres_reservation r = tmpl( PORTRES_TCP, 50000, 60, 0, 7, 0xdeadbeefcafeull, 0x42 ), *res;
    (void)state;

    r.pid = 4321;
    res = portres_pool_add( pool, &r );
    assert_non_null( res );
    assert_ptr_equal( res, &pool->res[0] );
    assert_memory_equal( res, &r, sizeof(r) );   /* a faithful copy, token included */
    assert_int_equal( pool->used, 1 );
    assert_int_equal( pool->live[PORTRES_TCP], 1 );
    assert_int_equal( pool->live[PORTRES_UDP], 0 );
    assert_block_reserved( pool, PORTRES_TCP, 50000, 60, 1 );
    assert_false( portres_pool_is_reserved( pool, PORTRES_TCP, 49999 ) );
    assert_false( portres_pool_is_reserved( pool, PORTRES_TCP, 50060 ) );
    assert_ptr_equal( portres_pool_find_overlap( pool, PORTRES_TCP, 50059, 1 ), res );
    assert_null( portres_pool_find_overlap( pool, PORTRES_TCP, 50060, 100 ) );
    check_consistent( pool );
    free( pool );
}

static void test_add_rejects_invalid( void **state )
{
    struct portres_pool *pool = new_pool();
    struct portres_reservation r;
    (void)state;

    r = tmpl( 2, 100, 1, 0, 1, 0, 5 );          assert_null( portres_pool_add( pool, &r ) );
    r = tmpl( 255, 100, 1, 0, 1, 0, 5 );        assert_null( portres_pool_add( pool, &r ) );
    r = tmpl( PORTRES_TCP, 0, 1, 0, 1, 0, 5 );  assert_null( portres_pool_add( pool, &r ) );
    r = tmpl( PORTRES_TCP, 100, 0, 0, 1, 0, 5 ); assert_null( portres_pool_add( pool, &r ) );
    r = tmpl( PORTRES_TCP, 65535, 2, 0, 1, 0, 5 ); assert_null( portres_pool_add( pool, &r ) );
    r = tmpl( PORTRES_TCP, 2, 65535, 0, 1, 0, 5 ); assert_null( portres_pool_add( pool, &r ) );
    r = tmpl( PORTRES_TCP, 100, 1, 0, 1, 0, 0 );   assert_null( portres_pool_add( pool, &r ) );  /* token 0 */
    assert_int_equal( pool->used, 0 );
    assert_int_equal( pool->live[PORTRES_TCP] + pool->live[PORTRES_UDP], 0 );
    check_consistent( pool );

    /* a token already held, even on another protocol and block */
    r = tmpl( PORTRES_TCP, 100, 1, 0, 1, 0, 5 );
    assert_non_null( portres_pool_add( pool, &r ) );
    r = tmpl( PORTRES_UDP, 200, 1, 0, 1, 0, 5 );
    assert_null( portres_pool_add( pool, &r ) );
    assert_int_equal( pool->used, 1 );
    assert_false( portres_pool_is_reserved( pool, PORTRES_UDP, 200 ) );
    check_consistent( pool );
    free( pool );
}

static void test_add_overlap_and_adjacent( void **state )
{
    struct portres_pool *pool = new_pool();
    struct portres_reservation *a;
    (void)state;

    a = add( pool, PORTRES_TCP, 100, 10, 0, 1, 1 );   /* 100..109 */
    assert_non_null( a );
    assert_null( add( pool, PORTRES_TCP, 105, 10, 0, 1, 1 ) );   /* tail */
    assert_null( add( pool, PORTRES_TCP, 90, 11, 0, 1, 1 ) );    /* head: 90..100 */
    assert_null( add( pool, PORTRES_TCP, 109, 1, 0, 1, 1 ) );    /* last port */
    assert_null( add( pool, PORTRES_TCP, 100, 1, 1, 0, 0 ) );    /* first port, persistent */
    assert_null( add( pool, PORTRES_TCP, 50, 200, 0, 2, 1 ) );   /* containing */
    assert_null( add( pool, PORTRES_TCP, 102, 2, 0, 2, 1 ) );    /* contained */
    assert_null( add( pool, PORTRES_TCP, 100, 10, 0, 1, 1 ) );   /* identical */
    assert_int_equal( pool->live[PORTRES_TCP], 1 );
    assert_int_equal( pool->used, 1 );
    check_consistent( pool );

    /* adjacent blocks do not overlap */
    assert_non_null( add( pool, PORTRES_TCP, 110, 10, 0, 2, 1 ) );  /* 110..119 */
    assert_non_null( add( pool, PORTRES_TCP, 90, 10, 1, 0, 0 ) );   /* 90..99 */
    assert_int_equal( pool->live[PORTRES_TCP], 3 );
    assert_block_reserved( pool, PORTRES_TCP, 90, 30, 1 );
    assert_false( portres_pool_is_reserved( pool, PORTRES_TCP, 89 ) );
    assert_false( portres_pool_is_reserved( pool, PORTRES_TCP, 120 ) );
    /* 95..104 overlaps slot 2 (90..99) and slot 0 (100..109): the first slot found */
    assert_ptr_equal( portres_pool_find_overlap( pool, PORTRES_TCP, 95, 10 ), a );
    assert_ptr_equal( portres_pool_find_overlap( pool, PORTRES_TCP, 90, 5 ), &pool->res[2] );
    assert_ptr_equal( portres_pool_find_overlap( pool, PORTRES_TCP, 105, 1 ), a );
    assert_null( portres_pool_find_overlap( pool, PORTRES_TCP, 120, 1000 ) );
    assert_null( portres_pool_find_overlap( pool, PORTRES_UDP, 90, 30 ) );
    check_consistent( pool );
    free( pool );
}

static void test_add_edge_ports( void **state )
{
    struct portres_pool *pool = new_pool();
    struct portres_reservation *all;
    (void)state;

    assert_non_null( add( pool, PORTRES_UDP, 65535, 1, 0, 1, 1 ) );
    assert_true( portres_pool_is_reserved( pool, PORTRES_UDP, 65535 ) );
    assert_false( portres_pool_is_reserved( pool, PORTRES_UDP, 0 ) );   /* no wrap into port 0 */
    assert_non_null( add( pool, PORTRES_UDP, 1, 1, 0, 1, 1 ) );
    check_consistent( pool );
    portres_pool_remove_owner( pool, 1 );

    all = add( pool, PORTRES_TCP, 1, 65535, 1, 0, 0 );
    assert_non_null( all );
    assert_block_reserved( pool, PORTRES_TCP, 1, 65535, 1 );
    assert_false( portres_pool_is_reserved( pool, PORTRES_TCP, 0 ) );
    assert_null( add( pool, PORTRES_TCP, 65535, 1, 0, 1, 1 ) );
    assert_null( add( pool, PORTRES_TCP, 1, 1, 0, 1, 1 ) );
    assert_non_null( add( pool, PORTRES_UDP, 1, 65535, 0, 1, 1 ) );
    check_consistent( pool );
    portres_pool_remove( pool, all );
    assert_block_reserved( pool, PORTRES_TCP, 0, 65536, 0 );
    assert_block_reserved( pool, PORTRES_UDP, 1, 65535, 1 );
    check_consistent( pool );
    free( pool );
}

static void test_tcp_udp_separate( void **state )
{
    struct portres_pool *pool = new_pool();
    struct portres_reservation *t, *u;
    (void)state;

    t = add( pool, PORTRES_TCP, 50000, 60, 1, 0, 0 );
    u = add( pool, PORTRES_UDP, 50000, 60, 1, 0, 0 );
    assert_non_null( t );
    assert_non_null( u );
    assert_ptr_not_equal( t, u );
    assert_int_equal( pool->live[PORTRES_TCP], 1 );
    assert_int_equal( pool->live[PORTRES_UDP], 1 );
    assert_ptr_equal( portres_pool_find_overlap( pool, PORTRES_TCP, 50010, 1 ), t );
    assert_ptr_equal( portres_pool_find_overlap( pool, PORTRES_UDP, 50010, 1 ), u );
    assert_ptr_equal( portres_pool_find_exact( pool, PORTRES_UDP, 50000, 60, 1 ), u );
    portres_pool_remove( pool, t );
    assert_block_reserved( pool, PORTRES_TCP, 50000, 60, 0 );
    assert_block_reserved( pool, PORTRES_UDP, 50000, 60, 1 );
    assert_int_equal( pool->live[PORTRES_TCP], 0 );
    assert_int_equal( pool->live[PORTRES_UDP], 1 );
    check_consistent( pool );
    free( pool );
}

/* --- find_token, find_exact, new_token ----------------------------------- */

static void test_find_token( void **state )
{
    struct portres_pool *pool = new_pool();
    struct portres_reservation *a, *b;
    uint64_t ta, tb;
    (void)state;

    assert_null( portres_pool_find_token( pool, 0 ) );
    a = add( pool, PORTRES_TCP, 100, 1, 0, 1, 1 );
    b = add( pool, PORTRES_UDP, 100, 1, 1, 0, 0 );
    assert_non_null( a );
    assert_non_null( b );
    ta = a->token;
    tb = b->token;
    /* free slots hold token 0: 0 must never find one of them */
    assert_null( portres_pool_find_token( pool, 0 ) );
    assert_ptr_equal( portres_pool_find_token( pool, ta ), a );
    assert_ptr_equal( portres_pool_find_token( pool, tb ), b );
    assert_null( portres_pool_find_token( pool, ta + 1000 ) );
    assert_null( portres_pool_find_token( pool, ta | BIT63 ) );
    portres_pool_remove( pool, a );
    assert_null( portres_pool_find_token( pool, ta ) );
    assert_ptr_equal( portres_pool_find_token( pool, tb ), b );
    free( pool );
}

static void test_find_exact( void **state )
{
    struct portres_pool *pool = new_pool();
    struct portres_reservation *p, *r;
    (void)state;

    p = add( pool, PORTRES_TCP, 100, 10, 1, 0, 0 );
    r = add( pool, PORTRES_UDP, 100, 10, 0, 3, 9 );
    assert_non_null( p );
    assert_non_null( r );
    assert_ptr_equal( portres_pool_find_exact( pool, PORTRES_TCP, 100, 10, 1 ), p );
    assert_ptr_equal( portres_pool_find_exact( pool, PORTRES_TCP, 100, 10, 2 ), p );  /* any non-zero */
    assert_null( portres_pool_find_exact( pool, PORTRES_TCP, 100, 10, 0 ) );   /* kind differs */
    assert_null( portres_pool_find_exact( pool, PORTRES_TCP, 100, 9, 1 ) );    /* block differs */
    assert_null( portres_pool_find_exact( pool, PORTRES_TCP, 101, 9, 1 ) );
    assert_null( portres_pool_find_exact( pool, PORTRES_TCP, 100, 11, 1 ) );
    assert_ptr_equal( portres_pool_find_exact( pool, PORTRES_UDP, 100, 10, 0 ), r );
    assert_null( portres_pool_find_exact( pool, PORTRES_UDP, 100, 10, 1 ) );
    portres_pool_remove( pool, p );
    assert_null( portres_pool_find_exact( pool, PORTRES_TCP, 100, 10, 1 ) );
    free( pool );
}

static int cmp_u64( const void *a, const void *b )
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_new_token( void **state )
{
    enum { N = 20000 };
    struct portres_pool *pool = new_pool();
    uint64_t *tokens = malloc( N * sizeof(*tokens) );
    struct portres_reservation r;
    (void)state;

    assert_non_null( tokens );
    for (int i = 0; i < N; i++)
    {
        int persistent = i & 1;
        tokens[i] = portres_pool_new_token( pool, persistent );
        assert_int_not_equal( tokens[i], 0 );
        assert_int_not_equal( tokens[i], BIT63 );
        assert_int_equal( !!(tokens[i] & BIT63), persistent );
    }
    qsort( tokens, N, sizeof(*tokens), cmp_u64 );
    for (int i = 1; i < N; i++) assert_true( tokens[i - 1] != tokens[i] );

    /* never a token some reservation holds: seed 0 starts the counter at 1 */
    portres_pool_init( pool, 0 );
    r = tmpl( PORTRES_TCP, 100, 1, 0, 1, 0, 2 );
    assert_non_null( portres_pool_add( pool, &r ) );
    r = tmpl( PORTRES_TCP, 101, 1, 0, 1, 0, 3 );
    assert_non_null( portres_pool_add( pool, &r ) );
    r = tmpl( PORTRES_TCP, 102, 1, 1, 0, 0, 5 | BIT63 );
    assert_non_null( portres_pool_add( pool, &r ) );
    assert_int_equal( portres_pool_new_token( pool, 0 ), 4 );            /* 2, 3 taken */
    assert_int_equal( portres_pool_new_token( pool, 1 ), 6 | BIT63 );    /* 5|bit taken */
    assert_int_equal( portres_pool_new_token( pool, 0 ), 7 );

    /* the counter running into the top bit never yields 0 or the bare top bit */
    pool->next_token = BIT63 - 1;
    assert_int_equal( portres_pool_new_token( pool, 0 ), 1 );
    pool->next_token = BIT63 - 1;
    assert_int_equal( portres_pool_new_token( pool, 1 ), BIT63 | 1 );
    pool->next_token = ~0ull;
    assert_int_equal( portres_pool_new_token( pool, 0 ), 1 );
    free( tokens );
    free( pool );
}

/* --- remove and the high-water mark --------------------------------------- */

static void test_remove_and_used( void **state )
{
    struct portres_pool *pool = new_pool();
    struct portres_reservation *a, *b, *c, *d;
    uint32_t live;
    (void)state;

    a = add( pool, PORTRES_TCP, 100, 4, 0, 1, 1 );
    b = add( pool, PORTRES_TCP, 104, 4, 0, 1, 1 );   /* shares bitmap byte 13 with a */
    c = add( pool, PORTRES_UDP, 100, 4, 0, 1, 1 );
    assert_ptr_equal( a, &pool->res[0] );
    assert_ptr_equal( b, &pool->res[1] );
    assert_ptr_equal( c, &pool->res[2] );
    assert_int_equal( pool->used, 3 );

    portres_pool_remove( pool, b );     /* hole in the middle: used stays */
    assert_int_equal( b->token, 0 );
    assert_int_equal( pool->used, 3 );
    assert_int_equal( pool->live[PORTRES_TCP], 1 );
    assert_block_reserved( pool, PORTRES_TCP, 100, 4, 1 );
    assert_block_reserved( pool, PORTRES_TCP, 104, 4, 0 );
    check_consistent( pool );

    /* removing a free slot again changes nothing */
    live = pool->live[PORTRES_TCP];
    portres_pool_remove( pool, b );
    assert_int_equal( pool->live[PORTRES_TCP], live );
    assert_block_reserved( pool, PORTRES_TCP, 100, 4, 1 );
    check_consistent( pool );

    d = add( pool, PORTRES_TCP, 200, 1, 0, 1, 1 );   /* reuses the hole */
    assert_ptr_equal( d, &pool->res[1] );
    assert_int_equal( pool->used, 3 );

    portres_pool_remove( pool, c );     /* the last slot: used shrinks */
    assert_int_equal( pool->used, 2 );
    portres_pool_remove( pool, d );
    portres_pool_remove( pool, a );
    assert_int_equal( pool->used, 0 );
    assert_int_equal( pool->live[PORTRES_TCP], 0 );
    assert_int_equal( pool->live[PORTRES_UDP], 0 );
    check_consistent( pool );

    /* used shrinks past every trailing hole at once */
    for (int i = 0; i < 5; i++) assert_non_null( add( pool, PORTRES_TCP, 1000 + i, 1, 0, 1, 1 ) );
    portres_pool_remove( pool, &pool->res[2] );
    portres_pool_remove( pool, &pool->res[3] );
    assert_int_equal( pool->used, 5 );
    portres_pool_remove( pool, &pool->res[4] );
    assert_int_equal( pool->used, 2 );
    check_consistent( pool );
    free( pool );
}

static void test_remove_owner( void **state )
{
    struct portres_pool *pool = new_pool();
    (void)state;

    assert_non_null( add( pool, PORTRES_TCP, 100, 1, 0, 1, 10 ) );
    assert_non_null( add( pool, PORTRES_UDP, 100, 1, 0, 1, 11 ) );
    assert_non_null( add( pool, PORTRES_TCP, 200, 5, 0, 2, 10 ) );
    assert_non_null( add( pool, PORTRES_TCP, 300, 1, 0, 1, 12 ) );
    assert_non_null( add( pool, PORTRES_TCP, 400, 1, 1, 0, 0 ) );   /* persistent, owner 0 */

    assert_int_equal( portres_pool_remove_owner( pool, 3 ), 0 );
    assert_int_equal( portres_pool_remove_owner( pool, 0 ), 0 );      /* persistent ones stay */
    assert_int_equal( portres_pool_remove_owner( pool, 1 ), 3 );
    assert_int_equal( portres_pool_remove_owner( pool, 1 ), 0 );
    assert_false( portres_pool_is_reserved( pool, PORTRES_TCP, 100 ) );
    assert_false( portres_pool_is_reserved( pool, PORTRES_UDP, 100 ) );
    assert_false( portres_pool_is_reserved( pool, PORTRES_TCP, 300 ) );
    assert_block_reserved( pool, PORTRES_TCP, 200, 5, 1 );
    assert_true( portres_pool_is_reserved( pool, PORTRES_TCP, 400 ) );
    assert_int_equal( pool->live[PORTRES_TCP], 2 );
    assert_int_equal( pool->live[PORTRES_UDP], 0 );
    check_consistent( pool );

    /* a persistent slot whose owner field is non-zero is not the owner's */
    {
        struct portres_reservation r = tmpl( PORTRES_UDP, 500, 1, 1, 0, 0, portres_pool_new_token( pool, 1 ) );
        r.owner = 2;
        assert_non_null( portres_pool_add( pool, &r ) );
    }
    assert_int_equal( portres_pool_remove_owner( pool, 2 ), 1 );
    assert_true( portres_pool_is_reserved( pool, PORTRES_UDP, 500 ) );
    assert_int_equal( pool->live[PORTRES_TCP] + pool->live[PORTRES_UDP], 2 );
    check_consistent( pool );
    free( pool );
}

/* the kinds: which have persistent tokens, which a reload replaces; add
 * refuses an unknown kind and a token of the wrong kind, repair drops an
 * unknown kind, remove_owner takes only the owner's runtime ones */
static void test_kinds( void **state )
{
    struct portres_pool *pool = new_pool();
    struct portres_reservation r;
    static const struct { uint8_t kind; int persistent, reloadable; } kinds[] =
    {
        { PORTRES_KIND_RUNTIME, 0, 0 }, { PORTRES_KIND_PERSISTENT, 1, 1 },
        { PORTRES_KIND_PENDING, 1, 0 }, { PORTRES_KIND_ACTIVE, 1, 1 },
    };
    (void)state;

    for (unsigned int i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
    {
        memset( &r, 0, sizeof(r) );
        r.kind = kinds[i].kind;
        assert_int_equal( !!portres_res_persistent( &r ), kinds[i].persistent );
        assert_int_equal( !!portres_res_reloadable( &r ), kinds[i].reloadable );
    }
    r = tmpl( PORTRES_TCP, 100, 1, 1, 0, 0, portres_pool_new_token( pool, 1 ) );
    r.kind = PORTRES_KIND_COUNT;
    assert_null( portres_pool_add( pool, &r ) );                    /* unknown kind */
    r.kind = PORTRES_KIND_RUNTIME;
    assert_null( portres_pool_add( pool, &r ) );                    /* runtime kind, persistent token */
    r.kind = PORTRES_KIND_PENDING;
    r.owner = 1;
    assert_non_null( portres_pool_add( pool, &r ) );
    assert_non_null( add( pool, PORTRES_TCP, 101, 1, 0, 1, 0xa ) );
    assert_int_equal( portres_pool_remove_owner( pool, 1 ), 1 );     /* not the pending one of owner 1 */
    assert_block_reserved( pool, PORTRES_TCP, 100, 1, 1 );
    assert_block_reserved( pool, PORTRES_TCP, 101, 1, 0 );
    pool->res[0].kind = 9;
    assert_int_equal( portres_pool_repair( pool ), 1 );
    assert_int_equal( pool->used, 0 );
    check_consistent( pool );
    free( pool );
}

/* withdraw: a reservation added and taken out again leaves the pool byte
 * for byte as before (the reservation core's failed in-use check); a
 * later token handed out in between keeps the counter where it is */
static void test_withdraw( void **state )
{
    struct portres_pool *pool = new_pool(), *before = malloc( sizeof(*pool) );
    struct portres_reservation *res, *other;
    (void)state;

    assert_non_null( before );
    assert_non_null( add( pool, PORTRES_TCP, 100, 10, 1, 0, 0 ) );
    for (int persistent = 0; persistent < 2; persistent++)
    {
        memcpy( before, pool, sizeof(*pool) );
        assert_non_null( (res = add( pool, PORTRES_UDP, 200, 5, persistent, 3, 7 )) );
        assert_int_equal( pool->live[PORTRES_UDP], 1 );
        portres_pool_withdraw( pool, res );
        assert_memory_equal( before, pool, sizeof(*pool) );
    }
    /* another token handed out after it: the counter stays */
    res = add( pool, PORTRES_UDP, 200, 5, 0, 3, 7 );
    other = add( pool, PORTRES_UDP, 300, 1, 0, 4, 8 );
    assert_non_null( res );
    assert_non_null( other );
    uint64_t next = pool->next_token;
    portres_pool_withdraw( pool, res );
    assert_int_equal( pool->next_token, next );
    assert_block_reserved( pool, PORTRES_UDP, 200, 5, 0 );
    assert_block_reserved( pool, PORTRES_UDP, 300, 1, 1 );
    portres_pool_withdraw( pool, res );  /* a free slot: nothing */
    assert_int_equal( pool->live[PORTRES_UDP], 1 );
    check_consistent( pool );
    free( before );
    free( pool );
}

static void test_remove_persistent( void **state )
{
    struct portres_pool *pool = new_pool();
    (void)state;

    assert_int_equal( portres_pool_remove_persistent( pool ), 0 );
    assert_non_null( add( pool, PORTRES_TCP, 100, 10, 1, 0, 0 ) );
    assert_non_null( add( pool, PORTRES_TCP, 110, 10, 0, 1, 1 ) );
    assert_non_null( add( pool, PORTRES_UDP, 100, 10, 1, 0, 0 ) );
    assert_non_null( add( pool, PORTRES_UDP, 200, 10, 1, 0, 0 ) );
    assert_int_equal( portres_pool_remove_persistent( pool ), 3 );
    assert_int_equal( portres_pool_remove_persistent( pool ), 0 );
    assert_int_equal( pool->live[PORTRES_TCP], 1 );
    assert_int_equal( pool->live[PORTRES_UDP], 0 );
    assert_int_equal( pool->used, 2 );
    assert_block_reserved( pool, PORTRES_TCP, 100, 10, 0 );
    assert_block_reserved( pool, PORTRES_TCP, 110, 10, 1 );
    assert_block_reserved( pool, PORTRES_UDP, 100, 200, 0 );
    check_consistent( pool );
    free( pool );
}

/* a pending persistent reservation (being written to the registry) stays
 * through a reload and goes with its writer */
static void test_remove_pending( void **state )
{
    struct portres_pool *pool = new_pool();
    struct portres_reservation r;
    (void)state;

    r = tmpl( PORTRES_TCP, 100, 10, 1, 0, 0, portres_pool_new_token( pool, 1 ) );
    r.owner = 5;
    r.kind = PORTRES_KIND_PENDING;
    assert_true( portres_res_persistent( &r ) && !portres_res_reloadable( &r ) );
    assert_non_null( portres_pool_add( pool, &r ) );
    assert_non_null( add( pool, PORTRES_TCP, 200, 10, 1, 0, 0 ) );       /* administered */
    r = tmpl( PORTRES_TCP, 300, 10, 1, 0, 0, portres_pool_new_token( pool, 1 ) );
    r.kind = PORTRES_KIND_ACTIVE;                                         /* active exclusion */
    assert_true( portres_res_reloadable( &r ) );
    assert_non_null( portres_pool_add( pool, &r ) );
    assert_non_null( add( pool, PORTRES_TCP, 400, 10, 0, 5, 1 ) );       /* runtime, same owner */
    /* the block is held against everything while pending */
    assert_non_null( portres_pool_find_overlap( pool, PORTRES_TCP, 105, 1 ) );

    assert_int_equal( portres_pool_remove_persistent( pool ), 2 );
    assert_block_reserved( pool, PORTRES_TCP, 100, 10, 1 );
    assert_block_reserved( pool, PORTRES_TCP, 200, 200, 0 );
    assert_int_equal( portres_pool_remove_pending( pool, 0 ), 0 );
    assert_int_equal( portres_pool_remove_pending( pool, 0xffffffffu ), 0 );
    assert_int_equal( portres_pool_remove_pending( pool, 4 ), 0 );
    assert_int_equal( portres_pool_remove_pending( pool, 5 ), 1 );
    assert_int_equal( portres_pool_remove_pending( pool, 5 ), 0 );
    assert_block_reserved( pool, PORTRES_TCP, 100, 10, 0 );
    assert_block_reserved( pool, PORTRES_TCP, 400, 10, 1 );               /* runtime ones: remove_owner */
    assert_int_equal( pool->live[PORTRES_TCP], 1 );
    check_consistent( pool );
    free( pool );
}

static void test_pool_full( void **state )
{
    struct portres_pool *pool = new_pool();
    struct portres_reservation *r;
    (void)state;

    for (int i = 0; i < PORTRES_MAX_RESERVATIONS; i++)
        assert_non_null( add( pool, i & 1 ? PORTRES_UDP : PORTRES_TCP, 10000 + i, 1, i % 3 == 0, 1, 1 ) );
    assert_int_equal( pool->used, PORTRES_MAX_RESERVATIONS );
    assert_int_equal( pool->live[PORTRES_TCP] + pool->live[PORTRES_UDP], PORTRES_MAX_RESERVATIONS );
    assert_null( add( pool, PORTRES_TCP, 20000, 1, 0, 1, 1 ) );
    assert_null( add( pool, PORTRES_UDP, 20000, 1, 1, 0, 0 ) );
    assert_false( portres_pool_is_reserved( pool, PORTRES_TCP, 20000 ) );
    assert_false( portres_pool_is_reserved( pool, PORTRES_UDP, 20000 ) );
    assert_int_equal( pool->live[PORTRES_TCP] + pool->live[PORTRES_UDP], PORTRES_MAX_RESERVATIONS );
    check_consistent( pool );

    /* a freed slot is used again */
    portres_pool_remove( pool, &pool->res[1234] );
    r = add( pool, PORTRES_TCP, 20000, 1, 0, 1, 1 );
    assert_ptr_equal( r, &pool->res[1234] );
    assert_null( add( pool, PORTRES_TCP, 20001, 1, 0, 1, 1 ) );
    portres_pool_remove( pool, &pool->res[PORTRES_MAX_RESERVATIONS - 1] );
    assert_int_equal( pool->used, PORTRES_MAX_RESERVATIONS - 1 );
    r = add( pool, PORTRES_TCP, 20001, 1, 0, 1, 1 );
    assert_ptr_equal( r, &pool->res[PORTRES_MAX_RESERVATIONS - 1] );
    assert_int_equal( pool->used, PORTRES_MAX_RESERVATIONS );
    check_consistent( pool );

    {
        unsigned int runtime = 0;
        for (int i = 0; i < PORTRES_MAX_RESERVATIONS; i++) runtime += pool->res[i].kind == PORTRES_KIND_RUNTIME;
        assert_int_equal( runtime, 2731 );   /* 1366 persistent (i % 3 == 0), one replaced by a runtime one */
        assert_int_equal( portres_pool_remove_owner( pool, 1 ), runtime );
        assert_int_equal( pool->live[PORTRES_TCP] + pool->live[PORTRES_UDP], PORTRES_MAX_RESERVATIONS - runtime );
        assert_int_equal( pool->used, PORTRES_MAX_RESERVATIONS - 3 );   /* slot 4095 was runtime, 4092 persistent */
    }
    check_consistent( pool );
    free( pool );
}

/* --- repair ----------------------------------------------------------------- */

/* a pool with a few good reservations of both kinds and protocols */
static struct portres_pool *populated_pool( void )
{
    struct portres_pool *pool = new_pool();
    assert_non_null( add( pool, PORTRES_TCP, 100, 10, 0, 1, 1 ) );   /* 0 */
    assert_non_null( add( pool, PORTRES_TCP, 50000, 60, 1, 0, 0 ) ); /* 1 */
    assert_non_null( add( pool, PORTRES_UDP, 100, 10, 0, 2, 2 ) );   /* 2 */
    assert_non_null( add( pool, PORTRES_UDP, 65535, 1, 1, 0, 0 ) );  /* 3 */
    assert_non_null( add( pool, PORTRES_TCP, 1, 1, 0, 3, 3 ) );      /* 4 */
    check_consistent( pool );
    return pool;
}

static void test_repair_consistent_pool_unchanged( void **state )
{
    struct portres_pool *pool = populated_pool();
    struct portres_pool *copy = malloc( sizeof(*copy) );
    (void)state;

    assert_non_null( copy );
    memcpy( copy, pool, sizeof(*pool) );
    assert_int_equal( portres_pool_repair( pool ), 0 );
    assert_memory_equal( pool, copy, sizeof(*pool) );
    free( copy );
    free( pool );
}

static void test_repair_derived_garbage( void **state )
{
    struct portres_pool *pool = populated_pool();
    struct portres_pool *copy = malloc( sizeof(*copy) );
    (void)state;

    assert_non_null( copy );
    memcpy( copy, pool, sizeof(*pool) );
    /* bitmap garbage: stale bits set, real bits cleared */
    for (size_t i = 0; i < sizeof(pool->bitmap[0]); i += 7)
    {
        pool->bitmap[PORTRES_TCP][i] ^= 0x5a;
        pool->bitmap[PORTRES_UDP][i] = 0xff;
    }
    memset( pool->bitmap[PORTRES_TCP] + 50000 / 8, 0, 8 );
    pool->live[PORTRES_TCP] = 0xdeadbeef;
    pool->live[PORTRES_UDP] = 0;
    pool->used = 2;             /* below live slots 2..4 */
    pool->magic = 0;
    pool->version = 77;
    assert_int_equal( portres_pool_repair( pool ), 0 );
    assert_memory_equal( pool, copy, sizeof(*pool) );
    check_consistent( pool );

    pool->used = 0xffffffffu;   /* beyond the array */
    assert_int_equal( portres_pool_repair( pool ), 0 );
    assert_int_equal( pool->used, 5 );
    check_consistent( pool );
    free( copy );
    free( pool );
}

static void test_repair_drops_bad_ranges( void **state )
{
    struct portres_pool *pool = populated_pool();
    (void)state;

    pool->res[0].count = 0;                          /* count 0 */
    pool->res[2].start = 0;                          /* port 0 */
    pool->res[4].start = 65535; pool->res[4].count = 2;  /* past 65535 */
    pool->res[6] = pool->res[1];                     /* beyond used, bad proto */
    pool->res[6].proto = 2;
    pool->res[6].token = portres_pool_new_token( pool, 1 );
    pool->res[6].start = 3000;
    assert_int_equal( portres_pool_repair( pool ), 4 );
    assert_int_equal( pool->res[0].token, 0 );
    assert_int_equal( pool->res[2].token, 0 );
    assert_int_equal( pool->res[4].token, 0 );
    assert_int_equal( pool->res[6].token, 0 );
    assert_int_not_equal( pool->res[1].token, 0 );
    assert_int_not_equal( pool->res[3].token, 0 );
    assert_int_equal( pool->used, 4 );
    assert_int_equal( pool->live[PORTRES_TCP], 1 );
    assert_int_equal( pool->live[PORTRES_UDP], 1 );
    assert_block_reserved( pool, PORTRES_TCP, 100, 10, 0 );
    assert_block_reserved( pool, PORTRES_UDP, 100, 10, 0 );
    assert_false( portres_pool_is_reserved( pool, PORTRES_TCP, 1 ) );
    assert_block_reserved( pool, PORTRES_TCP, 50000, 60, 1 );
    check_consistent( pool );
    assert_int_equal( portres_pool_repair( pool ), 0 );   /* idempotent */
    free( pool );
}

static void test_repair_drops_later_overlap( void **state )
{
    struct portres_pool *pool = populated_pool();
    (void)state;

    /* slot 5 overlaps slot 1 (TCP 50000..50059) by one port: dropped */
    pool->res[5] = pool->res[1];
    pool->res[5].token = portres_pool_new_token( pool, 1 );
    pool->res[5].start = 50059;
    pool->res[5].count = 100;
    /* slot 7: the same block as slot 5, so it overlaps slot 1 too: dropped */
    pool->res[7] = pool->res[5];
    pool->res[7].token = portres_pool_new_token( pool, 1 );
    /* slot 8: UDP 50000..50059 overlaps nothing of UDP: kept */
    pool->res[8] = pool->res[1];
    pool->res[8].token = portres_pool_new_token( pool, 1 );
    pool->res[8].proto = PORTRES_UDP;
    /* slot 9: TCP 50060..50158, overlapping only the dropped slot 5: kept */
    pool->res[9] = pool->res[5];
    pool->res[9].token = portres_pool_new_token( pool, 1 );
    pool->res[9].start = 50060;
    pool->res[9].count = 99;
    /* slot 0 and slot 10: identical blocks; the earlier one wins */
    pool->res[10] = pool->res[0];
    pool->res[10].token = portres_pool_new_token( pool, 0 );

    assert_int_equal( portres_pool_repair( pool ), 3 );
    assert_int_equal( pool->res[5].token, 0 );
    assert_int_equal( pool->res[7].token, 0 );
    assert_int_equal( pool->res[10].token, 0 );
    assert_int_not_equal( pool->res[0].token, 0 );
    assert_int_not_equal( pool->res[1].token, 0 );
    assert_int_not_equal( pool->res[8].token, 0 );
    assert_int_not_equal( pool->res[9].token, 0 );
    assert_int_equal( pool->used, 10 );
    assert_int_equal( pool->live[PORTRES_TCP], 4 );
    assert_int_equal( pool->live[PORTRES_UDP], 3 );
    assert_block_reserved( pool, PORTRES_TCP, 50000, 159, 1 );
    check_consistent( pool );
    free( pool );
}

static void test_repair_token_kind_mismatch( void **state )
{
    struct portres_pool *pool = populated_pool();
    (void)state;

    pool->res[0].token |= BIT63;           /* runtime slot with a persistent token */
    pool->res[1].token &= ~BIT63;          /* persistent slot with a runtime token */
    pool->res[3].kind = PORTRES_KIND_RUNTIME;     /* persistent token, runtime slot */
    pool->res[4].kind = PORTRES_KIND_PERSISTENT;  /* runtime token, persistent slot */
    pool->res[2].kind = PORTRES_KIND_RUNTIME;     /* consistent: kept */
    assert_int_equal( portres_pool_repair( pool ), 4 );
    assert_int_equal( pool->res[0].token, 0 );
    assert_int_equal( pool->res[1].token, 0 );
    assert_int_equal( pool->res[3].token, 0 );
    assert_int_equal( pool->res[4].token, 0 );
    assert_int_not_equal( pool->res[2].token, 0 );
    assert_int_equal( pool->used, 3 );
    assert_int_equal( pool->live[PORTRES_TCP], 0 );
    assert_int_equal( pool->live[PORTRES_UDP], 1 );
    check_consistent( pool );
    free( pool );
}

static void test_repair_half_done_operations( void **state )
{
    struct portres_pool *pool = populated_pool();
    struct portres_reservation *r = &pool->res[5];
    (void)state;

    /* an add that died before writing the token: bits and counter set, slot free */
    *r = tmpl( PORTRES_TCP, 7000, 100, 0, 9, 9, 0 );
    for (uint32_t p = 7000; p < 7100; p++) pool->bitmap[PORTRES_TCP][p >> 3] |= 1u << (p & 7);
    pool->live[PORTRES_TCP]++;
    pool->used = 6;
    /* a remove that died after clearing the token */
    pool->res[2].token = 0;
    assert_int_equal( portres_pool_repair( pool ), 0 );
    assert_block_reserved( pool, PORTRES_TCP, 7000, 100, 0 );
    assert_block_reserved( pool, PORTRES_UDP, 100, 10, 0 );
    assert_int_equal( pool->used, 5 );
    assert_int_equal( pool->live[PORTRES_TCP], 3 );
    assert_int_equal( pool->live[PORTRES_UDP], 1 );
    check_consistent( pool );
    /* the pool works normally afterwards */
    assert_non_null( add( pool, PORTRES_TCP, 7000, 100, 0, 9, 9 ) );
    assert_non_null( add( pool, PORTRES_UDP, 100, 10, 0, 9, 9 ) );
    check_consistent( pool );
    free( pool );
}

static void test_repair_dynamic_range_and_header( void **state )
{
    struct portres_pool *pool = populated_pool();
    (void)state;

    pool->dyn_first[PORTRES_TCP] = 10000;      /* valid custom range: kept */
    pool->dyn_count[PORTRES_TCP] = 1000;
    pool->dyn_first[PORTRES_UDP] = 65000;      /* past 65535: reset */
    pool->dyn_count[PORTRES_UDP] = 1000;
    pool->magic = 0x12345678;
    pool->version = 0;
    assert_int_equal( portres_pool_repair( pool ), 0 );
    assert_int_equal( pool->dyn_first[PORTRES_TCP], 10000 );
    assert_int_equal( pool->dyn_count[PORTRES_TCP], 1000 );
    assert_int_equal( pool->dyn_first[PORTRES_UDP], PORTRES_DYNAMIC_FIRST );
    assert_int_equal( pool->dyn_count[PORTRES_UDP], PORTRES_DYNAMIC_COUNT );
    assert_int_equal( pool->magic, PORTRES_POOL_MAGIC );
    assert_int_equal( pool->version, PORTRES_POOL_VERSION );
    pool->dyn_first[PORTRES_TCP] = 1024;
    pool->dyn_count[PORTRES_UDP] = 10;
    portres_pool_repair( pool );
    assert_int_equal( pool->dyn_first[PORTRES_TCP], PORTRES_DYNAMIC_FIRST );
    assert_int_equal( pool->dyn_count[PORTRES_UDP], PORTRES_DYNAMIC_COUNT );
    free( pool );
}

/* --- find_free -------------------------------------------------------------- */

struct busy
{
    uint32_t busy_from, busy_to;    /* ports the callback calls bound */
    enum portres_proto proto;       /* the protocol expected */
    uint32_t lo, hi;                /* the range the callback may be asked about */
    unsigned int calls;
    int bad_call;
};

static int busy_port_free( void *ctx, enum portres_proto proto, uint16_t port )
{
    struct busy *b = ctx;
    b->calls++;
    if (proto != b->proto || port < b->lo || port > b->hi) b->bad_call = 1;
    return !(port >= b->busy_from && port <= b->busy_to);
}

static void test_find_free_empty_pool( void **state )
{
    struct portres_pool *pool = new_pool();
    uint16_t start = 0;
    (void)state;

    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 10, 49152, 16384, 0, NULL, NULL, &start ) );
    assert_int_equal( start, 49152 );
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 10, 49152, 16384, 123, NULL, NULL, &start ) );
    assert_int_equal( start, 49152 + 123 );
    /* offsets wrap modulo the number of start positions (16384 - 10 + 1) */
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 10, 49152, 16384, 16375 + 5, NULL, NULL, &start ) );
    assert_int_equal( start, 49152 + 5 );
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 10, 49152, 16384, UINT32_MAX, NULL, NULL, &start ) );
    assert_int_equal( start, 49152 + UINT32_MAX % 16375 );
    /* the last position ends exactly at 65535 */
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 10, 49152, 16384, 16374, NULL, NULL, &start ) );
    assert_int_equal( start, 65535 - 9 );
    /* count == range: one position */
    assert_true( portres_pool_find_free( pool, PORTRES_UDP, 100, 1000, 100, 77, NULL, NULL, &start ) );
    assert_int_equal( start, 1000 );
    assert_true( portres_pool_find_free( pool, PORTRES_UDP, 65535, 1, 65535, 5, NULL, NULL, &start ) );
    assert_int_equal( start, 1 );
    free( pool );
}

static void test_find_free_rejects_bad_arguments( void **state )
{
    struct portres_pool *pool = new_pool();
    uint16_t start = 4242;
    (void)state;

    assert_false( portres_pool_find_free( pool, PORTRES_TCP, 0, 49152, 16384, 0, NULL, NULL, &start ) );
    assert_false( portres_pool_find_free( pool, PORTRES_TCP, 11, 1000, 10, 0, NULL, NULL, &start ) );  /* count > range */
    assert_false( portres_pool_find_free( pool, PORTRES_TCP, 1, 0, 10, 0, NULL, NULL, &start ) );     /* port 0 */
    assert_false( portres_pool_find_free( pool, PORTRES_TCP, 1, 1000, 0, 0, NULL, NULL, &start ) );
    assert_false( portres_pool_find_free( pool, PORTRES_TCP, 1, 65530, 7, 0, NULL, NULL, &start ) );  /* past 65535 */
    assert_false( portres_pool_find_free( pool, PORTRES_TCP, 1, 1, 65536, 0, NULL, NULL, &start ) );
    assert_int_equal( start, 4242 );   /* untouched on failure */
    free( pool );
}

static void test_find_free_skips_reserved( void **state )
{
    struct portres_pool *pool = new_pool();
    uint16_t start = 0;
    (void)state;

    assert_non_null( add( pool, PORTRES_TCP, 50000, 10, 0, 1, 1 ) );   /* 50000..50009 */
    assert_non_null( add( pool, PORTRES_TCP, 50013, 1, 1, 0, 0 ) );    /* 50013 */
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 3, 50000, 100, 0, NULL, NULL, &start ) );
    assert_int_equal( start, 50010 );
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 4, 50000, 100, 0, NULL, NULL, &start ) );
    assert_int_equal( start, 50014 );
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 4, 50000, 100, 5, NULL, NULL, &start ) );
    assert_int_equal( start, 50014 );
    /* the other protocol is not in the way */
    assert_true( portres_pool_find_free( pool, PORTRES_UDP, 4, 50000, 100, 0, NULL, NULL, &start ) );
    assert_int_equal( start, 50000 );
    for (uint32_t p = 50014; p < 50018; p++) assert_false( portres_pool_is_reserved( pool, PORTRES_TCP, p ) );
    free( pool );
}

static void test_find_free_honours_callback( void **state )
{
    struct portres_pool *pool = new_pool();
    struct busy b = { 50010, 50012, PORTRES_UDP, 50000, 50099, 0, 0 };
    uint16_t start = 0;
    (void)state;

    assert_non_null( add( pool, PORTRES_UDP, 50000, 10, 0, 1, 1 ) );
    assert_true( portres_pool_find_free( pool, PORTRES_UDP, 5, 50000, 100, 0, busy_port_free, &b, &start ) );
    assert_int_equal( start, 50013 );
    assert_true( b.calls > 0 );
    assert_false( b.bad_call );
    /* never asks the callback about reserved ports */
    b.busy_from = 50000; b.busy_to = 50099; b.calls = 0;
    assert_false( portres_pool_find_free( pool, PORTRES_UDP, 5, 50000, 100, 0, busy_port_free, &b, &start ) );
    assert_int_equal( start, 50013 );
    assert_false( b.bad_call );
    assert_true( b.calls > 0 );
    free( pool );
}

static void test_find_free_wraps_around( void **state )
{
    struct portres_pool *pool = new_pool();
    uint16_t start = 0;
    (void)state;

    /* range 100..199; 150..199 reserved: from offset 60 the search must wrap to 100 */
    assert_non_null( add( pool, PORTRES_TCP, 150, 50, 0, 1, 1 ) );
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 10, 100, 100, 60, NULL, NULL, &start ) );
    assert_int_equal( start, 100 );
    /* a block fitting before and one after the offset: the one after wins */
    portres_pool_remove_owner( pool, 1 );
    assert_non_null( add( pool, PORTRES_TCP, 100, 5, 0, 1, 1 ) );    /* 100..104 */
    assert_non_null( add( pool, PORTRES_TCP, 115, 60, 0, 1, 1 ) );   /* 115..174 */
    assert_non_null( add( pool, PORTRES_TCP, 190, 10, 0, 1, 1 ) );   /* 190..199 */
    /* free: 105..114 and 175..189 */
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 10, 100, 100, 20, NULL, NULL, &start ) );
    assert_int_equal( start, 175 );
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 10, 100, 100, 80, NULL, NULL, &start ) );
    assert_int_equal( start, 180 );
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 10, 100, 100, 81, NULL, NULL, &start ) );
    assert_int_equal( start, 105 );   /* 181..190 hits 190: wrap */
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 10, 100, 100, 5, NULL, NULL, &start ) );
    assert_int_equal( start, 105 );
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 10, 100, 100, 6, NULL, NULL, &start ) );
    assert_int_equal( start, 175 );
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 11, 100, 100, 0, NULL, NULL, &start ) );
    assert_int_equal( start, 175 );
    /* the only fit starts one position before the offset */
    portres_pool_remove_owner( pool, 1 );
    assert_non_null( add( pool, PORTRES_TCP, 100, 49, 0, 1, 1 ) );   /* 100..148 */
    assert_non_null( add( pool, PORTRES_TCP, 159, 41, 0, 1, 1 ) );   /* 159..199 */
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 10, 100, 100, 50, NULL, NULL, &start ) );
    assert_int_equal( start, 149 );
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 10, 100, 100, 49, NULL, NULL, &start ) );
    assert_int_equal( start, 149 );
    free( pool );
}

static void test_find_free_nothing_fits( void **state )
{
    struct portres_pool *pool = new_pool();
    struct busy b = { 0, 0, PORTRES_TCP, 1000, 1099, 0, 0 };
    uint16_t start = 777;
    (void)state;

    /* every other port reserved: single ports fit, pairs never */
    for (uint16_t p = 1000; p < 1100; p += 2) assert_non_null( add( pool, PORTRES_TCP, p, 1, 0, 1, 1 ) );
    for (uint32_t off = 0; off < 100; off += 7)
        assert_false( portres_pool_find_free( pool, PORTRES_TCP, 2, 1000, 100, off, NULL, NULL, &start ) );
    assert_int_equal( start, 777 );
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 1, 1000, 100, 0, NULL, NULL, &start ) );
    assert_int_equal( start, 1001 );
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 1, 1000, 100, 98, NULL, NULL, &start ) );
    assert_int_equal( start, 1099 );
    /* the callback takes the single ports away too */
    b.busy_from = 1000; b.busy_to = 1099;
    start = 777;
    assert_false( portres_pool_find_free( pool, PORTRES_TCP, 1, 1000, 100, 3, busy_port_free, &b, &start ) );
    assert_int_equal( start, 777 );
    assert_false( b.bad_call );
    /* everything reserved */
    portres_pool_remove_owner( pool, 1 );
    assert_non_null( add( pool, PORTRES_TCP, 1000, 100, 1, 0, 0 ) );
    assert_false( portres_pool_find_free( pool, PORTRES_TCP, 1, 1000, 100, 0, NULL, NULL, &start ) );
    assert_true( portres_pool_find_free( pool, PORTRES_TCP, 1, 1000, 101, 0, NULL, NULL, &start ) );
    assert_int_equal( start, 1100 );
    free( pool );
}

/* --- pick: the one block picker of wildcard acquires and implicit binds ------ */

/* with the defaults (dynamic 49152-65535, Linux's ephemeral 32768-60999)
 * every block lands above the kernel's range, whatever the seed */
static void test_pick_prefers_above_kernel_range( void **state )
{
    struct portres_pool *pool = new_pool();
    uint16_t start;
    (void)state;

    for (uint32_t seed = 0; seed < 2000; seed += 7)
    {
        assert_int_equal( portres_pool_pick( pool, PORTRES_TCP, 1, 60999, seed, NULL, NULL, &start ), 1 );
        assert_true( start >= 61000 );
        assert_int_equal( portres_pool_pick( pool, PORTRES_UDP, 100, 60999, seed, NULL, NULL, &start ), 1 );
        assert_true( start >= 61000 && start + 100 - 1 <= 65535 );
    }
    free( pool );
}

/* the seed scatters the start: many seeds give many different ports */
static void test_pick_scatters( void **state )
{
    struct portres_pool *pool = new_pool();
    static uint8_t seen[65536];
    unsigned int distinct = 0;
    uint16_t start;
    (void)state;

    memset( seen, 0, sizeof(seen) );
    for (uint32_t seed = 0; seed < 1000; seed++)
    {
        assert_int_equal( portres_pool_pick( pool, PORTRES_TCP, 1, 60999, seed, NULL, NULL, &start ), 1 );
        if (!seen[start]++) distinct++;
    }
    assert_true( distinct > 500 );
    free( pool );
}

/* above the kernel's range full (reserved, or refused by the callback):
 * the rest of the dynamic range, still outside every reservation */
static void test_pick_falls_back_below( void **state )
{
    struct portres_pool *pool = new_pool();
    struct busy b = { 61000, 65535, PORTRES_UDP, 49152, 65535, 0, 0 };
    uint16_t start;
    (void)state;

    assert_non_null( add( pool, PORTRES_TCP, 61000, 4536, 1, 0, 0 ) );
    assert_non_null( add( pool, PORTRES_TCP, 49152, 100, 0, 1, 1 ) );
    for (uint32_t seed = 0; seed < 200; seed++)
    {
        assert_int_equal( portres_pool_pick( pool, PORTRES_TCP, 10, 60999, seed, NULL, NULL, &start ), 1 );
        assert_true( start >= 49252 && start + 10 - 1 <= 60999 );
    }
    assert_int_equal( portres_pool_pick( pool, PORTRES_UDP, 1, 60999, 5, busy_port_free, &b, &start ), 1 );
    assert_true( start >= 49152 && start < 61000 );
    assert_false( b.bad_call );
    free( pool );
}

/* the kernel's range covers the dynamic range: the whole dynamic range;
 * a changed dynamic range (netsh set dynamicport) is honoured */
static void test_pick_dynamic_range( void **state )
{
    struct portres_pool *pool = new_pool();
    uint16_t start;
    (void)state;

    assert_int_equal( portres_pool_pick( pool, PORTRES_TCP, 1, 65535, 3, NULL, NULL, &start ), 1 );
    assert_true( start >= 49152 );
    pool->dyn_first[PORTRES_UDP] = 20000;
    pool->dyn_count[PORTRES_UDP] = 1000;
    for (uint32_t seed = 0; seed < 100; seed++)
    {
        assert_int_equal( portres_pool_pick( pool, PORTRES_UDP, 50, 60999, seed, NULL, NULL, &start ), 1 );
        assert_true( start >= 20000 && start + 50 - 1 <= 20999 );
    }
    /* a block longer than the range: none */
    assert_int_equal( portres_pool_pick( pool, PORTRES_UDP, 1001, 60999, 1, NULL, NULL, &start ), 0 );
    free( pool );
}

static int stop_port_free( void *ctx, enum portres_proto proto, uint16_t port )
{
    unsigned int *calls = ctx;
    (void)proto; (void)port;
    ++*calls;
    return -1;
}

/* a negative callback stops the search at once: -1, one call */
static void test_pick_callback_stops( void **state )
{
    struct portres_pool *pool = new_pool();
    unsigned int calls = 0;
    uint16_t start;
    (void)state;

    assert_int_equal( portres_pool_pick( pool, PORTRES_TCP, 1, 60999, 9, stop_port_free, &calls, &start ), -1 );
    assert_int_equal( calls, 1 );
    free( pool );
}

int main( void )
{
    const struct CMUnitTest tests[] =
    {
        cmocka_unit_test( test_range_valid_edges ),
        cmocka_unit_test( test_dynamic_range_valid_edges ),
        cmocka_unit_test( test_pool_init ),
        cmocka_unit_test( test_add_basic ),
        cmocka_unit_test( test_add_rejects_invalid ),
        cmocka_unit_test( test_add_overlap_and_adjacent ),
        cmocka_unit_test( test_add_edge_ports ),
        cmocka_unit_test( test_tcp_udp_separate ),
        cmocka_unit_test( test_find_token ),
        cmocka_unit_test( test_find_exact ),
        cmocka_unit_test( test_new_token ),
        cmocka_unit_test( test_remove_and_used ),
        cmocka_unit_test( test_remove_owner ),
        cmocka_unit_test( test_kinds ),
        cmocka_unit_test( test_withdraw ),
        cmocka_unit_test( test_remove_persistent ),
        cmocka_unit_test( test_remove_pending ),
        cmocka_unit_test( test_pool_full ),
        cmocka_unit_test( test_repair_consistent_pool_unchanged ),
        cmocka_unit_test( test_repair_derived_garbage ),
        cmocka_unit_test( test_repair_drops_bad_ranges ),
        cmocka_unit_test( test_repair_drops_later_overlap ),
        cmocka_unit_test( test_repair_token_kind_mismatch ),
        cmocka_unit_test( test_repair_half_done_operations ),
        cmocka_unit_test( test_repair_dynamic_range_and_header ),
        cmocka_unit_test( test_find_free_empty_pool ),
        cmocka_unit_test( test_find_free_rejects_bad_arguments ),
        cmocka_unit_test( test_find_free_skips_reserved ),
        cmocka_unit_test( test_find_free_honours_callback ),
        cmocka_unit_test( test_find_free_wraps_around ),
        cmocka_unit_test( test_find_free_nothing_fits ),
        cmocka_unit_test( test_pick_prefers_above_kernel_range ),
        cmocka_unit_test( test_pick_scatters ),
        cmocka_unit_test( test_pick_falls_back_below ),
        cmocka_unit_test( test_pick_dynamic_range ),
        cmocka_unit_test( test_pick_callback_stops ),
    };
    return cmocka_run_group_tests( tests, NULL, NULL );
}
