/*
 * Runtime port reservations: the three WSAIoctl codes (behaviour §3), the
 * tokens this process acquired, and the end of both with their sockets
 *
 * A runtime reservation is a slot of the shared pool owned by this
 * process's owner id; it ends with SIO_RELEASE_PORT_RESERVATION, with the
 * last handle of the acquiring socket (closesocket here, anything else
 * through the socket's watch, sockwatch.c), or with the process (another
 * process reclaims it once the owner event is gone, see shared.c).
 *
 * Called by the hooks (socket.c) and the bind policy (bind.c); calls the
 * associations (association.c), the socket watch (sockwatch.c, which
 * calls back through the function given to watch_socket) and the socket
 * cache.  Every function returns 0 or a Winsock error code.
 */

#include <stdlib.h>

#include "ws2_32_private.h"
#include "admin.h"
#include "reserve.h"
#include <winternl.h>
#include "debug.h"

/* the runtime reservations this process acquired: lets closesocket skip
 * the pool (a wineserver round trip) for every other socket */
struct acquired
{
    UINT64 token;
    SOCKET s;        /* INVALID_SOCKET once closed while a copy of it lives on */
    UINT64 watch;    /* its socket's watch (sockwatch.c), also in the pool's socket field */
};

static SRWLOCK acquired_lock = SRWLOCK_INIT;
static struct acquired *acquired;
static unsigned int acquired_count, acquired_size;

static BOOL remember_acquired( UINT64 token, SOCKET s, UINT64 watch )
{
    BOOL ret = TRUE;

    AcquireSRWLockExclusive( &acquired_lock );
    if (acquired_count == acquired_size)
    {
        unsigned int size = acquired_size ? acquired_size * 2 : 16;
        struct acquired *new = realloc( acquired, size * sizeof(*new) );
        if (!new) ret = FALSE;
        else { acquired = new; acquired_size = size; }
    }
    if (ret) acquired[acquired_count++] = (struct acquired){ token, s, watch };
    ReleaseSRWLockExclusive( &acquired_lock );
    return ret;
}

/* forget one token */
static void forget_acquired( UINT64 token )
{
    AcquireSRWLockExclusive( &acquired_lock );
    for (unsigned int i = acquired_count; i-- > 0;)
        if (acquired[i].token == token) acquired[i] = acquired[--acquired_count];
    ReleaseSRWLockExclusive( &acquired_lock );
}

/* the handle value s no longer names the socket its tokens were acquired
 * on (closed while a copy lives on, or reused): they stay in the pool
 * until that socket's last handle closes */
static void forget_socket_acquired( SOCKET s )
{
    if (!acquired_count) return;
    AcquireSRWLockExclusive( &acquired_lock );
    for (unsigned int i = 0; i < acquired_count; i++) if (acquired[i].s == s) acquired[i].s = INVALID_SOCKET;
    ReleaseSRWLockExclusive( &acquired_lock );
}

/* end the reservations of the acquired entries matching (s, or watch when
 * s is INVALID_SOCKET); pool locked.  Returns how many ended. */
static unsigned int end_acquired( struct portres_pool *pool, SOCKET s, UINT64 watch )
{
    unsigned int n = 0;

    AcquireSRWLockExclusive( &acquired_lock );
    for (unsigned int i = acquired_count; i-- > 0;)
    {
        struct portres_reservation *res;

        if (s != INVALID_SOCKET ? acquired[i].s != s : acquired[i].watch != watch) continue;
        if ((res = portres_pool_find_token( pool, acquired[i].token )) && res->kind == PORTRES_KIND_RUNTIME &&
            portres_is_self( res->owner ))
        {
            portres_pool_remove( pool, res );
            n++;
        }
        acquired[i] = acquired[--acquired_count];
    }
    ReleaseSRWLockExclusive( &acquired_lock );
    return n;
}

/* release_socket_reservations: closesocket of s: its association ends,
 * and the runtime reservations acquired on s if this is its last handle
 * (a DuplicateHandle or WSADuplicateSocket copy keeps them, behaviour §3).
 * Returns NULL, or an event to wait for once the socket is closed
 * (socket_closing), then close. */
HANDLE release_socket_reservations( SOCKET s )
{
    struct portres_pool *pool;
    unsigned int released;
    HANDLE closed;
    BOOL found = FALSE;

    forget_socket( s );
    if (!socket_closing( s, &closed ) || !acquired_count)
    {
        forget_socket_acquired( s );
        return closed;
    }
    AcquireSRWLockShared( &acquired_lock );
    for (unsigned int i = 0; i < acquired_count && !found; i++) found = acquired[i].s == s;
    ReleaseSRWLockShared( &acquired_lock );
    if (!found || !(pool = portres_lock())) return closed;
    released = end_acquired( pool, s, 0 );
    portres_unlock();
    TRACE( "socket %#Ix closed: %u reservations released\n", s, released );
    return closed;
}

/* socket_created: a socket (host value s) was just created or accepted:
 * any socket that had this handle value before is closed, so nothing this
 * process remembered under it (association, acquired tokens, watch)
 * applies to the new one.  The old socket's reservations end with its
 * last handle, through its watch. */
void socket_created( SOCKET s )
{
    unwatch_handle( s );
    forget_socket( s );
    forget_socket_acquired( s );
}

/* the watch callback: the watcher saw the last handle of a watched socket
 * close (closesocket of a copy, CloseHandle, WSACleanup): its reservations
 * end, and what this process remembered under its handle value s
 * (INVALID_SOCKET if that value names another socket by now) is dropped */
static void socket_gone( UINT64 watch, SOCKET s )
{
    struct portres_pool *pool;
    unsigned int released = 0;

    if (s != INVALID_SOCKET)
    {
        uncache_socket( s );
        forget_socket( s );
    }
    if (acquired_count && (pool = portres_lock()))
    {
        released = end_acquired( pool, INVALID_SOCKET, watch );
        portres_unlock();
    }
    TRACE( "watch %llu (socket %#Ix): last handle closed, %u reservations released\n",
           (unsigned long long)watch, s, released );
}

/* reservation_block: the block (host order) of the reservation holding
 * token, persistent or runtime; FALSE if there is none */
BOOL reservation_block( UINT64 token, USHORT *start, USHORT *count )
{
    struct portres_pool *pool;
    struct portres_reservation *res;

    if (!(pool = portres_lock())) return FALSE;
    if ((res = portres_pool_find_token( pool, token )))
    {
        *start = res->start;
        *count = res->count;
    }
    portres_unlock();
    return res != NULL;
}

/* the core's Win32 error as the ioctl's Winsock error */
static int winsock_error( DWORD err )
{
    switch (err)
    {
    case NO_ERROR: return 0;
    case ERROR_INVALID_PARAMETER: return WSAEINVAL;
    case ERROR_SHARING_VIOLATION: return WSAEADDRINUSE;
    default: return WSAENOBUFS;
    }
}

/* SIO_ACQUIRE_PORT_RESERVATION: the reservation core's runtime kind, the
 * in-use check through Wine's builtin */
static int acquire( SOCKET s, enum portres_proto proto, const INET_PORT_RANGE *range,
                    INET_PORT_RESERVATION_INSTANCE *out )
{
    const struct portres_sockapi api = { builtin.socket, builtin.bind, builtin.setsockopt, builtin.closesocket };
    USHORT start = portres_ntohs( range->StartPort ), count = range->NumberOfPorts;
    struct portres_reservation res;
    struct portres_pool *pool;
    UINT64 watch;
    int err;

    if (!count || (start && !portres_range_valid( start, count ))) return WSAEINVAL;
    watch = watch_socket( s, socket_gone );  /* not under the pool lock: the watcher takes it */
    if ((err = winsock_error( portres_reserve( PORTRES_KIND_RUNTIME, proto, start, count, watch, &api, &res ) )))
        return err;
    if (!remember_acquired( res.token, s, watch ))
    {
        if ((pool = portres_lock()))
        {
            portres_pool_remove( pool, portres_pool_find_token( pool, res.token ) );
            portres_unlock();
        }
        return WSAENOBUFS;
    }
    out->Reservation.StartPort = portres_htons( res.start );
    out->Reservation.NumberOfPorts = count;
    out->Token.Token = res.token;
    return 0;
}

/* the reservation holding token, NULL if there is none (or if it was a
 * runtime one of another process that has ended: it is reclaimed here, as
 * the reservation ended with its process, behaviour §3) */
static struct portres_reservation *find_live( struct portres_pool *pool, UINT64 token )
{
    struct portres_reservation *res = portres_pool_find_token( pool, token );
    int alive;

    if (!res || portres_res_persistent( res )) return res;
    if (!portres_is_self( res->owner ) && !portres_owner_alive( res->owner ))
    {
        portres_pool_remove_owner( pool, res->owner );
        return NULL;
    }
    /* this process's own: its watch's event, without opening it by name */
    if ((alive = portres_is_self( res->owner ) ? watch_alive( res->watch ) : -1) < 0)
        alive = portres_socket_alive( res );
    if (alive) return res;
    portres_pool_remove( pool, res );  /* its socket's last handle is closed */
    return NULL;
}

static int release( const INET_PORT_RESERVATION_TOKEN *in )
{
    struct portres_pool *pool;
    struct portres_reservation *res;
    int err = 0;

    if (!(pool = portres_lock())) return WSAENOBUFS;
    if (!(res = find_live( pool, in->Token )) || portres_res_persistent( res )) err = WSAEINVAL;
    else if (!portres_is_self( res->owner )) err = WSAEACCES;  /* no owner id spent here */
    else
    {
        portres_pool_remove( pool, res );
        forget_acquired( in->Token );
    }
    portres_unlock();
    if (err) TRACE( "token %#llx: %s\n", (unsigned long long)in->Token,
                    err == WSAEACCES ? "another process's: WSAEACCES" : "no runtime reservation: WSAEINVAL" );
    return err;
}

static int associate( SOCKET s, enum portres_proto proto, int family, const INET_PORT_RESERVATION_TOKEN *in )
{
    struct portres_pool *pool;
    struct portres_reservation *res;
    int err = 0;

    if (socket_is_bound( s ))
    {
        TRACE( "socket %#Ix is bound: WSAEINVAL\n", s );
        return WSAEINVAL;
    }
    if (!(pool = portres_lock())) return WSAENOBUFS;
    if (!(res = find_live( pool, in->Token )) || res->proto != proto) err = WSAEINVAL;
    else if (portres_res_persistent( res ) ? !portres_is_admin() : !portres_is_self( res->owner )) err = WSAEACCES;
    portres_unlock();
    if (err) TRACE( "socket %#Ix, token %#llx: %s\n", s, (unsigned long long)in->Token,
                    err == WSAEACCES ? "not this process's, or persistent without administrator rights: WSAEACCES"
                                     : "no reservation of the socket's protocol: WSAEINVAL" );
    if (!err) watch_socket( s, socket_gone );  /* its association ends with its last handle */
    if (!err && !associate_socket( s, in->Token, proto, family )) err = WSAENOBUFS;
    return err;
}

C_ASSERT( FIELD_OFFSET(struct afd_poll, sockets) == sizeof(INET_PORT_RESERVATION_INSTANCE) );

static void WINAPI completion_apc( void *context, IO_STATUS_BLOCK *iosb, ULONG reserved )
{
    LPWSAOVERLAPPED_COMPLETION_ROUTINE func = context;
    func( iosb->Status ? WSAEINVAL : 0, (DWORD)iosb->Information, (OVERLAPPED *)iosb, 0 );
}

/* report the successful completion of an overlapped request with bytes
 * (0, or acquire's 16): hEvent is signalled, or the completion routine
 * queued as an APC, or a packet posted to the socket's completion port
 * (through Wine's private requests: wine_complete_async).  Returns 0 or a
 * Winsock error. */
static int complete_overlapped( SOCKET s, OVERLAPPED *overlapped, LPWSAOVERLAPPED_COMPLETION_ROUTINE completion,
                                DWORD bytes )
{
    HANDLE event = overlapped->hEvent;
    void *context = ((ULONG_PTR)overlapped->hEvent & 1) ? NULL : overlapped;
    PIO_APC_ROUTINE apc = NULL;

    if (completion)
    {
        event = NULL;
        context = completion;
        apc = (PIO_APC_ROUTINE)completion_apc;
    }
    return wine_complete_async( s, event, apc, context, overlapped, bytes ) ? WSAEINVAL : 0;
}

/* port_reservation_ioctl: WSAIoctl for the three codes; returns 0 or a
 * Winsock error (see the comment of WSAIoctl in socket.c) */
int port_reservation_ioctl( SOCKET s, DWORD code, void *in, DWORD in_size, void *out, DWORD out_size,
                            DWORD *ret_size, OVERLAPPED *overlapped,
                            LPWSAOVERLAPPED_COMPLETION_ROUTINE completion )
{
    DWORD in_needed = code == SIO_ACQUIRE_PORT_RESERVATION ? sizeof(INET_PORT_RANGE)
                                                           : sizeof(INET_PORT_RESERVATION_TOKEN);
    enum portres_proto proto;
    DWORD bytes = 0;
    int family, err;

    if ((err = socket_protocol( s, &proto, &family ))) goto done;
    if (!in) { err = WSAEFAULT; goto done; }
    if (in_size < in_needed) { err = WSAEINVAL; goto done; }
    if (IsBadReadPtr( in, in_needed )) { err = WSAEFAULT; goto done; }
    if (code == SIO_ACQUIRE_PORT_RESERVATION)
        TRACE( "socket %#Ix SIO_ACQUIRE_PORT_RESERVATION %u+%u\n", s,
               portres_ntohs( ((INET_PORT_RANGE *)in)->StartPort ), ((INET_PORT_RANGE *)in)->NumberOfPorts );
    else TRACE( "socket %#Ix %s token %#llx\n", s, code == SIO_RELEASE_PORT_RESERVATION ?
                "SIO_RELEASE_PORT_RESERVATION" : "SIO_ASSOCIATE_PORT_RESERVATION",
                (unsigned long long)((INET_PORT_RESERVATION_TOKEN *)in)->Token );
    if (!ret_size || IsBadWritePtr( ret_size, sizeof(*ret_size) )) { err = WSAEFAULT; goto done; }
    if (overlapped && IsBadWritePtr( overlapped, sizeof(*overlapped) )) { err = WSAEFAULT; goto done; }

    switch (code)
    {
    case SIO_ACQUIRE_PORT_RESERVATION:
        if (out_size < sizeof(INET_PORT_RESERVATION_INSTANCE)) err = WSAEINVAL;
        else if (!out || IsBadWritePtr( out, sizeof(INET_PORT_RESERVATION_INSTANCE) )) err = WSAEFAULT;
        else if (!(err = acquire( s, proto, in, out ))) bytes = sizeof(INET_PORT_RESERVATION_INSTANCE);
        break;
    case SIO_RELEASE_PORT_RESERVATION:
        err = release( in );
        break;
    case SIO_ASSOCIATE_PORT_RESERVATION:
        err = associate( s, proto, family, in );
        break;
    }

    if (!err && overlapped) err = complete_overlapped( s, overlapped, completion, bytes );

done:
    if (ret_size && !IsBadWritePtr( ret_size, sizeof(*ret_size) )) *ret_size = bytes;
    if (!err && code == SIO_ACQUIRE_PORT_RESERVATION)
        TRACE( "socket %#Ix -> 0: %u+%u, token %#llx%s\n", s,
               portres_ntohs( ((INET_PORT_RESERVATION_INSTANCE *)out)->Reservation.StartPort ),
               ((INET_PORT_RESERVATION_INSTANCE *)out)->Reservation.NumberOfPorts,
               (unsigned long long)((INET_PORT_RESERVATION_INSTANCE *)out)->Token.Token,
               overlapped ? ", overlapped" : "" );
    else TRACE( "socket %#Ix code %#lx -> %d%s\n", s, code, err, overlapped ? ", overlapped" : "" );
    return err;
}
