/*
 * The persistent store (store.c): the prefix's registry, made durable by
 * the journal (journal.h), loaded into the pool it is given.  It takes no
 * lock: lock.c takes the pool and store mutexes around it.
 * doc/behaviour.md §2, §5.
 */

#ifndef PORTRES_STORE_H
#define PORTRES_STORE_H

#include <windows.h>

#include "pool.h"

void portres_store_init( struct portres_pool *pool );
void portres_store_reload( struct portres_pool *pool );
HANDLE portres_store_notification( void );
BOOL portres_store_refresh( struct portres_pool *pool );
LONG portres_store_add( const struct portres_reservation *res );
LONG portres_store_delete( const struct portres_reservation *res );
LONG portres_store_dynamic( enum portres_proto proto, USHORT start, USHORT count, USHORT old_start, USHORT old_count );
LONG portres_store_active( const struct portres_reservation *res, BOOL add );

#endif /* PORTRES_STORE_H */
