/*
 * Runtime port reservations: the three WSAIoctl codes (behaviour §3)
 *
 * A runtime reservation is a slot of the shared pool owned by this
 * process's owner id, added by the reservation core (libs/portres/
 * reserve.c); it ends with SIO_RELEASE_PORT_RESERVATION, with the last
 * handle of the acquiring socket (its record, sockstate.c), or with the
 * process (another process reclaims it once the owner event is gone, see
 * shared.c).
 *
 * Called by the hooks (socket.c) and the bind policy (bind.c); calls the
 * reservation core and the socket record.  Every function returns 0 or a
 * Winsock error code.
 */

#include <stdlib.h>

#include "ws2_32_private.h"
#include "admin.h"
#include "reserve.h"
#include "helper.h"
#include <winternl.h>
#include "debug.h"

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

/* the functions of the in-use check: Wine's builtin's */
static struct portres_sockapi check_api( void )
{
    const struct portres_sockapi api = { builtin.socket, builtin.bind, builtin.setsockopt, builtin.closesocket,
                                         builtin.connect, builtin.send, builtin.recv };
    return api;
}

/* reservations_cleanup: the program's WSACleanup is coming: the socket to
 * the host helper goes first (portres_helper_close) */
void reservations_cleanup( void )
{
    const struct portres_sockapi api = check_api();
    portres_helper_close( &api );
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
    const struct portres_sockapi api = check_api();
    USHORT start = portres_ntohs( range->StartPort ), count = range->NumberOfPorts;
    struct portres_reservation res;
    struct portres_pool *pool;
    UINT64 watch;
    int err;

    if (!count || (start && !portres_range_valid( start, count ))) return WSAEINVAL;
    /* the socket's watch and room for the token first: nothing can fail
     * once the reservation is made */
    if ((err = sock_prepare_acquire( s, &watch ))) return err;
    if ((err = winsock_error( portres_reserve( PORTRES_KIND_RUNTIME, proto, start, count, watch, FALSE, &api, &res ) )))
        return err;
    if (!sock_acquired( s, res.token ))
    {
        /* closed by another thread meanwhile: the reservation ends with it */
        if ((pool = portres_lock()))
        {
            portres_pool_remove( pool, portres_pool_find_token( pool, res.token ) );
            portres_unlock();
        }
        return WSAENOTSOCK;
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
    if ((alive = portres_is_self( res->owner ) ? sock_watch_alive( res->watch ) : -1) < 0)
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
    }
    portres_unlock();
    if (!err) sock_released( in->Token );
    if (err) TRACE( "token %#llx: %s\n", (unsigned long long)in->Token,
                    err == WSAEACCES ? "another process's: WSAEACCES" : "no runtime reservation: WSAEINVAL" );
    return err;
}

static int associate( SOCKET s, enum portres_proto proto, const INET_PORT_RESERVATION_TOKEN *in )
{
    struct portres_pool *pool;
    struct portres_reservation *res;
    int err = 0;

    if (sock_is_bound( s ))
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
    if (!err) err = sock_associate( s, in->Token );  /* it ends with the socket's last handle */
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
    struct sock_info info;
    DWORD bytes = 0;
    int err;

    if ((err = sock_lookup( s, &info ))) goto done;
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
        else if (!(err = acquire( s, info.proto, in, out ))) bytes = sizeof(INET_PORT_RESERVATION_INSTANCE);
        break;
    case SIO_RELEASE_PORT_RESERVATION:
        err = release( in );
        break;
    case SIO_ASSOCIATE_PORT_RESERVATION:
        err = associate( s, info.proto, in );
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
