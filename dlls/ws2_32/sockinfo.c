/*
 * What this process knows of its sockets: protocol, family, and whether
 * they are still unbound, so that the bind paths need no wineserver round
 * trip to learn them; and the socket() / WSASocket() entry points that
 * fill it in.
 */

#include "ws2_32_private.h"

/* what this process knows of its sockets, so that the bind path needs no
 * wineserver round trip to learn a socket's protocol or whether it is
 * bound: filled by socket()/WSASocket() and bind, dropped by closesocket.
 * Direct-mapped by handle value; a miss falls back to getsockopt. */
struct socket_info
{
    SOCKET s;
    unsigned char proto;   /* enum portres_proto */
    unsigned char family;
    unsigned char known_unbound;  /* created here and not bound since */
};

#define SOCKET_CACHE_SIZE 4096
static struct socket_info socket_cache[SOCKET_CACHE_SIZE];
static SRWLOCK socket_cache_lock = SRWLOCK_INIT;

static struct socket_info *cache_slot( SOCKET s )
{
    return &socket_cache[(s >> 2) % SOCKET_CACHE_SIZE];
}

static void cache_socket( SOCKET s, enum portres_proto proto, int family, BOOL unbound )
{
    AcquireSRWLockExclusive( &socket_cache_lock );
    *cache_slot( s ) = (struct socket_info){ s, proto, family, unbound };
    ReleaseSRWLockExclusive( &socket_cache_lock );
}

static BOOL cached_socket( SOCKET s, struct socket_info *info )
{
    BOOL found;

    AcquireSRWLockShared( &socket_cache_lock );
    *info = *cache_slot( s );
    ReleaseSRWLockShared( &socket_cache_lock );
    found = info->s == s && s;
    return found;
}

/* uncache_socket: forget a socket being closed */
void uncache_socket( SOCKET s )
{
    AcquireSRWLockExclusive( &socket_cache_lock );
    if (cache_slot( s )->s == s) cache_slot( s )->s = 0;
    ReleaseSRWLockExclusive( &socket_cache_lock );
}

/* socket_bound: a socket was bound (explicitly or implicitly): it is no
 * longer known to be unbound */
void socket_bound( SOCKET s )
{
    AcquireSRWLockExclusive( &socket_cache_lock );
    if (cache_slot( s )->s == s) cache_slot( s )->known_unbound = 0;
    ReleaseSRWLockExclusive( &socket_cache_lock );
}

/* the reservation protocol of a new socket from its creation arguments, or -1 */
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

/* socket_is_bound: TRUE if the socket has a local address */
BOOL socket_is_bound( SOCKET s )
{
    struct sockaddr_storage addr;
    struct socket_info cached;
    int len = sizeof(addr);

    if (cached_socket( s, &cached ) && cached.known_unbound) return FALSE;
    return !builtin.getsockname( s, (struct sockaddr *)&addr, &len );
}

/***********************************************************************
 *      socket (WS2_32.23)
 *
 * Wine's builtin socket; portres notes the protocol of TCP and UDP sockets
 * so that their binds need no round trip to learn it.  Errors are the
 * builtin's.  Source: SPEC §4, §5 (round trips on the bind path).
 */
SOCKET WINAPI portres_socket( int family, int type, int protocol )
{
    SOCKET s = builtin.socket( family, type, protocol );
    int proto = creation_protocol( family, type, protocol );

    if (s != INVALID_SOCKET && proto >= 0) cache_socket( s, proto, family, TRUE );
    return s;
}

/***********************************************************************
 *      WSASocketA (WS2_32.94)
 *
 * As socket, for WSASocketA (a protocol info structure, if given, is the
 * builtin's to read: the socket is then looked up on first use).
 */
SOCKET WINAPI portres_WSASocketA( int family, int type, int protocol, WSAPROTOCOL_INFOA *info, GROUP group,
                                  DWORD flags )
{
    SOCKET s = builtin.WSASocketA( family, type, protocol, info, group, flags );
    int proto = creation_protocol( family, type, protocol );

    if (s != INVALID_SOCKET && !info && proto >= 0) cache_socket( s, proto, family, TRUE );
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
    int proto = creation_protocol( family, type, protocol );

    if (s != INVALID_SOCKET && !info && proto >= 0) cache_socket( s, proto, family, TRUE );
    return s;
}

