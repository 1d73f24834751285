/*
 * Sockets associated with a reservation, and what reservations do to the
 * binds of everyone else: bind and the implicit binds
 *
 * SIO_ASSOCIATE_PORT_RESERVATION records (socket, token) here, in this
 * process only; bind and the implicit binds of connect, WSAConnect, sendto,
 * WSASendTo and listen then take the socket's port from the reservation's
 * block (SPEC §3).  Sockets never associated pay one unlocked read.
 */

#include <stdlib.h>

#include "ws2_32_private.h"
#include "debug.h"

static void set_port( struct sockaddr_storage *addr, USHORT port )
{
    if (addr->ss_family == AF_INET) ((struct sockaddr_in *)addr)->sin_port = port;
    else ((struct sockaddr_in6 *)addr)->sin6_port = port;
}

/* bind s to addr with each port of the block in turn until one is free */
static int bind_in_block( SOCKET s, const struct sockaddr *addr, int len, USHORT start, USHORT count )
{
    struct sockaddr_storage copy;

    memcpy( &copy, addr, min( len, (int)sizeof(copy) ) );
    for (unsigned int i = 0; i < count; i++)
    {
        USHORT port = portres_htons( (USHORT)(start + i) );
        int err;

        set_port( &copy, port );
        if (!builtin.bind( s, (struct sockaddr *)&copy, len ))
        {
            socket_bound( s );
            return 0;
        }
        err = builtin.WSAGetLastError();
        if (err != WSAEADDRINUSE && err != WSAEACCES) return SOCKET_ERROR;
    }
    SetLastError( WSAEADDRINUSE );
    return SOCKET_ERROR;
}

static USHORT addr_port( const struct sockaddr *addr )
{
    return addr->sa_family == AF_INET ? ((const struct sockaddr_in *)addr)->sin_port
                                      : ((const struct sockaddr_in6 *)addr)->sin6_port;
}

/* the pool, when reservations of the socket's protocol are live and so
 * binds of s must be checked; NULL (the common case, no wineserver round
 * trip) otherwise */
static const struct portres_pool *enforcing( SOCKET s, enum portres_proto *proto, int *family )
{
    const struct portres_pool *pool = portres_pool_view();

    if (!pool || !(pool->live[PORTRES_TCP] | pool->live[PORTRES_UDP])) return NULL;
    if (socket_protocol( s, proto, family )) return NULL;
    return pool->live[*proto] ? pool : NULL;
}

/* TRUE if the kernel, left to pick the port of a port-0 or implicit bind,
 * could pick a reserved one: only then must portres pick it instead.  The
 * kernel picks from its ephemeral range and skips its own reserved ports
 * (where `wine-portres sync-kernel` puts the reservations). */
static BOOL kernel_may_pick_reserved( const struct portres_pool *pool, enum portres_proto proto )
{
    uint32_t first, last;

    portres_kernel_ephemeral_range( &first, &last );
    return portres_pool_any_reserved( pool, proto, first, last, portres_kernel_reserved_ports() );
}

static BOOL addr_usable( const struct sockaddr *addr, int len, int family )
{
    int need = family == AF_INET ? (int)sizeof(struct sockaddr_in) : (int)sizeof(struct sockaddr_in6);
    return addr && len >= need && !IsBadReadPtr( addr, need ) && addr->sa_family == family;
}

/* the port-0 bind of an associated socket: from its reservation's block.
 * Returns -2 when the call is not ours to handle. */
static int reserved_bind( const struct association *a, SOCKET s, const struct sockaddr *addr, int len )
{
    USHORT start, count;

    if (!addr_usable( addr, len, a->family ) || addr_port( addr )) return -2;  /* an explicit port: an ordinary bind [obs: msquic] */
    if (!reservation_block( a->token, &start, &count ))
    {
        WARN( "socket %#Ix: reservation %#llx is gone, ordinary bind\n", s, (unsigned long long)a->token );
        return -2;
    }
    TRACE( "socket %#Ix: binding in %u+%u\n", s, start, count );
    return bind_in_block( s, addr, len, start, count );
}

/* bind s to addr with a port of the dynamic port range outside every
 * reservation of proto: the port-0 and implicit binds of SPEC §4 */
static int bind_outside_reservations( const struct portres_pool *pool, enum portres_proto proto, SOCKET s,
                                      const struct sockaddr *addr, int len )
{
    struct sockaddr_storage copy;
    unsigned int tries = 0;
    LARGE_INTEGER now;
    uint32_t offset;

    QueryPerformanceCounter( &now );
    offset = (uint32_t)now.QuadPart * 2654435761u;
    memcpy( &copy, addr, min( len, (int)sizeof(copy) ) );
    for (uint32_t i = 0; i < pool->dyn_count[proto] && tries < 1024; i++)
    {
        USHORT port = pool->dyn_first[proto] + (offset + i) % pool->dyn_count[proto];
        int err;

        if (portres_pool_is_reserved( pool, proto, port )) continue;
        tries++;
        set_port( &copy, portres_htons( port ) );
        if (!builtin.bind( s, (struct sockaddr *)&copy, len ))
        {
            socket_bound( s );
            return 0;
        }
        err = builtin.WSAGetLastError();
        if (err != WSAEADDRINUSE && err != WSAEACCES) return SOCKET_ERROR;
    }
    SetLastError( WSAEADDRINUSE );
    return SOCKET_ERROR;
}

/* WSAEACCES if port is inside a live runtime reservation of another
 * process (SPEC §4), else 0; one wineserver round trip */
static int foreign_reservation( enum portres_proto proto, USHORT port )
{
    struct portres_pool *pool;
    struct portres_reservation *res;
    int err = 0;

    if (!(pool = portres_lock())) return 0;
    if ((res = portres_find_conflict( pool, proto, port, 1 )) && !res->persistent && !portres_is_self( res->owner ))
        err = WSAEACCES;
    portres_unlock();
    return err;
}

/* the implicit bind of connect, sendto and listen on a still unbound
 * socket: from the block of an associated socket, else outside every
 * reservation when some are live; 0 when nothing was to be done */
static int implicit_bind( SOCKET s, BOOL udp_only )
{
    struct sockaddr_in6 any6 = { .sin6_family = AF_INET6 };
    struct sockaddr_in any4 = { .sin_family = AF_INET };
    const struct portres_pool *pool;
    enum portres_proto proto;
    struct association a;
    int family, ret;

    if (get_association( s, &a ))
    {
        if ((udp_only && a.proto != PORTRES_UDP) || socket_is_bound( s )) return 0;
        if (a.family == AF_INET) ret = reserved_bind( &a, s, (struct sockaddr *)&any4, sizeof(any4) );
        else ret = reserved_bind( &a, s, (struct sockaddr *)&any6, sizeof(any6) );
        return ret == -2 ? 0 : ret;
    }
    if (!(pool = enforcing( s, &proto, &family )) || (udp_only && proto != PORTRES_UDP) ||
        !kernel_may_pick_reserved( pool, proto ) || socket_is_bound( s ))
        return 0;
    if (family == AF_INET) return bind_outside_reservations( pool, proto, s, (struct sockaddr *)&any4, sizeof(any4) );
    return bind_outside_reservations( pool, proto, s, (struct sockaddr *)&any6, sizeof(any6) );
}

/***********************************************************************
 *      bind (WS2_32.2)
 *
 * Binds s to addr (port in network byte order).  A socket associated with
 * a reservation (SIO_ASSOCIATE_PORT_RESERVATION) binding port 0 gets a free
 * port of the reservation's block, or fails WSAEADDRINUSE when none is
 * free.  While reservations of the socket's protocol are live, a port-0
 * bind of any other socket gets a port of the dynamic port range outside
 * all of them (WSAEADDRINUSE if none), and an explicit bind into another
 * process's runtime reservation fails WSAEACCES (persistent reservations
 * and the owner's own do not refuse).  Every other bind, and every other
 * error, is Wine's builtin's.
 * Source: SPEC §3, §4; learn.microsoft.com SIO_ASSOCIATE_PORT_RESERVATION.
 */
int WINAPI portres_bind( SOCKET s, const struct sockaddr *addr, int len )
{
    const struct portres_pool *pool;
    enum portres_proto proto;
    struct association a;
    int family, ret;

    if (get_association( s, &a ) && (ret = reserved_bind( &a, s, addr, len )) != -2) return ret;
    if ((pool = enforcing( s, &proto, &family )) && addr_usable( addr, len, family ))
    {
        USHORT port = portres_ntohs( addr_port( addr ) );

        if (!port && kernel_may_pick_reserved( pool, proto ))
            return bind_outside_reservations( pool, proto, s, addr, len );
        if (portres_pool_is_reserved( pool, proto, port ) && (ret = foreign_reservation( proto, port )))
        {
            SetLastError( ret );
            return SOCKET_ERROR;
        }
    }
    if ((ret = builtin.bind( s, addr, len ))) return ret;
    socket_bound( s );
    return 0;
}

/***********************************************************************
 *      connect (WS2_32.4)
 *
 * Wine's builtin connect, after the implicit bind of an associated,
 * unbound socket has taken its port from the reservation (WSAEADDRINUSE
 * when the block has none free).  Source: SPEC §3.
 */
int WINAPI portres_connect( SOCKET s, const struct sockaddr *addr, int len )
{
    if (implicit_bind( s, FALSE )) return SOCKET_ERROR;
    return builtin.connect( s, addr, len );
}

/***********************************************************************
 *      WSAConnect (WS2_32.41)
 *
 * As connect, for WSAConnect.  Source: SPEC §3.
 */
int WINAPI portres_WSAConnect( SOCKET s, const struct sockaddr *addr, int len, WSABUF *caller_data,
                               WSABUF *callee_data, QOS *sqos, QOS *gqos )
{
    if (implicit_bind( s, FALSE )) return SOCKET_ERROR;
    return builtin.WSAConnect( s, addr, len, caller_data, callee_data, sqos, gqos );
}

/***********************************************************************
 *      sendto (WS2_32.20)
 *
 * Wine's builtin sendto, after the implicit bind of an associated, unbound
 * UDP socket has taken its port from the reservation.  Source: SPEC §3.
 */
int WINAPI portres_sendto( SOCKET s, const char *buf, int len, int flags, const struct sockaddr *to, int tolen )
{
    if (implicit_bind( s, TRUE )) return SOCKET_ERROR;
    return builtin.sendto( s, buf, len, flags, to, tolen );
}

/***********************************************************************
 *      WSASendTo (WS2_32.90)
 *
 * As sendto, for WSASendTo.  Source: SPEC §3.
 */
int WINAPI portres_WSASendTo( SOCKET s, WSABUF *buffers, DWORD count, DWORD *sent, DWORD flags,
                              const struct sockaddr *to, int tolen, OVERLAPPED *overlapped,
                              LPWSAOVERLAPPED_COMPLETION_ROUTINE completion )
{
    if (implicit_bind( s, TRUE )) return SOCKET_ERROR;
    return builtin.WSASendTo( s, buffers, count, sent, flags, to, tolen, overlapped, completion );
}

/***********************************************************************
 *      listen (WS2_32.13)
 *
 * Wine's builtin listen, after the implicit bind of an associated, unbound
 * socket.  Source: SPEC §3, §4.
 */
int WINAPI portres_listen( SOCKET s, int backlog )
{
    if (implicit_bind( s, FALSE )) return SOCKET_ERROR;
    return builtin.listen( s, backlog );
}

static LPFN_CONNECTEX builtin_ConnectEx;

/* ConnectEx as handed out by SIO_GET_EXTENSION_FUNCTION_POINTER: the
 * builtin's, after the implicit bind of SPEC §3 and §4 */
static BOOL WINAPI portres_ConnectEx( SOCKET s, const struct sockaddr *addr, int len, void *buf, DWORD size,
                                      DWORD *sent, OVERLAPPED *overlapped )
{
    if (implicit_bind( s, FALSE )) return FALSE;
    return builtin_ConnectEx( s, addr, len, buf, size, sent, overlapped );
}

/* wrap_extension: the extension function to hand out for guid in place of
 * the builtin's func (ConnectEx is wrapped, the others are not) */
void *wrap_extension( const GUID *guid, void *func )
{
    static const GUID connectex = WSAID_CONNECTEX;

    if (!func || memcmp( guid, &connectex, sizeof(connectex) )) return func;
    builtin_ConnectEx = func;
    return (void *)portres_ConnectEx;
}

/***********************************************************************
 *      closesocket (WS2_32.3)
 *
 * Ends the runtime reservations acquired on s and its association, then
 * closes it with Wine's builtin (WSAENOTSOCK and the rest are its errors).
 * Source: SPEC §3 ("lives until ... the acquiring socket is closed").
 */
int WINAPI portres_closesocket( SOCKET s )
{
    uncache_socket( s );
    forget_socket( s );
    release_socket_reservations( s );
    return builtin.closesocket( s );
}
