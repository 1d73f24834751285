/*
 * The bind policy: what reservations do to binds (behaviour §3, §4)
 *
 * An explicit bind (bind_explicit) into another process's runtime
 * reservation fails WSAEACCES.  A port-0 bind or an implicit bind
 * (bind_implicit: connect, WSAConnect, ConnectEx, WSAConnectByName/List,
 * sendto, WSASendTo, WSASendMsg) of a socket associated with a
 * reservation takes its port from the reservation's block.  Every other
 * socket: while reservations of its protocol are live where the kernel
 * picks ephemeral ports, its port-0 and implicit binds are made here with
 * a port outside every reservation, chosen by the pool's one block picker
 * (portres_pool_pick).  listen is no implicit bind.  With no reservation
 * live, a bind costs no wineserver round trip more than the builtin's.
 *
 * Called by the hooks (socket.c) only; calls the reservations layer
 * (reservation.c), the socket record (sockstate.c) and Wine's builtin.  Every function returns 0 or a Winsock error code.
 */

#include <stdlib.h>

#include "ws2_32_private.h"
#include "kernel.h"
#include "host.h"
#include "debug.h"

static unsigned int proto_flag( enum portres_proto proto )
{
    return proto == PORTRES_TCP ? IMPLICIT_TCP : IMPLICIT_UDP;
}

/* a private copy of a caller's address, with the port to be changed: the
 * whole len bytes, so that the builtin reads exactly what it would read
 * from the caller (on the heap when longer than SOCKADDR_STORAGE) */
struct addr_copy
{
    struct sockaddr_storage local;
    struct sockaddr *addr;
    int len;
};

static int copy_addr( struct addr_copy *copy, const struct sockaddr *addr, int len )
{
    copy->len = len;
    copy->addr = (struct sockaddr *)&copy->local;
    if (len > (int)sizeof(copy->local) && !(copy->addr = malloc( len ))) return WSAENOBUFS;
    memcpy( copy->addr, addr, len );
    return 0;
}

static void free_addr( struct addr_copy *copy )
{
    if (copy->addr != (struct sockaddr *)&copy->local) free( copy->addr );
}

static void set_port( struct sockaddr *addr, USHORT port )
{
    if (addr->sa_family == AF_INET) ((struct sockaddr_in *)addr)->sin_port = port;
    else ((struct sockaddr_in6 *)addr)->sin6_port = port;
}

static USHORT addr_port( const struct sockaddr *addr )
{
    return addr->sa_family == AF_INET ? ((const struct sockaddr_in *)addr)->sin_port
                                      : ((const struct sockaddr_in6 *)addr)->sin6_port;
}

static BOOL addr_usable( const struct sockaddr *addr, int len, int family )
{
    int need = family == AF_INET ? (int)sizeof(struct sockaddr_in) : (int)sizeof(struct sockaddr_in6);
    return addr && len >= need && !IsBadReadPtr( addr, need ) && addr->sa_family == family;
}

/* Wine's builtin bind; 0 or its Winsock error */
static int builtin_bind( SOCKET s, const struct sockaddr *addr, int len )
{
    return builtin.bind( s, addr, len ) ? builtin.WSAGetLastError() : 0;
}

/* bind s to the copied address with port (host order): 0, or the
 * builtin's error (WSAEINVAL: s is bound already) */
static int try_port( SOCKET s, struct addr_copy *copy, USHORT port )
{
    set_port( copy->addr, portres_htons( port ) );
    return builtin_bind( s, copy->addr, copy->len );
}

/* bind s to addr with each port of the block (host order) in turn until
 * one is free: 0, WSAEADDRINUSE (none free), WSAENOBUFS, or the builtin's
 * error (WSAEINVAL when s is bound already).  No other process's in-use
 * check touches the block: the reservation core publishes a block before
 * its test binds. */
static int bind_in_block( SOCKET s, const struct sockaddr *addr, int len, USHORT start, USHORT count )
{
    struct addr_copy copy;
    int err;

    if ((err = copy_addr( &copy, addr, len ))) return err;
    err = WSAEADDRINUSE;
    for (unsigned int i = 0; i < count; i++)
    {
        err = try_port( s, &copy, start + i );
        if (err != WSAEADDRINUSE && err != WSAEACCES) break;
        err = WSAEADDRINUSE;
    }
    free_addr( &copy );
    if (err == WSAEADDRINUSE) TRACE( "socket %#Ix: no free port in %u+%u: WSAEADDRINUSE\n", s, start, count );
    else if (!err) TRACE( "socket %#Ix bound in %u+%u\n", s, start, count );
    return err;
}

/* the pool when reservations are live at all, in this prefix or another
 * (the host view), else NULL: the common case, one unlocked read, one read
 * of the host view's file at most every few ms and no wineserver round
 * trip.  The host view is brought up to date whatever this prefix holds:
 * the checks below read its bitmaps (portres_host_reserved,
 * portres_host_any_reserved). */
static const struct portres_pool *live_pool( void )
{
    const struct portres_pool *pool = portres_pool_view();
    BOOL others;

    if (!pool) return NULL;
    others = portres_host_live( PORTRES_PROTO_COUNT );
    return others || pool->live[PORTRES_TCP] || pool->live[PORTRES_UDP] ? pool : NULL;
}

/* the pool, when reservations of the socket's protocol are live and so
 * binds of s must be checked; NULL otherwise.  *info is what its record
 * holds (known: sock_peek found one), looked up here only when needed. */
static const struct portres_pool *enforcing( SOCKET s, BOOL known, struct sock_info *info )
{
    const struct portres_pool *pool = live_pool();

    if (!pool || (!known && sock_lookup( s, info ))) return NULL;
    return pool->live[info->proto] || portres_host_live( info->proto ) ? pool : NULL;
}

/* TRUE if the kernel, left to pick the port of a port-0 or implicit bind,
 * could pick a reserved one: only then must portres pick it instead.  The
 * kernel picks from its ephemeral range and skips its own reserved ports
 * (where `wine-portres sync-kernel` puts the reservations). */
static BOOL kernel_may_pick_reserved( const struct portres_pool *pool, enum portres_proto proto )
{
    uint32_t first, last;

    portres_kernel_ephemeral_range( &first, &last );
    return portres_pool_any_reserved( pool, proto, first, last, portres_kernel_reserved_ports() ) ||
           portres_host_any_reserved( proto, first, last, portres_kernel_reserved_ports() );
}

/* the picker's callback for a port-0 or implicit bind: bind the socket to
 * the port; 1 when bound, 0 when the port is taken (try the next), -1 to
 * stop with the builtin's error in ctx->err (WSAEINVAL: bound already) */
struct bind_try
{
    SOCKET s;
    struct addr_copy copy;
    int err;
};

static int bind_port( void *ctx, enum portres_proto proto, uint16_t port )
{
    struct bind_try *t = ctx;

    if (portres_host_reserved( proto, port )) return 0;  /* another prefix's */
    t->err = try_port( t->s, &t->copy, port );
    if (!t->err) return 1;
    if (t->err == WSAEADDRINUSE || t->err == WSAEACCES) return 0;
    return -1;
}

/* bind s to addr with a port of the dynamic port range outside every
 * reservation of proto: the port-0 and implicit binds of behaviour §4, port
 * chosen by portres_pool_pick.
 *
 * The picker tries the part of the dynamic range above the kernel's
 * ephemeral range first (61000-65535 with the defaults).  Wine's TCP
 * sockets carry SO_REUSEADDR in Linux and the wineserver does not know the
 * ports the kernel chose for connects, so a port inside the kernel's range
 * may belong to an established connection to the same peer: connect would
 * then fail WSAEADDRNOTAVAIL.  Above the kernel's range only explicit binds
 * put ports, and the wineserver refuses those of Wine sockets.  When that
 * part has no port left (or the kernel's range covers the dynamic range)
 * the rest of the dynamic range is used, with that rare risk [dec].
 * Returns 0, WSAEADDRINUSE (no port), WSAENOBUFS, or the builtin's error
 * (WSAEINVAL: s is bound already). */
static int bind_outside_reservations( const struct portres_pool *pool, enum portres_proto proto, SOCKET s,
                                      const struct sockaddr *addr, int len )
{
    struct bind_try t = { .s = s };
    uint32_t kernel_first, kernel_last;
    LARGE_INTEGER now;
    uint16_t port;
    int found;

    if ((t.err = copy_addr( &t.copy, addr, len ))) return t.err;
    portres_kernel_ephemeral_range( &kernel_first, &kernel_last );
    QueryPerformanceCounter( &now );
    found = portres_pool_pick( pool, proto, 1, kernel_last, (uint32_t)now.QuadPart, bind_port, &t, &port );
    free_addr( &t.copy );
    if (found > 0)
    {
        TRACE( "socket %#Ix bound to port %u, outside the reservations\n", s, port );
        return 0;
    }
    if (!found)
    {
        TRACE( "socket %#Ix: no free port outside the reservations: WSAEADDRINUSE\n", s );
        return WSAEADDRINUSE;
    }
    return t.err;
}

/* does res keep out an explicit bind of a socket associated with token
 * association (0: none)?  A runtime reservation of another process, and a
 * persistent one made by CreatePersistent*PortReservation unless the
 * socket is associated with it; an administered exclusion never
 * (behaviour §4) */
static BOOL keeps_out( const struct portres_reservation *res, ULONG64 association )
{
    if (res->kind == PORTRES_KIND_RUNTIME) return !portres_is_self( res->owner );
    return !portres_res_administered( res ) && res->token != association;
}

/* WSAEACCES if port is inside a live reservation that keeps out an
 * explicit bind of a socket associated with association (keeps_out),
 * else 0; one wineserver round trip */
static int foreign_reservation( enum portres_proto proto, USHORT port, ULONG64 association )
{
    struct portres_pool *pool;
    struct portres_reservation *res;
    int err = 0;

    if (!(pool = portres_lock())) return 0;
    if ((res = portres_find_conflict( pool, proto, port, 1 )) && keeps_out( res, association ))
    {
        TRACE( "%s port %u is in %u+%u, token %#llx of process %u: WSAEACCES\n", proto ? "UDP" : "TCP", port,
               res->start, res->count, (unsigned long long)res->token, res->pid );
        err = WSAEACCES;
    }
    portres_unlock();
    return err;
}

/* WSAEACCES if port is inside a live reservation of another prefix of
 * the host (behaviour §6) that is not an administered exclusion (a
 * socket cannot be associated with another prefix's token), else 0 */
static int host_reservation( enum portres_proto proto, USHORT port )
{
    struct portres_host_hit hit;

    if (!portres_host_conflict( proto, port, 1, &hit ) || (hit.block.flags & PORTRES_HOST_BLOCK_ADMINISTERED))
        return 0;
    TRACE( "%s port %u is in %u+%u of prefix %s (process %lu): WSAEACCES\n", proto ? "UDP" : "TCP", port,
           hit.block.start, hit.block.count, hit.label, hit.pid );
    return WSAEACCES;
}

/* the wildcard address of family, port 0 */
static int any_addr( int family, struct sockaddr_storage *addr )
{
    memset( addr, 0, sizeof(*addr) );
    addr->ss_family = family;
    return family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* bind_implicit: the implicit bind of an implicit-bind path (flags:
 * IMPLICIT_*, ws2_32_private.h) on a socket that may be unbound: from the
 * block of an associated socket; else, while reservations of its protocol
 * are live where the kernel picks, outside all of them.  A socket found
 * bound already (the bind fails WSAEINVAL) is left alone.  The socket's
 * record is read once and told once.  Returns 0 (the builtin may go on)
 * or WSAEADDRINUSE (no free port); other bind errors are left for the
 * builtin's call to report. */
int bind_implicit( SOCKET s, unsigned int flags )
{
    const struct portres_pool *pool;
    struct sockaddr_storage any;
    struct sock_info info;
    BOOL known = sock_peek( s, &info );
    USHORT start, count;
    int err, len;

    if (known && info.association)
    {
        if (!(flags & proto_flag( info.proto )) || info.bound) return 0;
        len = any_addr( info.family, &any );
        if (reservation_block( info.association, &start, &count ))
            err = bind_in_block( s, (struct sockaddr *)&any, len, start, count );
        else
        {
            /* its reservation is gone: an ordinary implicit bind, made
             * here even for ConnectEx, which the association promised
             * to bind [dec] */
            WARN( "socket %#Ix: reservation %#llx is gone, ordinary implicit bind\n", s,
                  (unsigned long long)info.association );
            if ((pool = enforcing( s, known, &info )) && kernel_may_pick_reserved( pool, info.proto ))
                err = bind_outside_reservations( pool, info.proto, s, (struct sockaddr *)&any, len );
            else if (flags & IMPLICIT_ASSOCIATED_ONLY) err = builtin_bind( s, (struct sockaddr *)&any, len );
            else return 0;
        }
    }
    else
    {
        if ((flags & IMPLICIT_ASSOCIATED_ONLY) || !(pool = enforcing( s, known, &info )) ||
            !(flags & proto_flag( info.proto )) || !kernel_may_pick_reserved( pool, info.proto ) || info.bound)
            return 0;
        len = any_addr( info.family, &any );
        err = bind_outside_reservations( pool, info.proto, s, (struct sockaddr *)&any, len );
    }
    /* bound now, or already (by the builtin or another process) */
    if (!err || err == WSAEINVAL) sock_bound( s );
    return err == WSAEADDRINUSE || err == WSAENOBUFS ? err : 0;
}

/* the bind of bind_explicit, its record read once (sock_peek) */
static int explicit_bind( SOCKET s, const struct sockaddr *addr, int len )
{
    const struct portres_pool *pool;
    struct sock_info info;
    BOOL known = sock_peek( s, &info );
    USHORT start, count;
    int err;

    /* port 0 of an associated socket: from its block; an explicit port is
     * an ordinary bind [obs: msquic] */
    if (known && info.association && addr_usable( addr, len, info.family ) && !addr_port( addr ))
    {
        if (reservation_block( info.association, &start, &count ))
            return bind_in_block( s, addr, len, start, count );
        WARN( "socket %#Ix: reservation %#llx is gone, ordinary bind\n", s, (unsigned long long)info.association );
    }
    if ((pool = enforcing( s, known, &info )) && addr_usable( addr, len, info.family ))
    {
        USHORT port = portres_ntohs( addr_port( addr ) );

        if (!port && kernel_may_pick_reserved( pool, info.proto ))
            return bind_outside_reservations( pool, info.proto, s, addr, len );
        if (port && portres_pool_is_reserved( pool, info.proto, port ) &&
            (err = foreign_reservation( info.proto, port, info.association )))
            return err;
        if (port && portres_host_reserved( info.proto, port ) && (err = host_reservation( info.proto, port )))
            return err;
    }
    return builtin_bind( s, addr, len );
}

/* bind_explicit: bind for the bind hook: 0 or a Winsock error (see the
 * comment of bind in socket.c); a socket bound is noted in its record */
int bind_explicit( SOCKET s, const struct sockaddr *addr, int len )
{
    int err = explicit_bind( s, addr, len );

    if (!err) sock_bound( s );
    return err;
}
