/*
 * The reservation pool: the one layout shared by every process of a prefix
 *
 * The pool lives in a named section (see shared.c) and is only changed
 * under the pool mutex.  This header and pool.c need no Win32: they are
 * unit-tested and fuzzed natively.  Ports here are in host byte order.
 */

#ifndef PORTRES_POOL_H
#define PORTRES_POOL_H

#include <stdint.h>

#define PORTRES_POOL_MAGIC    0x70727331u  /* "prs1" */
#define PORTRES_POOL_VERSION  2  /* 2: kind and watch (was persistent, socket and owner values) */
#define PORTRES_MAX_RESERVATIONS 4096

/* the dynamic port range wildcard acquires and port-0 binds draw from:
 * Windows's default, and the limits netsh puts on changing it */
#define PORTRES_DYNAMIC_FIRST 49152
#define PORTRES_DYNAMIC_COUNT 16384
#define PORTRES_DYNAMIC_MIN_FIRST 1025
#define PORTRES_DYNAMIC_MIN_COUNT 255

/* persistent tokens have the top bit set, runtime tokens never do [dec];
 * of the persistent ones, an administered exclusion's (netsh add
 * excludedportrange, store=persistent or active) has the next bit set
 * too, a CreatePersistent*PortReservation one never (behaviour §4) */
#define PORTRES_PERSISTENT_TOKEN_BIT   (1ull << 63)
#define PORTRES_ADMINISTERED_TOKEN_BIT (1ull << 62)

/* what portres_pool_new_token makes */
enum portres_token_class { PORTRES_TOKEN_RUNTIME, PORTRES_TOKEN_PERSISTENT, PORTRES_TOKEN_ADMINISTERED };

/* what a reservation of the pool is; every kind but runtime has a
 * persistent token (PORTRES_PERSISTENT_TOKEN_BIT) [dec] */
enum portres_kind
{
    PORTRES_KIND_RUNTIME,     /* SIO_ACQUIRE_PORT_RESERVATION's: owner is the acquiring process,
                               * watch its socket's watch; ends with the socket or the process */
    PORTRES_KIND_PERSISTENT,  /* in the registry's list (CreatePersistent*PortReservation, netsh
                               * store=persistent): netsh show's administered "*" ones */
    PORTRES_KIND_PENDING,     /* a persistent one being written to the registry, outside the pool
                               * lock, by owner: holds its ports, is not found by Lookup, stays
                               * when the persistent part is reloaded, goes with owner's process */
    PORTRES_KIND_ACTIVE,      /* netsh store=active: in the volatile key, ends with the wineserver */
    PORTRES_KIND_COUNT
};

/* a bitmap of all ports, one bit each */
#define PORTRES_BITMAP_BYTES (65536 / 8)

enum portres_proto { PORTRES_TCP = 0, PORTRES_UDP = 1, PORTRES_PROTO_COUNT };

struct portres_reservation
{
    uint64_t token;      /* 0: free slot */
    uint64_t watch;      /* runtime: the watch id of the acquiring socket (its event's name, with pid) */
    uint32_t owner;      /* owner id of the process (runtime, pending), else 0 */
    uint32_t pid;        /* owner's process id, for display */
    uint16_t start;      /* first port, host order */
    uint16_t count;      /* number of ports */
    uint8_t  proto;      /* enum portres_proto */
    uint8_t  kind;       /* enum portres_kind */
    uint16_t reserved;
};

struct portres_pool
{
    uint32_t magic;
    uint32_t version;
    uint32_t next_owner;   /* last owner id handed out */
    uint32_t used;         /* slots 0..used-1 may be in use */
    uint64_t next_token;   /* token counter */
    uint32_t live[PORTRES_PROTO_COUNT];  /* reservations per protocol */
    uint32_t dyn_first[PORTRES_PROTO_COUNT];  /* dynamic port range per protocol */
    uint32_t dyn_count[PORTRES_PROTO_COUNT];
    uint8_t  bitmap[PORTRES_PROTO_COUNT][PORTRES_BITMAP_BYTES];  /* reserved ports */
    struct portres_reservation res[PORTRES_MAX_RESERVATIONS];
};

/* callback telling whether a port is free of bound sockets: 1 free,
 * 0 not, negative to stop the search */
typedef int (*portres_port_free_fn)( void *ctx, enum portres_proto proto, uint16_t port );

int portres_range_valid( uint32_t start, uint32_t count );
int portres_res_persistent( const struct portres_reservation *res );
int portres_res_administered( const struct portres_reservation *res );
int portres_res_reloadable( const struct portres_reservation *res );
void portres_pool_init( struct portres_pool *pool, uint64_t token_seed );
int portres_pool_is_reserved( const struct portres_pool *pool, enum portres_proto proto, uint16_t port );
int portres_bitmap_any( const uint8_t *bits, uint32_t first, uint32_t last, const uint8_t *except );
int portres_pool_any_reserved( const struct portres_pool *pool, enum portres_proto proto, uint32_t first,
                               uint32_t last, const uint8_t *except );
int portres_port_list_parse( const char *text, uint8_t *bitmap );
int portres_proc_net_has_port( const char *text, int tcp, uint16_t first, uint16_t last );
struct portres_reservation *portres_pool_find_overlap( struct portres_pool *pool, enum portres_proto proto,
                                                       uint16_t start, uint16_t count );
struct portres_reservation *portres_pool_find_token( struct portres_pool *pool, uint64_t token );
struct portres_reservation *portres_pool_find_exact( struct portres_pool *pool, enum portres_proto proto,
                                                     uint16_t start, uint16_t count, int persistent );
uint64_t portres_pool_new_token( struct portres_pool *pool, int class );
struct portres_reservation *portres_pool_add( struct portres_pool *pool, const struct portres_reservation *tmpl );
void portres_pool_remove( struct portres_pool *pool, struct portres_reservation *res );
void portres_pool_withdraw( struct portres_pool *pool, struct portres_reservation *res );
unsigned int portres_pool_remove_owner( struct portres_pool *pool, uint32_t owner );
unsigned int portres_pool_remove_persistent( struct portres_pool *pool );
unsigned int portres_pool_remove_pending( struct portres_pool *pool, uint32_t owner );
unsigned int portres_pool_repair( struct portres_pool *pool );
struct portres_reservation *portres_pool_next( const struct portres_pool *pool,
                                               const struct portres_reservation *prev );
#define PORTRES_POOL_FOR_EACH( res, pool ) \
    for ((res) = portres_pool_next( (pool), NULL ); (res); (res) = portres_pool_next( (pool), (res) ))
int portres_pool_find_free( const struct portres_pool *pool, enum portres_proto proto, uint16_t count,
                            uint32_t first, uint32_t range, uint32_t offset,
                            portres_port_free_fn port_free, void *ctx, uint16_t *start );
int portres_pool_pick( const struct portres_pool *pool, enum portres_proto proto, uint16_t count,
                       uint32_t kernel_last, uint32_t seed, portres_port_free_fn port_free, void *ctx,
                       uint16_t *start );

/* registry value format of a persistent reservation (regvalue.c) */
#define PORTRES_REGVALUE_NAME_MAX 12   /* "65535-65535" */
#define PORTRES_REGVALUE_DATA_MAX 19   /* "0x" + 16 hex digits */
int portres_regvalue_name( char *buf, unsigned int size, uint16_t start, uint16_t count );
int portres_regvalue_data( char *buf, unsigned int size, uint64_t token );
int portres_regvalue_parse( const char *name, const char *data, enum portres_proto proto,
                            struct portres_reservation *res );
int portres_regvalue_parse_range( const char *text, uint16_t *start, uint16_t *count );
int portres_dynamic_range_valid( uint32_t start, uint32_t count );

#endif /* PORTRES_POOL_H */
