/*
 * What this process knows of its sockets: protocol, family, and whether
 * they are known to be bound, so that the bind paths need no wineserver
 * round trip to learn them; and the entry points that create sockets
 * (socket, WSASocketA/W, accept, WSAAccept), which fill it in.
 *
 * The cache never claims that a socket is unbound: a socket can be bound
 * by Wine's builtin (the implicit bind of its first sendto or connect), by
 * another process holding a duplicate, or by the kernel, none of which
 * portres sees.  Only "bound" is recorded, and it is final: a socket never
 * becomes unbound again.
 */

#include "ws2_32_private.h"

/* direct-mapped by handle value; a miss falls back to getsockopt */
struct socket_info
{
    SOCKET s;              /* 0: empty slot */
    unsigned char proto;   /* enum portres_proto */
    unsigned char family;
    unsigned char bound;   /* known to have a local address */
};

#define SOCKET_CACHE_SIZE 4096
static struct socket_info socket_cache[SOCKET_CACHE_SIZE];
static SRWLOCK socket_cache_lock = SRWLOCK_INIT;

static struct socket_info *cache_slot( SOCKET s )
{
    return &socket_cache[(s >> 2) % SOCKET_CACHE_SIZE];
}

/* overwrite the slot of s: a new socket may reuse the handle value of one
 * closed without closesocket (CloseHandle, WSACleanup) */
static void cache_socket( SOCKET s, enum portres_proto proto, int family, BOOL bound )
{
    AcquireSRWLockExclusive( &socket_cache_lock );
    *cache_slot( s ) = (struct socket_info){ s, proto, family, bound };
    ReleaseSRWLockExclusive( &socket_cache_lock );
}

static BOOL cached_socket( SOCKET s, struct socket_info *info )
{
    AcquireSRWLockShared( &socket_cache_lock );
    *info = *cache_slot( s );
    ReleaseSRWLockShared( &socket_cache_lock );
    return s && info->s == s;
}

/* uncache_socket: forget s (being closed, or new and of unknown kind) */
void uncache_socket( SOCKET s )
{
    AcquireSRWLockExclusive( &socket_cache_lock );
    if (cache_slot( s )->s == s) cache_slot( s )->s = 0;
    ReleaseSRWLockExclusive( &socket_cache_lock );
}

/* socket_bound: s has been bound (explicitly or implicitly) */
void socket_bound( SOCKET s )
{
    AcquireSRWLockExclusive( &socket_cache_lock );
    if (cache_slot( s )->s == s) cache_slot( s )->bound = 1;
    ReleaseSRWLockExclusive( &socket_cache_lock );
}

/* socket_known_bound: TRUE if s is known to be bound; FALSE means "not
 * known", never "unbound".  No wineserver round trip. */
BOOL socket_known_bound( SOCKET s )
{
    struct socket_info cached;
    return cached_socket( s, &cached ) && cached.bound;
}

/* the reservation protocol of a socket from its creation arguments, or -1 */
static int creation_protocol( int family, int type, int protocol )
{
    if (family != AF_INET && family != AF_INET6) return -1;
    if (type == SOCK_STREAM && (!protocol || protocol == IPPROTO_TCP)) return PORTRES_TCP;
    if (type == SOCK_DGRAM && (!protocol || protocol == IPPROTO_UDP)) return PORTRES_UDP;
    return -1;
}

/* socket_protocol: the socket's reservation protocol and address family.
 * Returns 0, WSAENOTSOCK (not a socket) or WSAEOPNOTSUPP (neither TCP nor
 * UDP).  SPEC §3. */
int socket_protocol( SOCKET s, enum portres_proto *proto, int *family )
{
    WSAPROTOCOL_INFOW info;
    struct socket_info cached;
    int len = sizeof(info), p;

    if (cached_socket( s, &cached ))
    {
        *proto = cached.proto;
        *family = cached.family;
        return 0;
    }
    if (builtin.getsockopt( s, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&info, &len ))
        return builtin.WSAGetLastError();
    if ((p = creation_protocol( info.iAddressFamily, info.iSocketType, info.iProtocol )) < 0) return WSAEOPNOTSUPP;
    *proto = p;
    *family = info.iAddressFamily;
    cache_socket( s, p, *family, FALSE );
    return 0;
}

/* socket_is_bound: TRUE if the socket has a local address; asks Wine's
 * builtin (one wineserver round trip) unless it is known to be bound */
BOOL socket_is_bound( SOCKET s )
{
    struct sockaddr_storage addr;
    int len = sizeof(addr);

    if (socket_known_bound( s )) return TRUE;
    if (builtin.getsockname( s, (struct sockaddr *)&addr, &len )) return FALSE;
    socket_bound( s );
    return TRUE;
}

/* note a socket just created: its kind when known, else drop the slot */
static void new_socket( SOCKET s, int family, int type, int protocol, BOOL bound )
{
    int proto = creation_protocol( family, type, protocol );

    if (s == INVALID_SOCKET) return;
    socket_created( s );
    if (proto >= 0) cache_socket( s, proto, family, bound );
    else uncache_socket( s );
}

/***********************************************************************
 *      socket (WS2_32.23)
 *
 * Wine's builtin socket; portres notes the protocol of TCP and UDP sockets
 * (and forgets whatever it knew of an earlier socket with the same handle
 * value: cache slot, association, acquired tokens; socket_created) so that
 * their binds need no round trip to learn it.  Errors are the builtin's.
 * Source: SPEC §4, §5 (round trips on the bind path).
 */
SOCKET WINAPI portres_socket( int family, int type, int protocol )
{
    SOCKET s = builtin.socket( family, type, protocol );

    new_socket( s, family, type, protocol, FALSE );
    return s;
}

/***********************************************************************
 *      WSASocketA (WS2_32.94)
 *
 * As socket, for WSASocketA.  With a protocol info structure (which may
 * describe a duplicated, already bound socket) the slot is dropped and the
 * socket looked up on first use.
 */
SOCKET WINAPI portres_WSASocketA( int family, int type, int protocol, WSAPROTOCOL_INFOA *info, GROUP group,
                                  DWORD flags )
{
    SOCKET s = builtin.WSASocketA( family, type, protocol, info, group, flags );

    if (info) new_socket( s, -1, -1, -1, FALSE );
    else new_socket( s, family, type, protocol, FALSE );
    return s;
}

/***********************************************************************
 *      WSASocketW (WS2_32.95)
 *
 * As WSASocketA, for WSASocketW.
 */
SOCKET WINAPI portres_WSASocketW( int family, int type, int protocol, WSAPROTOCOL_INFOW *info, GROUP group,
                                  DWORD flags )
{
    SOCKET s = builtin.WSASocketW( family, type, protocol, info, group, flags );

    if (info) new_socket( s, -1, -1, -1, FALSE );
    else new_socket( s, family, type, protocol, FALSE );
    return s;
}

/* note a socket accepted on listener: the listener's kind, bound */
static void accepted_socket( SOCKET listener, SOCKET s )
{
    enum portres_proto proto;
    int family;

    if (s == INVALID_SOCKET) return;
    socket_created( s );
    if (socket_protocol( listener, &proto, &family )) uncache_socket( s );
    else cache_socket( s, proto, family, TRUE );
}

/***********************************************************************
 *      accept (WS2_32.1)
 *
 * Wine's builtin accept; the new socket's cache slot is overwritten (it
 * may reuse the handle value of a socket closed without closesocket).
 * Parameters and errors are the builtin's.  Source: SPEC §5 (the cache of
 * the bind path).
 */
SOCKET WINAPI portres_accept( SOCKET s, struct sockaddr *addr, int *len )
{
    SOCKET ret = builtin.accept( s, addr, len );

    accepted_socket( s, ret );
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

    accepted_socket( s, ret );
    return ret;
}
