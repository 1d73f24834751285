/*
 * libFuzzer target: the reservation pool (libs/core/pool.c)
 *
 * The input is a seed and a sequence of operations on one pool: add
 * (runtime, persistent, with fresh, taken or zero tokens, valid and invalid
 * blocks), remove, remove_owner, remove_pending, remove_persistent, bulk
 * fill up to PORTRES_MAX_RESERVATIONS, find_free with a deterministic
 * port_free callback, lookups, new tokens, half-done operations of a
 * process that died in the lock, and random corruption followed by repair.
 * Every result is compared with a brute-force model, and after every
 * operation the invariants are checked:
 *   - a bitmap bit is set iff some live slot of that protocol covers the port;
 *   - live[proto] is the number of live slots of proto;
 *   - no two live slots of a protocol overlap; every live slot is well-formed;
 *   - used <= PORTRES_MAX_RESERVATIONS and used >= 1 + index of every live slot.
 * A violation abort()s, which libFuzzer reports as a crash.
 *
 *   make fuzz FUZZ_SECONDS=60
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

#define CHECK(x) do { if (!(x)) { fprintf( stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x ); abort(); } } while (0)

#define MAXRES PORTRES_MAX_RESERVATIONS
#define BIT63  PORTRES_PERSISTENT_TOKEN_BIT

static struct portres_pool pool, saved;
static struct portres_reservation saved_res[MAXRES];
static uint8_t model_bitmap[PORTRES_PROTO_COUNT][65536 / 8];
static uint32_t run_len[65536];

/* --- input ------------------------------------------------------------------ */

struct input { const uint8_t *p; size_t n; };

static uint8_t u8( struct input *in )
{
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}
static uint16_t u16( struct input *in ) { uint16_t v = u8( in ); return (uint16_t)(v | u8( in ) << 8); }
static uint32_t u32( struct input *in ) { uint32_t v = u16( in ); return v | (uint32_t)u16( in ) << 16; }
static uint64_t u64( struct input *in ) { uint64_t v = u32( in ); return v | (uint64_t)u32( in ) << 32; }

/* --- the model ---------------------------------------------------------------- */

static int get_bit( const uint8_t *bitmap, uint32_t port ) { return (bitmap[port >> 3] >> (port & 7)) & 1; }
static void put_bit( uint8_t *bitmap, uint32_t port ) { bitmap[port >> 3] |= 1u << (port & 7); }

static int overlaps( const struct portres_reservation *r, unsigned proto, uint32_t start, uint32_t count )
{
    return r->token && r->proto == proto && r->start < start + count && (uint32_t)r->start + r->count > start;
}

static unsigned live_slots( void )
{
    unsigned n = 0;
    for (uint32_t i = 0; i < MAXRES; i++) n += !!pool.res[i].token;
    return n;
}

static int token_held( uint64_t token )
{
    for (uint32_t i = 0; i < MAXRES; i++) if (token && pool.res[i].token == token) return 1;
    return 0;
}

/* the invariants, recomputed from the slots */
static void check_invariants( void )
{
    uint32_t live[PORTRES_PROTO_COUNT] = { 0 };

    memset( model_bitmap, 0, sizeof(model_bitmap) );
    CHECK( pool.used <= MAXRES );
    for (uint32_t i = 0; i < MAXRES; i++)
    {
        const struct portres_reservation *r = &pool.res[i];
        if (!r->token) continue;
        CHECK( i < pool.used );
        CHECK( r->proto < PORTRES_PROTO_COUNT );
        CHECK( portres_range_valid( r->start, r->count ) );
        for (uint32_t p = r->start; p < (uint32_t)r->start + r->count; p++)
        {
            CHECK( !get_bit( model_bitmap[r->proto], p ) );   /* two live slots overlap */
            put_bit( model_bitmap[r->proto], p );
        }
        live[r->proto]++;
    }
    CHECK( !memcmp( model_bitmap, pool.bitmap, sizeof(model_bitmap) ) );
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++) CHECK( live[proto] == pool.live[proto] );
}

/* what repair guarantees on top */
static void check_repaired( void )
{
    check_invariants();
    CHECK( pool.magic == PORTRES_POOL_MAGIC );
    CHECK( pool.version == PORTRES_POOL_VERSION );
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
        CHECK( portres_dynamic_range_valid( pool.dyn_first[proto], pool.dyn_count[proto] ) );
    for (uint32_t i = 0; i < MAXRES; i++)
        if (pool.res[i].token)
            CHECK( pool.res[i].kind < PORTRES_KIND_COUNT &&
                   !portres_res_persistent( &pool.res[i] ) == !(pool.res[i].token & BIT63) );
    CHECK( !pool.used || pool.res[pool.used - 1].token );   /* repair leaves the mark tight */
}

/* --- operations ----------------------------------------------------------------- */

static void op_add( struct input *in, int persistent )
{
    struct portres_reservation tmpl, *res;
    uint8_t b = u8( in );
    uint32_t before = live_slots();
    int expect, overlap = 0;

    memset( &tmpl, 0, sizeof(tmpl) );
    tmpl.proto = b < 248 ? b & 1 : b;                       /* now and then an invalid protocol */
    b = u8( in );
    tmpl.start = b & 1 ? u16( in ) : (uint16_t)(1000 + u8( in ));   /* mostly a small, crowded area */
    b = u8( in );
    tmpl.count = b < 200 ? (uint16_t)(b % 16 + 1) : b < 250 ? u16( in ) : (uint16_t)(b == 250 ? 0 : 65535);
    /* persistent: the registry's, pending (with a writer) or active */
    tmpl.kind = persistent ? PORTRES_KIND_PERSISTENT + u8( in ) % 3 : PORTRES_KIND_RUNTIME;
    tmpl.owner = tmpl.kind == PORTRES_KIND_RUNTIME || tmpl.kind == PORTRES_KIND_PENDING ? u8( in ) % 4 + 1 : 0;
    tmpl.watch = u8( in ) % 4;
    tmpl.pid = 1234;
    b = u8( in );
    if (b < 240) tmpl.token = portres_pool_new_token( &pool, persistent );
    else if (b < 250)
    {
        uint32_t i = pool.used ? u16( in ) % pool.used : 0;   /* a token some slot may hold */
        tmpl.token = pool.res[i].token;
    }
    else tmpl.token = 0;
    CHECK( tmpl.token || b >= 240 );

    for (uint32_t i = 0; i < MAXRES && !overlap; i++)
        overlap = overlaps( &pool.res[i], tmpl.proto, tmpl.start, tmpl.count );
    expect = tmpl.proto < PORTRES_PROTO_COUNT && portres_range_valid( tmpl.start, tmpl.count ) &&
             tmpl.token && !token_held( tmpl.token ) && !overlap && before < MAXRES;

    res = portres_pool_add( &pool, &tmpl );
    CHECK( !!res == expect );
    if (res)
    {
        CHECK( res >= pool.res && res < pool.res + MAXRES );
        CHECK( !memcmp( res, &tmpl, sizeof(tmpl) ) );
        CHECK( portres_pool_find_token( &pool, tmpl.token ) == res );
        CHECK( portres_pool_find_exact( &pool, tmpl.proto, tmpl.start, tmpl.count, persistent ) == res );
        CHECK( live_slots() == before + 1 );
    }
    else CHECK( live_slots() == before );
}

static void op_remove( struct input *in )
{
    uint32_t i = u16( in ) % (pool.used + 2 < MAXRES ? pool.used + 2 : MAXRES);
    struct portres_reservation *r = &pool.res[i];
    uint32_t before = live_slots(), was_live = !!r->token;
    struct portres_reservation copy = *r;

    portres_pool_remove( &pool, r );
    CHECK( !r->token );
    CHECK( live_slots() == before - was_live );
    if (was_live) memset( &copy, 0, sizeof(copy) );  /* a removed slot is all zero */
    CHECK( !memcmp( &copy, r, sizeof(copy) ) );      /* a free one is left as it was */
}

/* withdraw: a block added and withdrawn at once (the reservation core's
 * failed in-use check) leaves the pool byte for byte as it was, the slot
 * it took aside when that held leftovers of a corrupted pool */
static void op_withdraw( struct input *in )
{
    static struct portres_pool before;
    struct portres_reservation tmpl = { 0 }, *res;
    static const struct portres_reservation zero;
    uint8_t b = u8( in );
    size_t slot;

    memcpy( &before, &pool, sizeof(pool) );
    tmpl.proto = b & 1;
    tmpl.start = (uint16_t)(1000 + u8( in ));
    tmpl.count = u8( in ) % 16 + 1;
    tmpl.kind = b & 2 ? PORTRES_KIND_PENDING : PORTRES_KIND_RUNTIME;
    tmpl.owner = u8( in ) % 4 + 1;
    tmpl.token = portres_pool_new_token( &pool, tmpl.kind != PORTRES_KIND_RUNTIME );
    if (!(res = portres_pool_add( &pool, &tmpl )))
    {
        pool.next_token = before.next_token;
        return;
    }
    slot = res - pool.res;
    portres_pool_withdraw( &pool, res );
    /* the counter comes back only one step: when new_token skipped tokens
     * still held (a counter set back by op_new_token), it stays past them */
    if ((tmpl.token & ~(BIT63 | PORTRES_ADMINISTERED_TOKEN_BIT)) !=
        ((before.next_token + 1) & ~(BIT63 | PORTRES_ADMINISTERED_TOKEN_BIT)))
    {
        CHECK( pool.next_token != before.next_token );
        pool.next_token = before.next_token;
    }
    if (!memcmp( &before.res[slot], &zero, sizeof(zero) )) CHECK( !memcmp( &before, &pool, sizeof(pool) ) );
    else
    {
        CHECK( !memcmp( &before, &pool, offsetof(struct portres_pool, res) + slot * sizeof(zero) ) );
        CHECK( !memcmp( &before.res[slot + 1], &pool.res[slot + 1], (MAXRES - slot - 1) * sizeof(zero) ) );
    }
}

static void op_remove_owner( struct input *in, int kind )
{
    uint32_t owner = u8( in ) % 5;
    unsigned expect = 0, got;
    /* the kind each removes: remove_owner runtime, remove_pending pending */
    uint8_t of = kind == 0 ? PORTRES_KIND_RUNTIME : PORTRES_KIND_PENDING;

    for (uint32_t i = 0; i < MAXRES; i++)
    {
        const struct portres_reservation *r = &pool.res[i];
        if (!r->token) continue;
        if (kind == 2) expect += !!portres_res_reloadable( r );
        else expect += r->kind == of && r->owner == owner;
    }
    got = kind == 0 ? portres_pool_remove_owner( &pool, owner )
        : kind == 1 ? portres_pool_remove_pending( &pool, owner )
        : portres_pool_remove_persistent( &pool );
    CHECK( got == expect );
    for (uint32_t i = 0; i < MAXRES; i++)
    {
        const struct portres_reservation *r = &pool.res[i];
        if (!r->token) continue;
        if (kind == 2) CHECK( !portres_res_reloadable( r ) );
        else CHECK( r->kind != of || r->owner != owner );
    }
}

struct busy
{
    unsigned proto, density;
    uint32_t seed, lo, hi;
};

/* deterministic: a port is bound iff its hash falls in 1/density */
static int port_free( void *ctx, enum portres_proto proto, uint16_t port )
{
    const struct busy *b = ctx;
    uint32_t h = (port ^ b->seed) * 2654435761u;
    CHECK( proto == b->proto );
    CHECK( port >= b->lo && port <= b->hi );
    return (h >> 16) % b->density != 0;
}

static void op_find_free( struct input *in )
{
    struct busy b;
    uint16_t count, start = 0xbeef;
    uint32_t first, range, offset;
    uint8_t m;
    int got, expect = 0;
    uint32_t expect_start = 0;

    b.proto = u8( in ) & 1;
    m = u8( in );
    count = m < 230 ? (uint16_t)(m % 32 + 1) : m < 250 ? u16( in ) : (uint16_t)(m & 1);
    m = u8( in );
    first = m < 100 ? 1000 + u8( in ) : m < 200 ? u16( in ) : m < 250 ? PORTRES_DYNAMIC_FIRST : u32( in );
    m = u8( in );
    range = m < 100 ? (uint32_t)u8( in ) + 1 : m < 200 ? u16( in ) : m < 250 ? 65536 - first : u32( in );
    offset = u32( in );
    b.density = u8( in ) % 8;
    b.seed = u32( in );
    b.lo = first;
    b.hi = first + range - 1;

    got = portres_pool_find_free( &pool, b.proto, count, first, range, offset,
                                  b.density ? port_free : NULL, &b, &start );

    if (count && range >= count && portres_range_valid( first, range ))
    {
        uint32_t positions = range - count + 1, pos0 = offset % positions;
        for (uint32_t k = 0; k < range; k++)
        {
            uint32_t port = first + k;
            int ok = !portres_pool_is_reserved( &pool, b.proto, (uint16_t)port ) &&
                     (!b.density || port_free( &b, b.proto, (uint16_t)port ));
            CHECK( portres_pool_is_reserved( &pool, b.proto, (uint16_t)port ) == get_bit( model_bitmap[b.proto], port ) );
            run_len[k] = ok ? (k ? run_len[k - 1] : 0) + 1 : 0;
        }
        /* the first fitting start from the offset on, wrapping once */
        for (uint32_t n = 0; n < positions && !expect; n++)
        {
            uint32_t pos = (pos0 + n) % positions;
            if (run_len[pos + count - 1] >= count)
            {
                expect = 1;
                expect_start = first + pos;
            }
        }
    }
    CHECK( got == expect );
    if (got) CHECK( start == expect_start );
    else CHECK( start == 0xbeef );
}

static void op_query( struct input *in )
{
    unsigned proto = u8( in ) & 1;
    uint16_t start = u8( in ) & 1 ? u16( in ) : (uint16_t)(1000 + u8( in ));
    uint16_t count = (uint16_t)(u8( in ) % 40 + 1);
    int persistent = u8( in ) & 1;
    struct portres_reservation *first_overlap = NULL, *first_exact = NULL, *r;

    if (!portres_range_valid( start, count )) return;
    for (uint32_t i = 0; i < MAXRES; i++)
    {
        r = &pool.res[i];
        if (!first_overlap && overlaps( r, proto, start, count )) first_overlap = r;
        if (!first_exact && r->token && r->proto == proto && r->start == start && r->count == count &&
            !portres_res_persistent( r ) == !persistent)
            first_exact = r;
    }
    CHECK( portres_pool_find_overlap( &pool, proto, start, count ) == first_overlap );
    CHECK( portres_pool_find_exact( &pool, proto, start, count, persistent ) == first_exact );
    CHECK( portres_pool_is_reserved( &pool, proto, start ) == get_bit( model_bitmap[proto], start ) );
    CHECK( !portres_pool_find_token( &pool, 0 ) );
    if (pool.used)
    {
        uint32_t i = u16( in ) % pool.used;
        r = portres_pool_find_token( &pool, pool.res[i].token );
        if (pool.res[i].token) CHECK( r && r->token == pool.res[i].token && r <= &pool.res[i] );
        else CHECK( !r );
    }
}

static void op_new_token( struct input *in )
{
    int persistent = u8( in ) & 1;
    uint64_t t;

    if (u8( in ) == 0xff) pool.next_token = u64( in );   /* any counter value, even wrapping */
    t = portres_pool_new_token( &pool, persistent );
    CHECK( t && t != BIT63 );
    CHECK( !!(t & BIT63) == persistent );
    CHECK( !token_held( t ) );
}

/* many single-port runtime reservations at once, through portres_pool_add;
 * now and then the pool is first packed directly (as the slots, bitmap,
 * live[] and used of a pool that add filled would be) up to a few free
 * slots, so that the adds reach a full pool without the O(n^2) cost of
 * 4096 adds per input */
static void op_fill( struct input *in )
{
    unsigned proto = u8( in ) & 1;
    uint8_t b = u8( in );
    uint32_t n = b % 64 + 1u, base = u16( in );
    uint32_t live = live_slots();

    if (b >= 0xf0)
    {
        uint32_t keep = u8( in ) % 8, port = base;
        uint64_t token = u64( in ) | 1;
        for (uint32_t i = 0, tries = 0; i < MAXRES && MAXRES - live > keep; i++)
        {
            struct portres_reservation *r = &pool.res[i];
            if (r->token) continue;
            while (port < 1 || port > 65535 || get_bit( pool.bitmap[proto], port ))
            {
                port = port % 65535 + 1;
                if (++tries > 65536) break;   /* every port of proto reserved */
            }
            if (tries > 65536) break;
            memset( r, 0, sizeof(*r) );
            r->start = (uint16_t)port;
            r->count = 1;
            r->proto = (uint8_t)proto;
            r->owner = 3;
            r->watch = i & 3;
            r->token = token++ & ~BIT63;
            if (!r->token) r->token = token++ & ~BIT63;
            put_bit( pool.bitmap[proto], port );
            pool.live[proto]++;
            if (i >= pool.used) pool.used = i + 1;
            live++;
        }
        check_invariants();
    }

    for (uint32_t k = 0; k < n; k++)
    {
        struct portres_reservation tmpl, *res;
        uint32_t port = (base + k) % 65535 + 1;
        int expect = !portres_pool_is_reserved( &pool, proto, (uint16_t)port ) && live < MAXRES;

        memset( &tmpl, 0, sizeof(tmpl) );
        tmpl.token = portres_pool_new_token( &pool, 0 );
        tmpl.start = (uint16_t)port;
        tmpl.count = 1;
        tmpl.proto = (uint8_t)proto;
        tmpl.owner = 4;
        tmpl.watch = k & 3;
        res = portres_pool_add( &pool, &tmpl );
        CHECK( !!res == expect );
        live += !!res;
        if (!res && live == MAXRES) break;
    }
    CHECK( live == live_slots() );
}

/* repair, compared with a model of it: slots in index order, dropping the
 * malformed ones and those overlapping an earlier kept one */
static void repair_and_check( void )
{
    unsigned expect_dropped = 0, dropped;

    memcpy( saved_res, pool.res, sizeof(saved_res) );
    memset( model_bitmap, 0, sizeof(model_bitmap) );
    for (uint32_t i = 0; i < MAXRES; i++)
    {
        struct portres_reservation *r = &saved_res[i];
        int keep;
        if (!r->token) continue;
        keep = r->proto < PORTRES_PROTO_COUNT && portres_range_valid( r->start, r->count ) &&
               r->kind < PORTRES_KIND_COUNT && !portres_res_persistent( r ) == !(r->token & BIT63);
        for (uint32_t p = r->start; keep && p < (uint32_t)r->start + r->count; p++)
            if (get_bit( model_bitmap[r->proto], p )) keep = 0;
        if (!keep)
        {
            r->token = 0;
            expect_dropped++;
            continue;
        }
        for (uint32_t p = r->start; p < (uint32_t)r->start + r->count; p++) put_bit( model_bitmap[r->proto], p );
    }

    dropped = portres_pool_repair( &pool );
    CHECK( dropped == expect_dropped );
    CHECK( !memcmp( saved_res, pool.res, sizeof(saved_res) ) );   /* only the dropped tokens change */
    check_repaired();

    /* a second repair finds nothing to do */
    memcpy( &saved, &pool, sizeof(pool) );
    CHECK( portres_pool_repair( &pool ) == 0 );
    CHECK( !memcmp( &saved, &pool, sizeof(pool) ) );
}

static void op_corrupt( struct input *in )
{
    unsigned n = u8( in ) % 8 + 1;

    for (unsigned k = 0; k < n; k++)
    {
        uint8_t kind = u8( in ) % 9;
        uint32_t lim = pool.used < MAXRES - 16 ? pool.used + 16 : MAXRES;  /* used may be corrupt: no wrap */
        struct portres_reservation *r = &pool.res[u16( in ) % lim];

        switch (kind)
        {
        case 0: ((uint8_t *)&pool)[u32( in ) % sizeof(pool)] = u8( in ); break;
        case 1:
            switch (u8( in ) % 7)
            {
            case 0: r->token = u64( in ); break;
            case 1: r->token = portres_pool_new_token( &pool, u8( in ) & 1 ); break;
            case 2: r->start = u16( in ); break;
            case 3: r->count = u16( in ); break;
            case 4: r->proto = u8( in ) % 4; break;
            case 5: r->kind = u8( in ); break;
            case 6: r->owner = u8( in ) % 5; break;
            }
            break;
        case 2: pool.bitmap[u8( in ) & 1][u16( in ) % sizeof(pool.bitmap[0])] ^= u8( in ); break;
        case 3: pool.live[u8( in ) & 1] = u32( in ); break;
        case 4: pool.used = u8( in ) & 1 ? u32( in ) : u16( in ) % (MAXRES + 1); break;
        case 5: *r = pool.res[u16( in ) % lim]; break;   /* duplicate a slot: overlap, same token */
        case 6:
            if (u8( in ) & 1) pool.dyn_first[u8( in ) & 1] = u32( in );
            else pool.dyn_count[u8( in ) & 1] = u32( in );
            break;
        case 7:
            if (u8( in ) & 1) r->token ^= BIT63;
            else r->kind = r->kind == PORTRES_KIND_RUNTIME ? PORTRES_KIND_PERSISTENT + u8( in ) % 3
                                                          : PORTRES_KIND_RUNTIME;
            break;
        case 8: pool.magic = u32( in ); pool.version = u32( in ); break;
        }
    }
    repair_and_check();
}

/* a process that died inside the lock, half way through add or remove */
static void op_half_done( struct input *in )
{
    uint8_t b = u8( in );

    if (b & 1)
    {
        /* add: slot written, bits and counter set, token not yet written */
        uint32_t i;
        uint16_t start = (uint16_t)(1000 + u8( in )), count = (uint16_t)(u8( in ) % 16 + 1);
        unsigned proto = u8( in ) & 1;
        for (i = 0; i < pool.used; i++) if (!pool.res[i].token) break;
        if (i == MAXRES || portres_pool_find_overlap( &pool, proto, start, count )) return;
        memset( &pool.res[i], 0, sizeof(pool.res[i]) );
        pool.res[i].start = start;
        pool.res[i].count = count;
        pool.res[i].proto = (uint8_t)proto;
        if (b & 2) for (uint32_t p = start; p < (uint32_t)start + count; p++) put_bit( pool.bitmap[proto], p );
        if (b & 4) pool.live[proto]++;
        if (b & 8 && i == pool.used) pool.used++;
    }
    else if (pool.used)
    {
        /* remove: token cleared, then maybe some of the bits */
        struct portres_reservation *r = &pool.res[u16( in ) % pool.used];
        if (!r->token) return;
        r->token = 0;
        if (b & 2) for (uint32_t p = r->start; p < (uint32_t)r->start + r->count / 2; p++)
            pool.bitmap[r->proto][p >> 3] &= ~(1u << (p & 7));
    }
    repair_and_check();
}

int LLVMFuzzerTestOneInput( const uint8_t *data, size_t size )
{
    struct input in = { data, size };
    unsigned ops = 0;

    portres_pool_init( &pool, u64( &in ) );
    check_repaired();
    while (in.n && ops++ < 200)
    {
        switch (u8( &in ) % 15)
        {
        case 0: case 1: op_add( &in, 0 ); break;
        case 2: op_add( &in, 1 ); break;
        case 3: op_remove( &in ); break;
        case 4: op_remove_owner( &in, 0 ); break;
        case 5: op_remove_owner( &in, 1 ); break;
        case 6: op_remove_owner( &in, 2 ); break;
        case 7: case 8: op_find_free( &in ); break;
        case 9: op_query( &in ); break;
        case 10: op_new_token( &in ); break;
        case 11: op_fill( &in ); break;
        case 12: op_corrupt( &in ); break;
        case 13: op_half_done( &in ); break;
        case 14: op_withdraw( &in ); break;
        }
        check_invariants();
    }
    return 0;
}
