/*
 * Persistent port reservations: the six IP Helper functions (behaviour §2)
 *
 * The list lives in the prefix's registry (libs/core/regvalue.c gives
 * the format), made durable by a journal (libs/portres/store.c), and is
 * mirrored in the shared pool, where runtime reservations and binds see
 * it.  A call returns success only once its change is on disk; a failed
 * write returns its error and changes nothing.  The pool and the registry
 * change under the pool mutex: a process that dies in between leaves an
 * abandoned mutex, and the repair reloads the pool's persistent part from
 * the registry.  Every call takes the lock with portres_lock_fresh, so
 * that values changed by hand in the registry are seen.
 */

#include <stdlib.h>

#include "iphlpapi_private.h"
#include "shared.h"
#include "admin.h"
#include "store.h"
#include "portcheck.h"
#include "debug.h"

static const char *const proto_names[] = { "TCP", "UDP" };

/* the process's ws2_32.dll for test binds, loaded and started on first use */
static const struct portres_sockapi *sockapi( void )
{
    static struct portres_sockapi api;
    static LONG ready;
    HMODULE ws2;
    int (WINAPI *startup)( WORD, WSADATA * );
    WSADATA data;

    if (ready) return &api;
    if (!(ws2 = LoadLibraryW( L"ws2_32.dll" ))) return NULL;
    startup = (void *)GetProcAddress( ws2, "WSAStartup" );
    api.socket = (void *)GetProcAddress( ws2, "socket" );
    api.bind = (void *)GetProcAddress( ws2, "bind" );
    api.setsockopt = (void *)GetProcAddress( ws2, "setsockopt" );
    api.closesocket = (void *)GetProcAddress( ws2, "closesocket" );
    if (!startup || !api.socket || !api.bind || !api.setsockopt || !api.closesocket || startup( MAKEWORD( 2, 2 ), &data ))
        return NULL;
    InterlockedExchange( &ready, 1 );
    return &api;
}

/* the persistent (administered, not active) reservation of exactly this block */
static struct portres_reservation *find_persistent( struct portres_pool *pool, enum portres_proto proto,
                                                    USHORT start, USHORT count )
{
    struct portres_reservation *res = portres_pool_find_exact( pool, proto, start, count, TRUE );
    return res && res->owner != PORTRES_OWNER_ACTIVE ? res : NULL;
}

static ULONG create_reservation( enum portres_proto proto, USHORT start_net, USHORT count, ULONG64 *token )
{
    USHORT start = portres_ntohs( start_net );
    struct portres_reservation res = { 0 }, *added;
    struct portres_pool *pool;
    ULONG err;

    if (!portres_range_valid( start, count ) || !token || IsBadWritePtr( token, sizeof(*token) ))
        err = ERROR_INVALID_PARAMETER;
    else if (!portres_is_admin()) err = ERROR_ACCESS_DENIED;
    /* the in-use check of runtime acquires (test binds, the kernel's socket
     * lists) before the lock; under it only the pool is checked again */
    else if (portres_block_in_use( sockapi(), proto, start, count )) err = ERROR_SHARING_VIOLATION;
    else if (!(pool = portres_lock_fresh())) err = ERROR_NOT_ENOUGH_MEMORY;
    else
    {
        if (portres_find_conflict( pool, proto, start, count )) err = ERROR_SHARING_VIOLATION;
        else
        {
            res.token = portres_pool_new_token( pool, TRUE );
            res.start = start;
            res.count = count;
            res.proto = proto;
            res.persistent = 1;
            res.pid = GetCurrentProcessId();
            /* the pool first (it may be full), then the registry and the
             * journal; a crash in between leaves an abandoned mutex, and
             * the repair reloads the pool from the registry */
            if (!(added = portres_pool_add( pool, &res ))) err = ERROR_NOT_ENOUGH_MEMORY;  /* the pool is full */
            else if ((err = portres_store_add( &res ))) portres_pool_remove( pool, added );
            if (!err) *token = res.token;
        }
        portres_unlock();
    }
    TRACE( "%s (%u, %u, %p) -> %lu, token %#llx\n", proto_names[proto], start, count, token, err,
           (unsigned long long)res.token );
    return err;
}

static ULONG delete_reservation( enum portres_proto proto, USHORT start_net, USHORT count )
{
    USHORT start = portres_ntohs( start_net );
    struct portres_reservation *res;
    struct portres_pool *pool;
    ULONG err;

    if (!portres_range_valid( start, count )) err = ERROR_INVALID_PARAMETER;
    else if (!portres_is_admin()) err = ERROR_ACCESS_DENIED;
    else if (!(pool = portres_lock_fresh())) err = ERROR_NOT_ENOUGH_MEMORY;
    else
    {
        if (!(res = find_persistent( pool, proto, start, count ))) err = ERROR_NOT_FOUND;
        else if (!(err = portres_store_delete( res ))) portres_pool_remove( pool, res );
        portres_unlock();
    }
    TRACE( "%s (%u, %u) -> %lu\n", proto_names[proto], start, count, err );
    return err;
}

static ULONG lookup_reservation( enum portres_proto proto, USHORT start_net, USHORT count, ULONG64 *token )
{
    USHORT start = portres_ntohs( start_net );
    struct portres_reservation *res;
    struct portres_pool *pool;
    ULONG err = NO_ERROR;

    if (!portres_range_valid( start, count ) || !token || IsBadWritePtr( token, sizeof(*token) ))
        err = ERROR_INVALID_PARAMETER;
    else if (!(pool = portres_lock_fresh())) err = ERROR_NOT_ENOUGH_MEMORY;
    else
    {
        if ((res = find_persistent( pool, proto, start, count ))) *token = res->token;
        else err = ERROR_NOT_FOUND;
        portres_unlock();
    }
    TRACE( "%s (%u, %u, %p) -> %lu\n", proto_names[proto], start, count, token, err );
    return err;
}

/***********************************************************************
 *      CreatePersistentTcpPortReservation (IPHLPAPI.@)
 *
 * Reserves the TCP ports StartPort..StartPort+NumberOfPorts-1 in the
 * prefix's persistent store.
 *
 * StartPort: first port, network byte order.  NumberOfPorts: count, host
 * order.  Token: receives a new unique non-zero token.
 *
 * Returns NO_ERROR; ERROR_INVALID_PARAMETER (a zero port or count, a block
 * past 65535, a NULL or unwritable Token); ERROR_ACCESS_DENIED (caller not
 * an administrator); ERROR_SHARING_VIOLATION (the block overlaps a
 * persistent or live runtime TCP reservation, or a port of it is bound);
 * ERROR_NOT_ENOUGH_MEMORY (the pool is full); the registry's or the file
 * system's error when the change cannot be made durable (e.g.
 * ERROR_DISK_FULL), nothing changed then.
 * Source: behaviour §2; learn.microsoft.com CreatePersistentTcpPortReservation.
 */
ULONG WINAPI portres_CreatePersistentTcpPortReservation( USHORT StartPort, USHORT NumberOfPorts, PULONG64 Token )
{
    return create_reservation( PORTRES_TCP, StartPort, NumberOfPorts, Token );
}

/***********************************************************************
 *      CreatePersistentUdpPortReservation (IPHLPAPI.@)
 *
 * The UDP counterpart of CreatePersistentTcpPortReservation: same
 * parameters, same errors.  Source: behaviour §2; learn.microsoft.com
 * CreatePersistentUdpPortReservation.
 */
ULONG WINAPI portres_CreatePersistentUdpPortReservation( USHORT StartPort, USHORT NumberOfPorts, PULONG64 Token )
{
    return create_reservation( PORTRES_UDP, StartPort, NumberOfPorts, Token );
}

/***********************************************************************
 *      DeletePersistentTcpPortReservation (IPHLPAPI.@)
 *
 * Deletes the persistent TCP reservation of exactly this block.  Sockets
 * already bound inside it stay bound.
 *
 * StartPort: network byte order.  NumberOfPorts: host order.
 *
 * Returns NO_ERROR; ERROR_INVALID_PARAMETER (zero port or count, block
 * past 65535); ERROR_ACCESS_DENIED (not an administrator); ERROR_NOT_FOUND
 * (no reservation of exactly this block); the registry's or the file
 * system's error (e.g. ERROR_DISK_FULL), the reservation kept then.
 * Source: behaviour §2; learn.microsoft.com DeletePersistentTcpPortReservation.
 */
ULONG WINAPI portres_DeletePersistentTcpPortReservation( USHORT StartPort, USHORT NumberOfPorts )
{
    return delete_reservation( PORTRES_TCP, StartPort, NumberOfPorts );
}

/***********************************************************************
 *      DeletePersistentUdpPortReservation (IPHLPAPI.@)
 *
 * The UDP counterpart of DeletePersistentTcpPortReservation.  Source:
 * behaviour §2; learn.microsoft.com DeletePersistentUdpPortReservation.
 */
ULONG WINAPI portres_DeletePersistentUdpPortReservation( USHORT StartPort, USHORT NumberOfPorts )
{
    return delete_reservation( PORTRES_UDP, StartPort, NumberOfPorts );
}

/***********************************************************************
 *      LookupPersistentTcpPortReservation (IPHLPAPI.@)
 *
 * Gives the token of the persistent TCP reservation of exactly this block;
 * needs no administrator rights.
 *
 * StartPort: network byte order.  NumberOfPorts: host order.  Token:
 * receives the token.
 *
 * Returns NO_ERROR; ERROR_INVALID_PARAMETER (zero port or count, block
 * past 65535, NULL or unwritable Token); ERROR_NOT_FOUND (no reservation of
 * exactly this block).  Source: behaviour §2; learn.microsoft.com
 * LookupPersistentTcpPortReservation.
 */
ULONG WINAPI portres_LookupPersistentTcpPortReservation( USHORT StartPort, USHORT NumberOfPorts, PULONG64 Token )
{
    return lookup_reservation( PORTRES_TCP, StartPort, NumberOfPorts, Token );
}

/***********************************************************************
 *      LookupPersistentUdpPortReservation (IPHLPAPI.@)
 *
 * The UDP counterpart of LookupPersistentTcpPortReservation.  Source:
 * behaviour §2; learn.microsoft.com LookupPersistentUdpPortReservation.
 */
ULONG WINAPI portres_LookupPersistentUdpPortReservation( USHORT StartPort, USHORT NumberOfPorts, PULONG64 Token )
{
    return lookup_reservation( PORTRES_UDP, StartPort, NumberOfPorts, Token );
}
