/*
 * Sockets associated with a reservation, and what reservations do to the
 * binds of everyone else: bind and the implicit binds
 *
 * SIO_ASSOCIATE_PORT_RESERVATION records (socket, token) here, in this
 * process only; bind and the implicit binds of connect, WSAConnect,
 * ConnectEx, WSAConnectByName/List, sendto, WSASendTo and WSASendMsg then
 * take the socket's port from the reservation's block (SPEC §3).  Sockets
 * never associated pay one unlocked read.
 *
 * Every other socket: while reservations of its protocol are live where
 * the kernel picks ephemeral ports, the port-0 bind and the implicit binds
 * above are made by portres with a port outside every reservation (SPEC
 * §4).  listen is no implicit bind and is Wine's builtin's.  With no
 * reservation live, every call costs no wineserver round trip more than
 * the builtin's.
 *
 * Helpers return 0 or a Winsock error code; the WINAPI entry points set
 * the error and return SOCKET_ERROR (or FALSE).
 */

#include <stdlib.h>

#include "ws2_32_private.h"
#include "debug.h"

/* the protocols an implicit-bind path binds for, and whether portres may
 * bind a socket that is not associated (ConnectEx: no, it needs a bound
 * socket on Windows) */
#define IMPLICIT_TCP             0x1
#define IMPLICIT_UDP             0x2
#define IMPLICIT_ASSOCIATED_ONLY 0x4

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
    if (builtin.bind( s, addr, len )) return builtin.WSAGetLastError();
    socket_bound( s );
    return 0;
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
 * error (WSAEINVAL when s is bound already).  When none is, two more
 * passes follow, 2 and 4 ms later: another process's acquire may hold a
 * port of the block for a moment with its in-use check (a test bind made
 * before the pool lock, when the block was not yet reserved). */
static int bind_in_block( SOCKET s, const struct sockaddr *addr, int len, USHORT start, USHORT count )
{
    struct addr_copy copy;
    int err;

    if ((err = copy_addr( &copy, addr, len ))) return err;
    err = WSAEADDRINUSE;
    for (unsigned int pass = 0; pass < 3 && err == WSAEADDRINUSE; pass++)
    {
        if (pass) Sleep( 2 * pass );
        for (unsigned int i = 0; i < count; i++)
        {
            err = try_port( s, &copy, start + i );
            if (err != WSAEADDRINUSE && err != WSAEACCES) break;
            err = WSAEADDRINUSE;
        }
    }
    free_addr( &copy );
    if (err == WSAEADDRINUSE) TRACE( "socket %#Ix: no free port in %u+%u: WSAEADDRINUSE\n", s, start, count );
    else if (!err) TRACE( "socket %#Ix bound in %u+%u\n", s, start, count );
    return err;
}

/* the pool when reservations are live at all, else NULL: the common case,
 * one unlocked read and no wineserver round trip */
static const struct portres_pool *live_pool( void )
{
    const struct portres_pool *pool = portres_pool_view();

    if (!pool || !(pool->live[PORTRES_TCP] | pool->live[PORTRES_UDP])) return NULL;
    return pool;
}

/* the pool, when reservations of the socket's protocol are live and so
 * binds of s must be checked; NULL otherwise */
static const struct portres_pool *enforcing( SOCKET s, enum portres_proto *proto, int *family )
{
    const struct portres_pool *pool = live_pool();

    if (!pool || socket_protocol( s, proto, family )) return NULL;
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

/* walk first..first+count-1 (host order) from a random place, trying the
 * ports outside every reservation of proto, at most *tries binds: 0, or
 * WSAEADDRINUSE when every port tried was taken, or another error of the
 * builtin's bind (WSAEINVAL: s is bound already) */
static int bind_in_range( const struct portres_pool *pool, enum portres_proto proto, SOCKET s,
                          struct addr_copy *copy, uint32_t first, uint32_t count, unsigned int *tries )
{
    LARGE_INTEGER now;
    uint32_t offset;
    int err;

    QueryPerformanceCounter( &now );
    offset = (uint32_t)now.QuadPart * 2654435761u;
    for (uint32_t i = 0; i < count && *tries; i++)
    {
        USHORT port = first + (offset + i) % count;

        if (portres_pool_is_reserved( pool, proto, port )) continue;
        --*tries;
        err = try_port( s, copy, port );
        if (err != WSAEADDRINUSE && err != WSAEACCES) return err;
    }
    return WSAEADDRINUSE;
}

/* bind s to addr with a port of the dynamic port range outside every
 * reservation of proto: the port-0 and implicit binds of SPEC §4.
 *
 * The port is taken first from the part of the dynamic range above the
 * kernel's ephemeral range (61000-65535 with the defaults).  Wine's TCP
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
    uint32_t dyn_first = pool->dyn_first[proto], dyn_last = dyn_first + pool->dyn_count[proto] - 1;
    uint32_t kernel_first, kernel_last, above;
    unsigned int tries = 1024;
    struct addr_copy copy;
    int err = WSAEADDRINUSE;

    if ((err = copy_addr( &copy, addr, len ))) return err;
    portres_kernel_ephemeral_range( &kernel_first, &kernel_last );
    above = max( kernel_last + 1, dyn_first );
    err = WSAEADDRINUSE;
    if (above <= dyn_last) err = bind_in_range( pool, proto, s, &copy, above, dyn_last - above + 1, &tries );
    if (err == WSAEADDRINUSE)
        err = bind_in_range( pool, proto, s, &copy, dyn_first, pool->dyn_count[proto], &tries );
    if (!err) TRACE( "socket %#Ix bound to port %u, outside the reservations\n", s,
                     portres_ntohs( addr_port( copy.addr ) ) );
    else if (err == WSAEADDRINUSE) TRACE( "socket %#Ix: no free port outside the reservations: WSAEADDRINUSE\n", s );
    free_addr( &copy );
    return err;
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
    {
        TRACE( "port %u is in %u+%u of owner %u: WSAEACCES\n", port, res->start, res->count, res->owner );
        err = WSAEACCES;
    }
    portres_unlock();
    return err;
}

/* the wildcard address of family, port 0 */
static int any_addr( int family, struct sockaddr_storage *addr )
{
    memset( addr, 0, sizeof(*addr) );
    addr->ss_family = family;
    return family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* the implicit bind of an implicit-bind path (flags: IMPLICIT_*) on a
 * socket that may be unbound: from the block of an associated socket;
 * else, while reservations of its protocol are live where the kernel
 * picks, outside all of them.  A socket found bound already (the bind
 * fails WSAEINVAL) is left alone.  Returns 0 (the builtin may go on) or
 * WSAEADDRINUSE (no free port); other bind errors are left for the
 * builtin's call to report. */
static int implicit_bind( SOCKET s, unsigned int flags )
{
    const struct portres_pool *pool;
    struct sockaddr_storage any;
    enum portres_proto proto;
    struct association a;
    USHORT start, count;
    int family, err, len;

    if (get_association( s, &a ))
    {
        if (!(flags & proto_flag( a.proto )) || socket_known_bound( s )) return 0;
        len = any_addr( a.family, &any );
        if (reservation_block( a.token, &start, &count ))
            err = bind_in_block( s, (struct sockaddr *)&any, len, start, count );
        else
        {
            /* its reservation is gone: an ordinary implicit bind, made
             * here even for ConnectEx, which the association promised
             * to bind [dec] */
            WARN( "socket %#Ix: reservation %#llx is gone, ordinary implicit bind\n", s,
                  (unsigned long long)a.token );
            if ((pool = enforcing( s, &proto, &family )) && kernel_may_pick_reserved( pool, proto ))
                err = bind_outside_reservations( pool, proto, s, (struct sockaddr *)&any, len );
            else if (flags & IMPLICIT_ASSOCIATED_ONLY) err = builtin_bind( s, (struct sockaddr *)&any, len );
            else return 0;
        }
    }
    else
    {
        if ((flags & IMPLICIT_ASSOCIATED_ONLY) || !(pool = enforcing( s, &proto, &family )) ||
            !(flags & proto_flag( proto )) || !kernel_may_pick_reserved( pool, proto ) || socket_known_bound( s ))
            return 0;
        len = any_addr( family, &any );
        err = bind_outside_reservations( pool, proto, s, (struct sockaddr *)&any, len );
    }
    if (err == WSAEINVAL) socket_bound( s );  /* bound already, by the builtin or another process */
    return err == WSAEADDRINUSE || err == WSAENOBUFS ? err : 0;
}

/* bind for portres_bind: 0 or a Winsock error */
static int do_bind( SOCKET s, const struct sockaddr *addr, int len )
{
    const struct portres_pool *pool;
    enum portres_proto proto;
    struct association a;
    USHORT start, count;
    int family, err;

    /* port 0 of an associated socket: from its block; an explicit port is
     * an ordinary bind [obs: msquic] */
    if (get_association( s, &a ) && addr_usable( addr, len, a.family ) && !addr_port( addr ))
    {
        if (reservation_block( a.token, &start, &count )) return bind_in_block( s, addr, len, start, count );
        WARN( "socket %#Ix: reservation %#llx is gone, ordinary bind\n", s, (unsigned long long)a.token );
    }
    if ((pool = enforcing( s, &proto, &family )) && addr_usable( addr, len, family ))
    {
        USHORT port = portres_ntohs( addr_port( addr ) );

        if (!port && kernel_may_pick_reserved( pool, proto ))
            return bind_outside_reservations( pool, proto, s, addr, len );
        if (port && portres_pool_is_reserved( pool, proto, port ) && (err = foreign_reservation( proto, port )))
            return err;
    }
    return builtin_bind( s, addr, len );
}

/***********************************************************************
 *      bind (WS2_32.2)
 *
 * Binds s to addr (len bytes; port in network byte order).  A socket
 * associated with a reservation (SIO_ASSOCIATE_PORT_RESERVATION) binding
 * port 0 gets a free port of the reservation's block, or fails
 * WSAEADDRINUSE when none is free.  While reservations of the socket's
 * protocol are live where the kernel picks ports, a port-0 bind of any
 * other socket gets a port of the dynamic port range outside all of them
 * (WSAEADDRINUSE if none).  An explicit bind into another process's
 * runtime reservation fails WSAEACCES (persistent reservations and the
 * owner's own do not refuse).  Every other bind, and every other error,
 * is Wine's builtin's, which reads the same len bytes it would read from
 * the caller.  Source: SPEC §3, §4; learn.microsoft.com
 * SIO_ASSOCIATE_PORT_RESERVATION.
 */
int WINAPI portres_bind( SOCKET s, const struct sockaddr *addr, int len )
{
    int err = do_bind( s, addr, len );

    TRACE( "socket %#Ix addr %p len %d -> %d\n", s, addr, len, err );
    if (!err) return 0;
    SetLastError( err );
    return SOCKET_ERROR;
}

/***********************************************************************
 *      connect (WS2_32.4)
 *
 * Wine's builtin connect to addr (port in network byte order), after the
 * implicit bind of SPEC §3 and §4 on a socket that may be unbound: from
 * the block of an associated socket, else outside every reservation when
 * some are live where the kernel picks ports.  Errors: WSAEADDRINUSE (no
 * free port for the implicit bind), else the builtin's.  Source: SPEC §3,
 * §4.
 */
int WINAPI portres_connect( SOCKET s, const struct sockaddr *addr, int len )
{
    int err;

    if (addr && (err = implicit_bind( s, IMPLICIT_TCP | IMPLICIT_UDP )))
    {
        TRACE( "socket %#Ix: implicit bind failed %d\n", s, err );
        SetLastError( err );
        return SOCKET_ERROR;
    }
    return builtin.connect( s, addr, len );
}

/***********************************************************************
 *      WSAConnect (WS2_32.41)
 *
 * As connect, for WSAConnect.  Source: SPEC §3, §4.
 */
int WINAPI portres_WSAConnect( SOCKET s, const struct sockaddr *addr, int len, WSABUF *caller_data,
                               WSABUF *callee_data, QOS *sqos, QOS *gqos )
{
    int err;

    if (addr && (err = implicit_bind( s, IMPLICIT_TCP | IMPLICIT_UDP )))
    {
        TRACE( "socket %#Ix: implicit bind failed %d\n", s, err );
        SetLastError( err );
        return SOCKET_ERROR;
    }
    return builtin.WSAConnect( s, addr, len, caller_data, callee_data, sqos, gqos );
}

/***********************************************************************
 *      WSAConnectByNameA (WS2_32.42)
 *
 * Wine's builtin WSAConnectByNameA (node and service names as strings),
 * after the implicit bind of connect on a TCP socket.  Nothing is bound
 * when node or service is NULL or reserved is set (the builtin's
 * WSAEINVAL).  When the name does not resolve, the socket may be left
 * bound (only while reservations are live where the kernel picks ports).
 * Errors: WSAEADDRINUSE (no free port), else the builtin's.
 * Source: SPEC §4.
 */
BOOL WINAPI portres_WSAConnectByNameA( SOCKET s, const char *node, const char *service, DWORD *local_len,
                                       struct sockaddr *local, DWORD *remote_len, struct sockaddr *remote,
                                       const struct timeval *timeout, WSAOVERLAPPED *reserved )
{
    int err;

    if (node && service && !reserved && (err = implicit_bind( s, IMPLICIT_TCP )))
    {
        TRACE( "socket %#Ix: implicit bind failed %d\n", s, err );
        SetLastError( err );
        return FALSE;
    }
    return builtin.WSAConnectByNameA( s, node, service, local_len, local, remote_len, remote, timeout, reserved );
}

/***********************************************************************
 *      WSAConnectByNameW (WS2_32.43)
 *
 * As WSAConnectByNameA, for WSAConnectByNameW.
 */
BOOL WINAPI portres_WSAConnectByNameW( SOCKET s, const WCHAR *node, const WCHAR *service, DWORD *local_len,
                                       struct sockaddr *local, DWORD *remote_len, struct sockaddr *remote,
                                       const struct timeval *timeout, WSAOVERLAPPED *reserved )
{
    int err;

    if (node && service && !reserved && (err = implicit_bind( s, IMPLICIT_TCP )))
    {
        TRACE( "socket %#Ix: implicit bind failed %d\n", s, err );
        SetLastError( err );
        return FALSE;
    }
    return builtin.WSAConnectByNameW( s, node, service, local_len, local, remote_len, remote, timeout, reserved );
}

/* copy the address len bytes long to out/out_len when given: 0, or
 * WSAEFAULT when *out_len is too small */
static int return_addr( const struct sockaddr_storage *addr, int len, DWORD *out_len, struct sockaddr *out )
{
    if (!out || !out_len) return 0;
    if (*out_len < (DWORD)len) return WSAEFAULT;
    memcpy( out, addr, len );
    *out_len = len;
    return 0;
}

/* WSAConnectByList for a blocking connect: 0 or a Winsock error */
static int connect_by_list( SOCKET s, const SOCKET_ADDRESS_LIST *list, DWORD *local_len, struct sockaddr *local,
                            DWORD *remote_len, struct sockaddr *remote )
{
    struct sockaddr_storage addr;
    int err, len;

    if ((err = implicit_bind( s, IMPLICIT_TCP ))) return err;
    err = WSAEHOSTUNREACH;
    for (INT i = 0; i < list->iAddressCount; i++)
    {
        const SOCKET_ADDRESS *sa = &list->Address[i];

        if (!sa->lpSockaddr || sa->iSockaddrLength <= 0) continue;
        if (builtin.connect( s, sa->lpSockaddr, sa->iSockaddrLength ))
        {
            err = builtin.WSAGetLastError();
            continue;
        }
        len = sizeof(addr);
        if (builtin.getsockname( s, (struct sockaddr *)&addr, &len )) return builtin.WSAGetLastError();
        if ((err = return_addr( &addr, len, local_len, local ))) return err;
        len = min( sa->iSockaddrLength, (int)sizeof(addr) );
        memcpy( &addr, sa->lpSockaddr, len );
        return return_addr( &addr, len, remote_len, remote );
    }
    return err;
}

/***********************************************************************
 *      WSAConnectByList (WS2_32.@)
 *
 * Connects the TCP socket s to the first address of list (ports in network
 * byte order) that accepts, trying them in order; Wine 8.0's builtin has
 * no WSAConnectByList.  On success the local and remote addresses are
 * returned through local_len/local and remote_len/remote when given.  The
 * implicit bind is that of connect (SPEC §3, §4).  timeout is not
 * honoured: each connect blocks as connect does (as Wine's
 * WSAConnectByName).  Returns TRUE, or FALSE with WSAEINVAL (reserved set,
 * no list), WSAEFAULT (an address buffer too small), WSAEADDRINUSE (no
 * free port), WSAEHOSTUNREACH (empty list), or the last connect's error.
 * Source: SPEC §4; learn.microsoft.com WSAConnectByList.
 */
BOOL WINAPI portres_WSAConnectByList( SOCKET s, SOCKET_ADDRESS_LIST *list, DWORD *local_len,
                                      struct sockaddr *local, DWORD *remote_len, struct sockaddr *remote,
                                      const struct timeval *timeout, WSAOVERLAPPED *reserved )
{
    int err = reserved || !list ? WSAEINVAL : connect_by_list( s, list, local_len, local, remote_len, remote );

    TRACE( "socket %#Ix list %p -> %d\n", s, list, err );
    if (!err) return TRUE;
    SetLastError( err );
    return FALSE;
}

/***********************************************************************
 *      sendto (WS2_32.20)
 *
 * Wine's builtin sendto, after the implicit bind of SPEC §3 and §4 on an
 * unbound UDP socket (only when a destination to is given).  Errors:
 * WSAEADDRINUSE (no free port), else the builtin's.  Source: SPEC §3, §4.
 */
int WINAPI portres_sendto( SOCKET s, const char *buf, int len, int flags, const struct sockaddr *to, int tolen )
{
    int err;

    if (to && (err = implicit_bind( s, IMPLICIT_UDP )))
    {
        TRACE( "socket %#Ix: implicit bind failed %d\n", s, err );
        SetLastError( err );
        return SOCKET_ERROR;
    }
    return builtin.sendto( s, buf, len, flags, to, tolen );
}

/***********************************************************************
 *      WSASendTo (WS2_32.90)
 *
 * As sendto, for WSASendTo.  Source: SPEC §3, §4.
 */
int WINAPI portres_WSASendTo( SOCKET s, WSABUF *buffers, DWORD count, DWORD *sent, DWORD flags,
                              const struct sockaddr *to, int tolen, OVERLAPPED *overlapped,
                              LPWSAOVERLAPPED_COMPLETION_ROUTINE completion )
{
    int err;

    if (to && (err = implicit_bind( s, IMPLICIT_UDP )))
    {
        TRACE( "socket %#Ix: implicit bind failed %d\n", s, err );
        SetLastError( err );
        return SOCKET_ERROR;
    }
    return builtin.WSASendTo( s, buffers, count, sent, flags, to, tolen, overlapped, completion );
}

/***********************************************************************
 *      WSASendMsg (WS2_32.89)
 *
 * As sendto, for WSASendMsg (the export and the WSAID_WSASENDMSG extension
 * function): the implicit bind when msg names a destination.  Source:
 * SPEC §3, §4.
 */
int WINAPI portres_WSASendMsg( SOCKET s, WSAMSG *msg, DWORD flags, DWORD *sent, OVERLAPPED *overlapped,
                               LPWSAOVERLAPPED_COMPLETION_ROUTINE completion )
{
    int err;

    if (msg && !IsBadReadPtr( msg, sizeof(*msg) ) && msg->name && (err = implicit_bind( s, IMPLICIT_UDP )))
    {
        TRACE( "socket %#Ix: implicit bind failed %d\n", s, err );
        SetLastError( err );
        return SOCKET_ERROR;
    }
    return builtin.WSASendMsg( s, msg, flags, sent, overlapped, completion );
}

static LPFN_CONNECTEX builtin_ConnectEx;

/* ConnectEx as handed out by SIO_GET_EXTENSION_FUNCTION_POINTER: the
 * builtin's, after the implicit bind of an associated socket from its
 * block (SPEC §3).  Any other unbound socket is left to the builtin, which
 * fails WSAEINVAL as Windows does: ConnectEx needs a bound socket. */
static BOOL WINAPI portres_ConnectEx( SOCKET s, const struct sockaddr *addr, int len, void *buf, DWORD size,
                                      DWORD *sent, OVERLAPPED *overlapped )
{
    int err;

    if ((err = implicit_bind( s, IMPLICIT_TCP | IMPLICIT_UDP | IMPLICIT_ASSOCIATED_ONLY )))
    {
        TRACE( "socket %#Ix: implicit bind failed %d\n", s, err );
        SetLastError( err );
        return FALSE;
    }
    return builtin_ConnectEx( s, addr, len, buf, size, sent, overlapped );
}

/* wrap_extension: the extension function to hand out for guid in place of
 * the builtin's func (ConnectEx and WSASendMsg are wrapped, the others
 * are not) */
void *wrap_extension( const GUID *guid, void *func )
{
    static const GUID connectex = WSAID_CONNECTEX, sendmsg = WSAID_WSASENDMSG;

    if (!func) return func;
    if (!memcmp( guid, &connectex, sizeof(connectex) ))
    {
        builtin_ConnectEx = func;
        return (void *)portres_ConnectEx;
    }
    if (!memcmp( guid, &sendmsg, sizeof(sendmsg) )) return (void *)portres_WSASendMsg;
    return func;
}

/***********************************************************************
 *      closesocket (WS2_32.3)
 *
 * Ends the runtime reservations acquired on s and its association, then
 * closes it with Wine's builtin (WSAENOTSOCK and the rest are its errors).
 * A socket watched for its last handle (sockwatch.c) is waited for until
 * the wineserver has let go of it, so that its port is free on return.
 * Source: SPEC §3 ("lives until ... the acquiring socket is closed").
 */
int WINAPI portres_closesocket( SOCKET s )
{
    HANDLE closed;
    int ret;

    uncache_socket( s );
    forget_socket( s );
    closed = release_socket_reservations( s );
    ret = builtin.closesocket( s );
    if (closed)
    {
        if (!ret && WaitForSingleObject( closed, 5000 ) != WAIT_OBJECT_0)
            WARN( "socket %#Ix: its watch did not end in 5 s\n", s );
        CloseHandle( closed );
    }
    return ret;
}
