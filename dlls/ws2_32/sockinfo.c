/*
 * What this process knows of its sockets: protocol, family, and whether
 * they are known to be bound, so that the bind paths need no wineserver
 * round trip to learn them.  The hooks that create sockets (socket,
 * WSASocketA/W, accept, WSAAccept in socket.c) fill it in.
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
 * UDP).  behaviour §3. */
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

/* note_socket: s was just created with these arguments (family -1: from
 * a protocol info structure, to be looked up on first use): its kind
 * when it is a TCP or UDP socket, else its slot is dropped */
void note_socket( SOCKET s, int family, int type, int protocol )
{
    int proto = creation_protocol( family, type, protocol );

    if (proto >= 0) cache_socket( s, proto, family, FALSE );
    else uncache_socket( s );
}

/* note_accepted_socket: s was just accepted on listener: the listener's
 * kind, bound */
void note_accepted_socket( SOCKET listener, SOCKET s )
{
    enum portres_proto proto;
    int family;

    if (socket_protocol( listener, &proto, &family )) uncache_socket( s );
    else cache_socket( s, proto, family, TRUE );
}
