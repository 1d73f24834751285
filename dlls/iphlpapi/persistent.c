/*
 * Persistent port reservations: the six IP Helper functions (behaviour §2)
 *
 * The list lives in the prefix's registry (libs/core/regvalue.c gives
 * the format), made durable by a journal (libs/portres/store.c), and is
 * mirrored in the shared pool, where runtime reservations and binds see
 * it.  A call returns success only once its change is on disk; a failed
 * write returns its error and changes nothing.  Changes are made under the
 * store mutex (portres_store_begin), and the registry and the journal are
 * written outside the pool lock, which is taken twice, briefly: a create
 * first adds its block to the pool as pending (held against everyone, not
 * yet found by Lookup, see pool.h) and makes it administered once it is on
 * disk, or removes it; a delete removes its block once it is off disk.  A
 * process that dies in between leaves an abandoned store mutex, and the
 * next change reloads the pool's persistent part from the registry; its
 * pending block goes with it as a dead owner's.  Every call takes the lock
 * with portres_lock_fresh, so that values changed by hand in the registry
 * are seen.
 */

#include <stdlib.h>

#include "iphlpapi_private.h"
#include "shared.h"
#include "lock.h"
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

/* the persistent reservation of exactly this block: administered (not an
 * active exclusion) and on disk (not pending) */
static struct portres_reservation *find_persistent( struct portres_pool *pool, enum portres_proto proto,
                                                    USHORT start, USHORT count )
{
    struct portres_reservation *res = portres_pool_find_exact( pool, proto, start, count, TRUE );
    return res && res->kind == PORTRES_KIND_PERSISTENT ? res : NULL;
}

/* add the block to the pool as pending (PORTRES_KIND_PENDING) in *res:
 * NO_ERROR, ERROR_SHARING_VIOLATION (it overlaps a reservation) or
 * ERROR_NOT_ENOUGH_MEMORY (no pool, no owner id, the pool is full) */
static ULONG add_pending( enum portres_proto proto, USHORT start, USHORT count, struct portres_reservation *res )
{
    struct portres_pool *pool;
    ULONG err = NO_ERROR;

    if (!(pool = portres_lock_fresh())) return ERROR_NOT_ENOUGH_MEMORY;
    if (portres_find_conflict( pool, proto, start, count )) err = ERROR_SHARING_VIOLATION;
    else if (!(res->owner = portres_self_owner( pool ))) err = ERROR_NOT_ENOUGH_MEMORY;
    else
    {
        res->token = portres_pool_new_token( pool, TRUE );
        res->start = start;
        res->count = count;
        res->proto = proto;
        res->kind = PORTRES_KIND_PENDING;
        res->pid = GetCurrentProcessId();
        if (!portres_pool_add( pool, res )) err = ERROR_NOT_ENOUGH_MEMORY;  /* the pool is full */
    }
    portres_unlock();
    return err;
}

/* the pending block of token is on disk (err NO_ERROR: administered now)
 * or failed to get there (removed) */
static void end_pending( UINT64 token, ULONG err )
{
    struct portres_reservation *res;
    struct portres_pool *pool;

    if (!(pool = portres_lock())) return;
    if ((res = portres_pool_find_token( pool, token )))
    {
        if (err) portres_pool_remove( pool, res );
        else
        {
            res->kind = PORTRES_KIND_PERSISTENT;
            res->owner = 0;
        }
    }
    portres_unlock();
}

static ULONG create_reservation( enum portres_proto proto, USHORT start_net, USHORT count, ULONG64 *token )
{
    USHORT start = portres_ntohs( start_net );
    struct portres_reservation res = { 0 };
    ULONG err;

    if (!portres_range_valid( start, count ) || !token || IsBadWritePtr( token, sizeof(*token) ))
        err = ERROR_INVALID_PARAMETER;
    else if (!portres_is_admin()) err = ERROR_ACCESS_DENIED;
    /* the in-use check of runtime acquires (test binds, the kernel's socket
     * lists) before any lock; under the pool lock only the pool is checked */
    else if (portres_block_in_use( sockapi(), proto, start, count )) err = ERROR_SHARING_VIOLATION;
    else if (!portres_store_begin()) err = ERROR_NOT_ENOUGH_MEMORY;
    else
    {
        /* the pool first (it may be full), then the registry and the
         * journal, outside the pool lock */
        if (!(err = add_pending( proto, start, count, &res )))
        {
            err = portres_store_add( &res );
            end_pending( res.token, err );
            if (!err) *token = res.token;
        }
        portres_store_end();
    }
    TRACE( "%s (%u, %u, %p) -> %lu, token %#llx\n", proto_names[proto], start, count, token, err,
           (unsigned long long)res.token );
    return err;
}

static ULONG delete_reservation( enum portres_proto proto, USHORT start_net, USHORT count )
{
    USHORT start = portres_ntohs( start_net );
    struct portres_reservation *res, found = { 0 };
    struct portres_pool *pool;
    ULONG err = NO_ERROR;

    if (!portres_range_valid( start, count )) err = ERROR_INVALID_PARAMETER;
    else if (!portres_is_admin()) err = ERROR_ACCESS_DENIED;
    else if (!portres_store_begin()) err = ERROR_NOT_ENOUGH_MEMORY;
    else
    {
        if (!(pool = portres_lock_fresh())) err = ERROR_NOT_ENOUGH_MEMORY;
        else
        {
            if ((res = find_persistent( pool, proto, start, count ))) found = *res;
            else err = ERROR_NOT_FOUND;
            portres_unlock();
        }
        /* off the disk outside the pool lock (the block stays reserved
         * meanwhile), then out of the pool */
        if (!err && !(err = portres_store_delete( &found )) && (pool = portres_lock()))
        {
            if ((res = portres_pool_find_token( pool, found.token ))) portres_pool_remove( pool, res );
            portres_unlock();
        }
        portres_store_end();
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
