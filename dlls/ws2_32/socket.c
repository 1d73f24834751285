/*
 * The hooks: every Winsock entry point portres changes, thin
 *
 * Each WINAPI function here checks nothing itself: it calls the bind
 * policy (bind.c), the runtime reservations (reservation.c) and the socket
 * record (sockstate.c: made here, ended at closesocket), and Wine's builtin
 * for the rest.  Calls go one way: hooks -> bind policy -> reservations ->
 * socket record -> socket watch; nothing below calls back up but the
 * watch, through the function its record gave it.  The helpers below return 0 or a Winsock error code;
 * only these entry points set the thread's error and return SOCKET_ERROR
 * (or FALSE, or INVALID_SOCKET).
 */

#include <stdio.h>
#include <stdlib.h>

#include "ws2_32_private.h"
#include "debug.h"

/* an address for the traces: "127.0.0.1:80", "[::1]:80" (port in host
 * order), "family 17", "(null)" or "(bad pointer)"; one of eight rotating
 * buffers, so that a few may appear in one trace line.  Called only when
 * tracing is on. */
static const char *debugstr_sockaddr( const struct sockaddr *addr, int len )
{
    static char bufs[8][64];
    static LONG next;
    char *buf = bufs[InterlockedIncrement( &next ) % ARRAYSIZE(bufs)];

    if (!addr) return "(null)";
    if (len < (int)sizeof(addr->sa_family) || IsBadReadPtr( addr, len )) return "(bad pointer)";
    if (addr->sa_family == AF_INET && len >= (int)sizeof(struct sockaddr_in))
    {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        const BYTE *b = (const BYTE *)&in->sin_addr;

        snprintf( buf, 64, "%u.%u.%u.%u:%u", b[0], b[1], b[2], b[3], portres_ntohs( in->sin_port ) );
    }
    else if (addr->sa_family == AF_INET6 && len >= (int)sizeof(struct sockaddr_in6))
    {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        const BYTE *b = (const BYTE *)&in6->sin6_addr;
        int zero_at = -1, zero_len = 1, n = 1, i;

        /* the longest run of two or more zero groups becomes "::" */
        for (i = 0; i < 8; i++)
        {
            int run = 0;
            while (i + run < 8 && !b[2 * (i + run)] && !b[2 * (i + run) + 1]) run++;
            if (run > zero_len) { zero_at = i; zero_len = run; }
        }
        buf[0] = '[';
        for (i = 0; i < 8; i++)
        {
            if (i == zero_at)
            {
                n += snprintf( buf + n, 64 - n, "::" );
                i += zero_len - 1;
                continue;
            }
            n += snprintf( buf + n, 64 - n, "%s%x", i && i != zero_at + zero_len ? ":" : "", b[2 * i] << 8 | b[2 * i + 1] );
        }
        snprintf( buf + n, 64 - n, "]:%u", portres_ntohs( in6->sin6_port ) );
    }
    else snprintf( buf, 64, "family %u", addr->sa_family );
    return buf;
}

/* the implicit bind of an implicit-bind path: TRUE (the error set, and
 * traced) when it failed and the call must fail without reaching the
 * builtin */
static BOOL implicit_bind_failed( SOCKET s, unsigned int flags )
{
    int err = bind_implicit( s, flags );

    if (!err) return FALSE;
    TRACE( "socket %#Ix: implicit bind failed %d\n", s, err );
    SetLastError( err );
    return TRUE;
}

/* a socket just created, returned: its record (sockstate.c).  With a
 * protocol info structure (which may describe a duplicated, already bound
 * socket) its kind is looked up on first use. */
static SOCKET new_socket( SOCKET s, int family, int type, int protocol, BOOL from_info )
{
    if (from_info) family = type = protocol = -1;
    sock_made( s, family, type, protocol, INVALID_SOCKET );
    return s;
}

/***********************************************************************
 *      socket (WS2_32.23)
 *
 * Wine's builtin socket; a TCP or UDP socket gets its record (sock_made:
 * what was known under the same handle value belonged to a socket closed
 * without closesocket), so that its binds need no round trip to learn its
 * kind.  Errors are the builtin's.
 * Source: behaviour §4, §5 (round trips on the bind path).
 */
SOCKET WINAPI portres_socket( int family, int type, int protocol )
{
    return new_socket( builtin.socket( family, type, protocol ), family, type, protocol, FALSE );
}

/***********************************************************************
 *      WSASocketA (WS2_32.94)
 *
 * As socket, for WSASocketA.  With a protocol info structure (which may
 * describe a duplicated, already bound socket) the socket is looked up on
 * first use.
 */
SOCKET WINAPI portres_WSASocketA( int family, int type, int protocol, WSAPROTOCOL_INFOA *info, GROUP group,
                                  DWORD flags )
{
    return new_socket( builtin.WSASocketA( family, type, protocol, info, group, flags ), family, type, protocol,
                       info != NULL );
}

/***********************************************************************
 *      WSASocketW (WS2_32.95)
 *
 * As WSASocketA, for WSASocketW.
 */
SOCKET WINAPI portres_WSASocketW( int family, int type, int protocol, WSAPROTOCOL_INFOW *info, GROUP group,
                                  DWORD flags )
{
    return new_socket( builtin.WSASocketW( family, type, protocol, info, group, flags ), family, type, protocol,
                       info != NULL );
}

/***********************************************************************
 *      accept (WS2_32.1)
 *
 * Wine's builtin accept; the new socket gets its record, of the
 * listener's kind and bound (it may reuse the handle value of a socket
 * closed without closesocket).  Parameters and errors are the builtin's.
 * Source: behaviour §5 (round trips on the bind path).
 */
SOCKET WINAPI portres_accept( SOCKET s, struct sockaddr *addr, int *len )
{
    SOCKET ret = builtin.accept( s, addr, len );

    sock_made( ret, -1, -1, -1, s );
    return ret;
}

/***********************************************************************
 *      WSAAccept (WS2_32.37)
 *
 * As accept, for WSAAccept.
 */
SOCKET WINAPI portres_WSAAccept( SOCKET s, struct sockaddr *addr, int *len, LPCONDITIONPROC condition,
                                 DWORD_PTR context )
{
    SOCKET ret = builtin.WSAAccept( s, addr, len, condition, context );

    sock_made( ret, -1, -1, -1, s );
    return ret;
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
 * the caller.  Source: behaviour §3, §4; learn.microsoft.com
 * SIO_ASSOCIATE_PORT_RESERVATION.
 */
int WINAPI portres_bind( SOCKET s, const struct sockaddr *addr, int len )
{
    int err;

    TRACE( "socket %#Ix, %s\n", s, debugstr_sockaddr( addr, len ) );
    err = bind_explicit( s, addr, len );
    TRACE( "socket %#Ix -> %d\n", s, err );
    if (!err) return 0;
    SetLastError( err );
    return SOCKET_ERROR;
}

/***********************************************************************
 *      connect (WS2_32.4)
 *
 * Wine's builtin connect to addr (port in network byte order), after the
 * implicit bind of behaviour §3 and §4 on a socket that may be unbound: from
 * the block of an associated socket, else outside every reservation when
 * some are live where the kernel picks ports.  Errors: WSAEADDRINUSE (no
 * free port for the implicit bind), else the builtin's.  Source: behaviour §3,
 * §4.
 */
int WINAPI portres_connect( SOCKET s, const struct sockaddr *addr, int len )
{
    TRACE( "socket %#Ix, %s\n", s, debugstr_sockaddr( addr, len ) );
    if (addr && implicit_bind_failed( s, IMPLICIT_TCP | IMPLICIT_UDP )) return SOCKET_ERROR;
    return builtin.connect( s, addr, len );
}

/***********************************************************************
 *      WSAConnect (WS2_32.41)
 *
 * As connect, for WSAConnect.  Source: behaviour §3, §4.
 */
int WINAPI portres_WSAConnect( SOCKET s, const struct sockaddr *addr, int len, WSABUF *caller_data,
                               WSABUF *callee_data, QOS *sqos, QOS *gqos )
{
    TRACE( "socket %#Ix, %s\n", s, debugstr_sockaddr( addr, len ) );
    if (addr && implicit_bind_failed( s, IMPLICIT_TCP | IMPLICIT_UDP )) return SOCKET_ERROR;
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
 * Source: behaviour §4.
 */
BOOL WINAPI portres_WSAConnectByNameA( SOCKET s, const char *node, const char *service, DWORD *local_len,
                                       struct sockaddr *local, DWORD *remote_len, struct sockaddr *remote,
                                       const struct timeval *timeout, WSAOVERLAPPED *reserved )
{
    if (node && service && !reserved && implicit_bind_failed( s, IMPLICIT_TCP )) return FALSE;
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
    if (node && service && !reserved && implicit_bind_failed( s, IMPLICIT_TCP )) return FALSE;
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

    if ((err = bind_implicit( s, IMPLICIT_TCP ))) return err;
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
 * implicit bind is that of connect (behaviour §3, §4).  timeout is not
 * honoured: each connect blocks as connect does (as Wine's
 * WSAConnectByName).  Returns TRUE, or FALSE with WSAEINVAL (reserved set,
 * no list), WSAEFAULT (an address buffer too small), WSAEADDRINUSE (no
 * free port), WSAEHOSTUNREACH (empty list), or the last connect's error.
 * Source: behaviour §4; learn.microsoft.com WSAConnectByList.
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
 * Wine's builtin sendto, after the implicit bind of behaviour §3 and §4 on an
 * unbound UDP socket (only when a destination to is given).  Errors:
 * WSAEADDRINUSE (no free port), else the builtin's.  Source: behaviour §3, §4.
 */
int WINAPI portres_sendto( SOCKET s, const char *buf, int len, int flags, const struct sockaddr *to, int tolen )
{
    TRACE( "socket %#Ix len %d to %s\n", s, len, debugstr_sockaddr( to, tolen ) );
    if (to && implicit_bind_failed( s, IMPLICIT_UDP )) return SOCKET_ERROR;
    return builtin.sendto( s, buf, len, flags, to, tolen );
}

/***********************************************************************
 *      WSASendTo (WS2_32.90)
 *
 * As sendto, for WSASendTo.  Source: behaviour §3, §4.
 */
int WINAPI portres_WSASendTo( SOCKET s, WSABUF *buffers, DWORD count, DWORD *sent, DWORD flags,
                              const struct sockaddr *to, int tolen, OVERLAPPED *overlapped,
                              LPWSAOVERLAPPED_COMPLETION_ROUTINE completion )
{
    TRACE( "socket %#Ix count %lu to %s\n", s, count, debugstr_sockaddr( to, tolen ) );
    if (to && implicit_bind_failed( s, IMPLICIT_UDP )) return SOCKET_ERROR;
    return builtin.WSASendTo( s, buffers, count, sent, flags, to, tolen, overlapped, completion );
}

/***********************************************************************
 *      WSASendMsg (WS2_32.89)
 *
 * As sendto, for WSASendMsg (the export and the WSAID_WSASENDMSG extension
 * function): the implicit bind when msg names a destination.  Source:
 * behaviour §3, §4.
 */
int WINAPI portres_WSASendMsg( SOCKET s, WSAMSG *msg, DWORD flags, DWORD *sent, OVERLAPPED *overlapped,
                               LPWSAOVERLAPPED_COMPLETION_ROUTINE completion )
{
    TRACE( "socket %#Ix to %s flags %#lx\n", s,
           msg && !IsBadReadPtr( msg, sizeof(*msg) ) ? debugstr_sockaddr( msg->name, msg->namelen ) : "(no msg)", flags );
    if (msg && !IsBadReadPtr( msg, sizeof(*msg) ) && msg->name && implicit_bind_failed( s, IMPLICIT_UDP ))
        return SOCKET_ERROR;
    return builtin.WSASendMsg( s, msg, flags, sent, overlapped, completion );
}

static LPFN_CONNECTEX builtin_ConnectEx;

/* ConnectEx as handed out by SIO_GET_EXTENSION_FUNCTION_POINTER: the
 * builtin's, after the implicit bind of an associated socket from its
 * block (behaviour §3).  Any other unbound socket is left to the builtin, which
 * fails WSAEINVAL as Windows does: ConnectEx needs a bound socket. */
static BOOL WINAPI portres_ConnectEx( SOCKET s, const struct sockaddr *addr, int len, void *buf, DWORD size,
                                      DWORD *sent, OVERLAPPED *overlapped )
{
    TRACE( "socket %#Ix, %s\n", s, debugstr_sockaddr( addr, len ) );
    if (implicit_bind_failed( s, IMPLICIT_TCP | IMPLICIT_UDP | IMPLICIT_ASSOCIATED_ONLY )) return FALSE;
    return builtin_ConnectEx( s, addr, len, buf, size, sent, overlapped );
}

/* the extension function to hand out for guid in place of the builtin's
 * func (ConnectEx and WSASendMsg are wrapped, the others are not) */
static void *wrap_extension( const GUID *guid, void *func )
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
 * Ends the socket's record: its association, and the runtime reservations
 * acquired on it when this is its last handle; then closes it with Wine's
 * builtin (WSAENOTSOCK and the rest are its errors).  A socket watched for
 * its last handle (sockwatch.c) is waited for until the wineserver has
 * let go of it, so that its port is free on return.
 * Source: behaviour §3 ("lives until ... the acquiring socket is closed").
 */
int WINAPI portres_closesocket( SOCKET s )
{
    HANDLE closed = sock_closing( s );
    int ret = builtin.closesocket( s );

    TRACE( "socket %#Ix -> %d, %s\n", s, ret, closed ? "waiting for its watch" : "not watched" );
    if (!closed) return ret;
    if (ret) CloseHandle( closed );
    else watch_wait( closed );
    return ret;
}

/***********************************************************************
 *      WSAIoctl (WS2_32.70)
 *
 * SIO_ACQUIRE_PORT_RESERVATION (in INET_PORT_RANGE, StartPort in network
 * byte order, 0 for any block of the dynamic port range; out
 * INET_PORT_RESERVATION_INSTANCE), SIO_RELEASE_PORT_RESERVATION and
 * SIO_ASSOCIATE_PORT_RESERVATION (in INET_PORT_RESERVATION_TOKEN) are
 * portres's; every other code is Wine's builtin's (ConnectEx, as handed out
 * by SIO_GET_EXTENSION_FUNCTION_POINTER, is wrapped for behaviour §4).  With
 * lpOverlapped the call completes at once and is also reported through
 * hEvent, the completion routine (APC) or the completion port, each with
 * the call's byte count (16 for acquire, 0 for the others).
 *
 * Returns 0 (*ret_size: 16 for acquire, 0 otherwise) or SOCKET_ERROR with
 * WSAENOTSOCK (not a socket), WSAEOPNOTSUPP (neither TCP nor UDP),
 * WSAEFAULT (NULL or unreadable input, unwritable output or ret_size),
 * WSAEINVAL (input or acquire's output too short, count 0 or block past
 * 65535, unknown/0/persistent token on release, unknown/0 token or other
 * protocol on associate, socket already bound on associate),
 * WSAEADDRINUSE (acquire: block overlaps a reservation or a bound port, or
 * no free block), WSAEACCES (another process's runtime token; a persistent
 * token without administrator rights), WSAENOBUFS (pool full).
 * Source: behaviour §3; learn.microsoft.com SIO_ACQUIRE_PORT_RESERVATION,
 * SIO_RELEASE_PORT_RESERVATION, SIO_ASSOCIATE_PORT_RESERVATION.
 */
int WINAPI portres_WSAIoctl( SOCKET s, DWORD code, void *in, DWORD in_size, void *out, DWORD out_size,
                             DWORD *ret_size, OVERLAPPED *overlapped,
                             LPWSAOVERLAPPED_COMPLETION_ROUTINE completion )
{
    int err;

    switch (code)
    {
    case SIO_ACQUIRE_PORT_RESERVATION:
    case SIO_RELEASE_PORT_RESERVATION:
    case SIO_ASSOCIATE_PORT_RESERVATION:
        if (!(err = port_reservation_ioctl( s, code, in, in_size, out, out_size, ret_size, overlapped, completion )))
            return 0;
        SetLastError( err );
        return SOCKET_ERROR;
    case SIO_GET_EXTENSION_FUNCTION_POINTER:
    {
        int ret = builtin.WSAIoctl( s, code, in, in_size, out, out_size, ret_size, overlapped, completion );
        if (!ret && in && in_size >= sizeof(GUID) && out && out_size >= sizeof(void *))
            *(void **)out = wrap_extension( in, *(void **)out );
        return ret;
    }
    }
    return builtin.WSAIoctl( s, code, in, in_size, out, out_size, ret_size, overlapped, completion );
}

/***********************************************************************
 *      WSACleanup (WS2_32.116)
 *
 * Wine's builtin WSACleanup, after closing this process's socket to the
 * host helper (the builtin closes every socket it made once the count of
 * WSAStartup calls drops to 0).  Returns 0 or SOCKET_ERROR with the
 * builtin's error (WSANOTINITIALISED).  Source: doc/design.md, "The host
 * helper".
 */
int WINAPI portres_WSACleanup( void )
{
    reservations_cleanup();
    return builtin.WSACleanup();
}
