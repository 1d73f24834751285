/*
 * The reservation core (reserve.c): the one place a reservation is added
 * to or taken out of the pool, for ws2_32's acquire, iphlpapi's create and
 * delete, and portres.exe's store=active exclusions.  Ports in host byte
 * order; errors are Win32 codes, which each caller maps to its own.
 */

#ifndef PORTRES_RESERVE_H
#define PORTRES_RESERVE_H

#include "sockapi.h"  /* winsock2.h before windows.h */
#include "pool.h"

DWORD portres_reserve( enum portres_kind kind, enum portres_proto proto, USHORT start, USHORT count, UINT64 watch,
                       BOOL administered, const struct portres_sockapi *api, struct portres_reservation *out );
DWORD portres_unreserve( enum portres_kind kind, enum portres_proto proto, USHORT start, USHORT count );

#endif /* PORTRES_RESERVE_H */
