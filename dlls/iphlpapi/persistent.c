/*
 * Persistent port reservations: the six IP Helper functions (behaviour §2)
 *
 * The list lives in the prefix's registry (libs/core/regvalue.c gives
 * the format), made durable by a journal (libs/portres/store.c), and is
 * mirrored in the shared pool, where runtime reservations and binds see
 * it.  Create and Delete are the reservation core's (libs/portres/
 * reserve.c: the in-use check, the administrator check, the lock order);
 * a call returns success only once its change is on disk, and a failed
 * write returns its error and changes nothing.  Lookup reads the pool,
 * taken with portres_lock_fresh so that values changed by hand in the
 * registry are seen.
 */

#include "iphlpapi_private.h"
#include "shared.h"
#include "lock.h"
#include "reserve.h"
#include "debug.h"

static const char *const proto_names[] = { "TCP", "UDP" };

static ULONG create_reservation( enum portres_proto proto, USHORT start_net, USHORT count, ULONG64 *token )
{
    USHORT start = portres_ntohs( start_net );
    struct portres_reservation res = { 0 };
    ULONG err;

    if (!token || IsBadWritePtr( token, sizeof(*token) )) err = ERROR_INVALID_PARAMETER;
    else if (!(err = portres_reserve( PORTRES_KIND_PERSISTENT, proto, start, count, 0, FALSE, NULL, &res )))
        *token = res.token;
    TRACE( "%s (%u, %u, %p) -> %lu, token %#llx\n", proto_names[proto], start, count, token, err,
           (unsigned long long)res.token );
    return err;
}

static ULONG delete_reservation( enum portres_proto proto, USHORT start_net, USHORT count )
{
    USHORT start = portres_ntohs( start_net );
    ULONG err = portres_unreserve( PORTRES_KIND_PERSISTENT, proto, start, count );

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
        res = portres_pool_find_exact( pool, proto, start, count, TRUE );
        if (res && res->kind == PORTRES_KIND_PERSISTENT) *token = res->token;
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
