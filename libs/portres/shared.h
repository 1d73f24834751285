/*
 * The pool as every process of a prefix sees it: a named section and a
 * named mutex in the wineserver, and a named event per owner process whose
 * lifetime is that process's (behaviour §5).  Win32 glue shared by both DLLs.
 */

#ifndef PORTRES_SHARED_H
#define PORTRES_SHARED_H

#include <windows.h>

#include "pool.h"
#include "names.h"

/* ports in network byte order <-> host order (x86 is little-endian) */
#define portres_ntohs( x ) ((USHORT)__builtin_bswap16( x ))
#define portres_htons( x ) ((USHORT)__builtin_bswap16( x ))

struct portres_pool *portres_lock( void );
struct portres_pool *portres_lock_unless( HANDLE event, BOOL *signalled );
void portres_unlock( void );
const struct portres_pool *portres_pool_view( void );
DWORD portres_self_owner( struct portres_pool *pool );
BOOL portres_owner_alive( DWORD owner );
BOOL portres_is_self( DWORD owner );
BOOL portres_socket_alive( const struct portres_reservation *res );
struct portres_reservation *portres_find_conflict( struct portres_pool *pool, enum portres_proto proto,
                                                   USHORT start, USHORT count );
void portres_shared_detach( void );

#endif /* PORTRES_SHARED_H */
