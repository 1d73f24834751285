/*
 * The persistent store (store.c): the prefix's registry, made durable by
 * the journal (journal.h), and portres_lock_fresh, the pool lock that
 * also sees the registry's hand edits.  doc/behaviour.md §2, §5.
 */

#ifndef PORTRES_STORE_H
#define PORTRES_STORE_H

#include <windows.h>

#include "pool.h"

struct portres_pool *portres_lock_fresh( void );
void portres_store_init( struct portres_pool *pool );
void portres_store_reload( struct portres_pool *pool );
BOOL portres_store_begin( void );
void portres_store_end( void );
LONG portres_store_add( const struct portres_reservation *res );
LONG portres_store_delete( const struct portres_reservation *res );
LONG portres_store_active( const struct portres_reservation *res, BOOL add );
LONG portres_set_dynamic_range( enum portres_proto proto, USHORT start, USHORT count );

#endif /* PORTRES_STORE_H */
