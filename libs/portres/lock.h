/*
 * The pool lock (lock.c): the pool mutex with everything taking it may
 * have to do first, and the store mutex that orders persistent changes.
 * Order: the store mutex, then the pool mutex, never the other way.
 */

#ifndef PORTRES_LOCK_H
#define PORTRES_LOCK_H

#include <windows.h>

#include "pool.h"

struct portres_pool *portres_lock( void );
struct portres_pool *portres_lock_fresh( void );
void portres_unlock( void );
BOOL portres_store_begin( void );
void portres_store_end( void );
const struct portres_pool *portres_pool_view( void );
void portres_shared_detach( void );

#endif /* PORTRES_LOCK_H */
