/*
 * The reservation pool's data structure: slots, per-protocol bitmaps, tokens
 *
 * Pure logic over struct portres_pool; the caller holds the pool mutex.
 * A slot is in use when its token is non-zero; the token is written last
 * when adding and cleared first when removing, so a process that dies in
 * the middle leaves at worst a slot whose bitmap bits portres_pool_repair()
 * recomputes.
 */

#include <string.h>

#include "pool.h"

/* the slots that may be in use: never past the array, even if used is corrupt */
static uint32_t used_slots( const struct portres_pool *pool )
{
    return pool->used < PORTRES_MAX_RESERVATIONS ? pool->used : PORTRES_MAX_RESERVATIONS;
}

static void set_bits( struct portres_pool *pool, unsigned int proto, uint32_t start, uint32_t count, int on )
{
    for (uint32_t p = start; p < start + count; p++)
    {
        if (on) pool->bitmap[proto][p >> 3] |= 1u << (p & 7);
        else pool->bitmap[proto][p >> 3] &= ~(1u << (p & 7));
    }
}

/* portres_range_valid: 1 if ports start..start+count-1 (host order) are a
 * valid block: start and count non-zero and the block ends at or before
 * port 65535 (behaviour §2, §3: ERROR_INVALID_PARAMETER / WSAEINVAL otherwise). */
int portres_range_valid( uint32_t start, uint32_t count )
{
    return start >= 1 && count >= 1 && start <= 65535 && count <= 65535 && start + count - 1 <= 65535;
}

/* portres_dynamic_range_valid: 1 if start..start+count-1 may be the
 * dynamic port range: start >= 1025, count >= 255, end <= 65535, the limits
 * of `netsh int ipv4 set dynamicport` (learn.microsoft.com, "The default
 * dynamic port range for TCP/IP has changed") */
int portres_dynamic_range_valid( uint32_t start, uint32_t count )
{
    return start >= PORTRES_DYNAMIC_MIN_FIRST && count >= PORTRES_DYNAMIC_MIN_COUNT &&
           portres_range_valid( start, count );
}

/* the bits of a token that say its class (portres_pool_new_token); the
 * counter never sets them */
#define TOKEN_CLASS_BITS (PORTRES_PERSISTENT_TOKEN_BIT | PORTRES_ADMINISTERED_TOKEN_BIT)

/* portres_pool_init: empty pool; token_seed makes tokens differ between
 * pool instances (so a token from an earlier Wine session is not reused) */
void portres_pool_init( struct portres_pool *pool, uint64_t token_seed )
{
    memset( pool, 0, sizeof(*pool) );
    pool->version = PORTRES_POOL_VERSION;
    pool->next_token = (token_seed & ~TOKEN_CLASS_BITS & ~0xffffffffull) | 1;
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
    {
        pool->dyn_first[proto] = PORTRES_DYNAMIC_FIRST;
        pool->dyn_count[proto] = PORTRES_DYNAMIC_COUNT;
    }
    pool->magic = PORTRES_POOL_MAGIC;
}

/* portres_pool_is_reserved: 1 if port (host order) is in any reservation of proto; O(1) */
int portres_pool_is_reserved( const struct portres_pool *pool, enum portres_proto proto, uint16_t port )
{
    return (pool->bitmap[proto][port >> 3] >> (port & 7)) & 1;
}

/* portres_bitmap_any: 1 if any port of first..last (host order,
 * inclusive, clamped to 0..65535) is set in bits (8192 bytes, a port per
 * bit) and not in except (the same, may be NULL).  64 ports at a time:
 * the bind path asks this for the kernel's whole range (28000 ports). */
int portres_bitmap_any( const uint8_t *bits, uint32_t first, uint32_t last, const uint8_t *except )
{
    uint64_t word, mask;

    if (last > 65535) last = 65535;
    for (; first <= last && (first & 63); first++)
        if ((bits[first >> 3] & ~(except ? except[first >> 3] : 0)) >> (first & 7) & 1) return 1;
    for (; first + 63 <= last; first += 64)
    {
        memcpy( &word, bits + (first >> 3), sizeof(word) );
        mask = 0;
        if (except) memcpy( &mask, except + (first >> 3), sizeof(mask) );
        if (word & ~mask) return 1;
    }
    for (; first <= last; first++)
        if ((bits[first >> 3] & ~(except ? except[first >> 3] : 0)) >> (first & 7) & 1) return 1;
    return 0;
}

/* portres_pool_any_reserved: 1 if any port of first..last (host order,
 * inclusive, clamped to 0..65535) is in a reservation of proto and not in
 * the bitmap except (8192 bytes, may be NULL) */
int portres_pool_any_reserved( const struct portres_pool *pool, enum portres_proto proto, uint32_t first,
                               uint32_t last, const uint8_t *except )
{
    return portres_bitmap_any( pool->bitmap[proto], first, last, except );
}

/* portres_pool_find_overlap: first reservation of proto sharing a port with
 * start..start+count-1, or NULL */
struct portres_reservation *portres_pool_find_overlap( struct portres_pool *pool, enum portres_proto proto,
                                                       uint16_t start, uint16_t count )
{
    uint32_t end = (uint32_t)start + count;
    uint32_t p;

    /* the bitmap answers the common case without walking the slots */
    for (p = start; p < end; p++) if (portres_pool_is_reserved( pool, proto, p )) break;
    if (p == end) return NULL;

    for (uint32_t i = 0; i < used_slots( pool ); i++)
    {
        struct portres_reservation *res = &pool->res[i];
        if (!res->token || res->proto != proto) continue;
        if (res->start < end && (uint32_t)res->start + res->count > start) return res;
    }
    return NULL;
}

/* portres_pool_find_token: the reservation holding token, or NULL (also for token 0) */
struct portres_reservation *portres_pool_find_token( struct portres_pool *pool, uint64_t token )
{
    if (!token) return NULL;
    for (uint32_t i = 0; i < used_slots( pool ); i++)
        if (pool->res[i].token == token) return &pool->res[i];
    return NULL;
}

/* portres_res_persistent: TRUE for every kind with a persistent token
 * (persistent, pending, active), FALSE for runtime reservations */
int portres_res_persistent( const struct portres_reservation *res )
{
    return res->kind != PORTRES_KIND_RUNTIME;
}

/* portres_res_administered: TRUE for an administered exclusion (its
 * token's PORTRES_ADMINISTERED_TOKEN_BIT, any persistent kind), whose ports
 * binds may take (behaviour §4) */
int portres_res_administered( const struct portres_reservation *res )
{
    return portres_res_persistent( res ) && (res->token & PORTRES_ADMINISTERED_TOKEN_BIT);
}

/* portres_res_reloadable: TRUE for the kinds the registry holds and a
 * reload replaces (persistent, active); pending and runtime ones stay */
int portres_res_reloadable( const struct portres_reservation *res )
{
    return res->kind == PORTRES_KIND_PERSISTENT || res->kind == PORTRES_KIND_ACTIVE;
}

/* portres_pool_find_exact: the reservation of proto with exactly this block
 * and a persistent token (persistent = 1: any kind but runtime) or a
 * runtime one, or NULL */
struct portres_reservation *portres_pool_find_exact( struct portres_pool *pool, enum portres_proto proto,
                                                     uint16_t start, uint16_t count, int persistent )
{
    for (uint32_t i = 0; i < used_slots( pool ); i++)
    {
        struct portres_reservation *res = &pool->res[i];
        if (res->token && res->proto == proto && res->start == start && res->count == count &&
            !portres_res_persistent( res ) == !persistent)
            return res;
    }
    return NULL;
}

/* portres_pool_new_token: a token no reservation holds, of class (enum
 * portres_token_class; any other non-zero value: persistent): persistent
 * tokens have PORTRES_PERSISTENT_TOKEN_BIT set, runtime tokens never;
 * administered ones PORTRES_ADMINISTERED_TOKEN_BIT too, the other
 * persistent ones never; never 0 */
uint64_t portres_pool_new_token( struct portres_pool *pool, int class )
{
    for (;;)
    {
        uint64_t token = ++pool->next_token & ~TOKEN_CLASS_BITS;
        if (class) token |= PORTRES_PERSISTENT_TOKEN_BIT;
        if (class == PORTRES_TOKEN_ADMINISTERED) token |= PORTRES_ADMINISTERED_TOKEN_BIT;
        if (token && token != PORTRES_PERSISTENT_TOKEN_BIT && !portres_pool_find_token( pool, token ))
            return token;
    }
}

/* portres_pool_add: store a copy of *tmpl (token, block, proto, owner...)
 * in a free slot.  Returns the slot, or NULL when the block is invalid or
 * overlaps a reservation of its protocol, the token is 0 or taken, or the
 * pool is full. */
struct portres_reservation *portres_pool_add( struct portres_pool *pool, const struct portres_reservation *tmpl )
{
    struct portres_reservation *res = NULL;
    uint32_t i;

    if (tmpl->proto >= PORTRES_PROTO_COUNT || !portres_range_valid( tmpl->start, tmpl->count )) return NULL;
    if (!tmpl->token || portres_pool_find_token( pool, tmpl->token )) return NULL;
    if (tmpl->kind >= PORTRES_KIND_COUNT ||
        !portres_res_persistent( tmpl ) != !(tmpl->token & PORTRES_PERSISTENT_TOKEN_BIT))
        return NULL;
    if (portres_pool_find_overlap( pool, tmpl->proto, tmpl->start, tmpl->count )) return NULL;

    for (i = 0; i < used_slots( pool ); i++) if (!pool->res[i].token) break;
    if (i == PORTRES_MAX_RESERVATIONS) return NULL;
    res = &pool->res[i];

    *res = *tmpl;
    res->token = 0;
    set_bits( pool, tmpl->proto, tmpl->start, tmpl->count, 1 );
    pool->live[tmpl->proto]++;
    if (i >= pool->used) pool->used = i + 1;
    res->token = tmpl->token;  /* last: the slot is now in use */
    return res;
}

/* portres_pool_remove: free a slot returned by one of the find functions */
void portres_pool_remove( struct portres_pool *pool, struct portres_reservation *res )
{
    if (!res->token) return;
    res->token = 0;  /* first: the slot is no longer in use */
    set_bits( pool, res->proto, res->start, res->count, 0 );
    if (pool->live[res->proto]) pool->live[res->proto]--;
    memset( res, 0, sizeof(*res) );  /* a free slot is all zero */
    pool->used = used_slots( pool );
    while (pool->used && !pool->res[pool->used - 1].token) pool->used--;
}

/* portres_pool_withdraw: take out res, just added and found unusable (a
 * port of its block in use): as portres_pool_remove, and the token counter
 * goes back one step when res holds the last token handed out, so that the
 * pool is byte for byte as before the add (unless portres_pool_new_token
 * passed over tokens still held: the counter then stays past them) */
void portres_pool_withdraw( struct portres_pool *pool, struct portres_reservation *res )
{
    uint64_t counter = res->token & ~TOKEN_CLASS_BITS;

    if (!res->token) return;
    portres_pool_remove( pool, res );
    if ((pool->next_token & ~TOKEN_CLASS_BITS) == counter) pool->next_token--;
}

/* remove_matching's kind for every kind a reload replaces */
#define RELOADABLE PORTRES_KIND_COUNT

/* drop every reservation of kind (RELOADABLE: portres_res_reloadable)
 * whose owner is *owner (any owner when owner is NULL); returns how many */
static unsigned int remove_matching( struct portres_pool *pool, unsigned int kind, const uint32_t *owner )
{
    unsigned int n = 0;

    for (uint32_t i = used_slots( pool ); i-- > 0;)
    {
        struct portres_reservation *res = &pool->res[i];

        if (!res->token || (owner && res->owner != *owner)) continue;
        if (kind == RELOADABLE ? !portres_res_reloadable( res ) : res->kind != kind) continue;
        portres_pool_remove( pool, res );
        n++;
    }
    return n;
}

/* portres_pool_remove_owner: drop every runtime reservation of owner; returns how many */
unsigned int portres_pool_remove_owner( struct portres_pool *pool, uint32_t owner )
{
    return remove_matching( pool, PORTRES_KIND_RUNTIME, &owner );
}

/* portres_pool_remove_persistent: drop every reservation the registry
 * holds, persistent and active (before reloading them from the registry),
 * but the pending ones, which are not in the registry yet; returns how many */
unsigned int portres_pool_remove_persistent( struct portres_pool *pool )
{
    return remove_matching( pool, RELOADABLE, NULL );
}

/* portres_pool_remove_pending: drop the pending persistent reservations of
 * owner, whose process ended in the middle of their creation; returns how
 * many */
unsigned int portres_pool_remove_pending( struct portres_pool *pool, uint32_t owner )
{
    return remove_matching( pool, PORTRES_KIND_PENDING, &owner );
}

/* portres_pool_repair: after a process died holding the pool mutex, rebuild
 * the bitmaps, counters and high-water mark from the slots, dropping slots
 * that are malformed or overlap an earlier one.  Returns slots dropped. */
unsigned int portres_pool_repair( struct portres_pool *pool )
{
    unsigned int dropped = 0;

    memset( pool->bitmap, 0, sizeof(pool->bitmap) );
    memset( pool->live, 0, sizeof(pool->live) );
    pool->used = PORTRES_MAX_RESERVATIONS;
    for (uint32_t i = 0; i < PORTRES_MAX_RESERVATIONS; i++)
    {
        struct portres_reservation *res = &pool->res[i];
        if (!res->token) continue;
        if (res->proto >= PORTRES_PROTO_COUNT || !portres_range_valid( res->start, res->count ) ||
            res->kind >= PORTRES_KIND_COUNT ||
            !portres_res_persistent( res ) != !(res->token & PORTRES_PERSISTENT_TOKEN_BIT) ||
            portres_pool_find_overlap( pool, res->proto, res->start, res->count ))
        {
            res->token = 0;
            dropped++;
            continue;
        }
        set_bits( pool, res->proto, res->start, res->count, 1 );
        pool->live[res->proto]++;
    }
    while (pool->used && !pool->res[pool->used - 1].token) pool->used--;
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
        if (!portres_dynamic_range_valid( pool->dyn_first[proto], pool->dyn_count[proto] ))
        {
            pool->dyn_first[proto] = PORTRES_DYNAMIC_FIRST;
            pool->dyn_count[proto] = PORTRES_DYNAMIC_COUNT;
        }
    pool->magic = PORTRES_POOL_MAGIC;
    pool->version = PORTRES_POOL_VERSION;
    return dropped;
}

/* portres_pool_next: the live reservation after prev (NULL: the first),
 * NULL after the last; PORTRES_POOL_FOR_EACH walks them.  Removing the
 * current one while walking is fine.  Never reads past the slot array,
 * even in a view of the pool that another process is changing. */
struct portres_reservation *portres_pool_next( const struct portres_pool *pool,
                                               const struct portres_reservation *prev )
{
    for (uint32_t i = prev ? (uint32_t)(prev - pool->res) + 1 : 0; i < used_slots( pool ); i++)
        if (pool->res[i].token) return (struct portres_reservation *)&pool->res[i];
    return NULL;
}

/* portres_pool_find_free: find count consecutive ports inside
 * first..first+range-1, none reserved and each accepted by port_free (which
 * may be NULL), trying start positions from offset onwards and wrapping
 * once.  Stores the first port in *start and returns 1; returns 0 when no
 * block fits, -1 as soon as port_free returns a negative value. */
int portres_pool_find_free( const struct portres_pool *pool, enum portres_proto proto, uint16_t count,
                            uint32_t first, uint32_t range, uint32_t offset,
                            portres_port_free_fn port_free, void *ctx, uint16_t *start )
{
    uint32_t positions, pos, examined = 0;

    if (!count || range < count || !portres_range_valid( first, range )) return 0;
    positions = range - count + 1;
    pos = offset % positions;

    while (examined < positions)
    {
        uint32_t s = first + pos, bad = count;

        /* one pass: each port is looked at once, as the skip below moves past it */
        for (uint32_t j = 0; j < count; j++)
        {
            int is_free = 1;

            if (portres_pool_is_reserved( pool, proto, s + j ) || (port_free && !(is_free = port_free( ctx, proto, s + j ))))
            {
                bad = j;
                break;
            }
            if (is_free < 0) return -1;
        }
        if (bad == count)
        {
            *start = s;
            return 1;
        }
        /* every start up to s + bad contains the bad port: skip them */
        if (pos + bad + 1 >= positions)
        {
            examined += positions - pos;
            pos = 0;
        }
        else
        {
            examined += bad + 1;
            pos += bad + 1;
        }
    }
    return 0;
}

/* portres_pool_pick: the one block picker, for wildcard acquires (count
 * ports) and for the port-0 and implicit binds portres makes (count 1,
 * port_free binding the socket): count consecutive ports of proto's
 * dynamic port range (pool->dyn_first/dyn_count), none reserved and each
 * accepted by port_free (may be NULL; a negative return stops the search).
 * Ports above kernel_last, the last port of the kernel's ephemeral range
 * (host order), are tried first: the kernel never hands those out for
 * implicit binds, so a block there needs no enforcement; then the whole
 * dynamic range.  Each part is walked once from a place that seed (e.g. a
 * clock reading) scatters, so that processes do not contend for the same
 * block.  Stores the first port (host order) in *start and returns 1;
 * returns 0 when no block fits, -1 when port_free stopped the search.
 * Source: doc/behaviour.md, "Choosing ports". */
int portres_pool_pick( const struct portres_pool *pool, enum portres_proto proto, uint16_t count,
                       uint32_t kernel_last, uint32_t seed, portres_port_free_fn port_free, void *ctx,
                       uint16_t *start )
{
    uint32_t first = pool->dyn_first[proto], last = first + pool->dyn_count[proto] - 1;
    uint32_t offset = seed * 2654435761u;  /* Knuth's multiplicative hash */
    uint32_t above = kernel_last + 1 > first ? kernel_last + 1 : first;
    int ret;

    if (!pool->dyn_count[proto]) return 0;
    if (kernel_last < last && last - above + 1 >= count &&
        (ret = portres_pool_find_free( pool, proto, count, above, last - above + 1, offset, port_free, ctx, start )))
        return ret;
    return portres_pool_find_free( pool, proto, count, first, pool->dyn_count[proto], offset, port_free, ctx, start );
}
