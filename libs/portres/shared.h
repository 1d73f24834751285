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

/* what portres_pool_wait got (the lock itself is lock.h's) */
enum portres_wait { PORTRES_WAIT_LOCKED, PORTRES_WAIT_ABANDONED, PORTRES_WAIT_EVENT, PORTRES_WAIT_FAILED };

enum portres_wait portres_pool_wait( HANDLE event, struct portres_pool **pool );
void portres_pool_release( void );
BOOL portres_pool_setup( struct portres_pool *pool );
struct portres_pool *portres_pool_map( void );
void portres_pool_close( void );
DWORD portres_self_owner( struct portres_pool *pool );
DWORD portres_self_owner_id( void );
BOOL portres_owner_alive( DWORD owner );
BOOL portres_is_self( DWORD owner );
BOOL portres_socket_alive( const struct portres_reservation *res );
struct portres_reservation *portres_find_conflict( struct portres_pool *pool, enum portres_proto proto,
                                                   USHORT start, USHORT count );

#endif /* PORTRES_SHARED_H */
