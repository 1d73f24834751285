/*
 * The pool in wineserver objects (see shared.h)
 *
 * Names live in the prefix's wineserver, so every process of the prefix
 * shares them and no other prefix sees them.  When a process dies, the
 * wineserver closes its handles: its owner event disappears (so its
 * runtime reservations can be reclaimed), and if it held the pool mutex
 * the next waiter gets WAIT_ABANDONED and repairs the pool.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared.h"
#include "store.h"
#include "debug.h"


static HANDLE pool_section, pool_mutex, owner_event;
static struct portres_pool *pool_view;
static DWORD self_owner;

C_ASSERT( sizeof(struct portres_reservation) == 32 );
C_ASSERT( FIELD_OFFSET(struct portres_pool, res) % 8 == 0 );

static uint64_t token_seed( void )
{
    LARGE_INTEGER now;
    QueryPerformanceCounter( &now );
    return ((uint64_t)now.QuadPart << 32) ^ ((uint64_t)GetCurrentProcessId() << 48) ^ GetTickCount();
}

static BOOL open_pool( void )
{
    HANDLE section, mutex;
    void *view;

    if (pool_view) return TRUE;
    if (!(mutex = CreateMutexW( NULL, FALSE, PORTRES_W(PORTRES_POOL_MUTEX_NAME) ))) goto fail;
    if (!(section = CreateFileMappingW( INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                        sizeof(struct portres_pool), PORTRES_W(PORTRES_POOL_SECTION_NAME) )))
    {
        CloseHandle( mutex );
        goto fail;
    }
    if (!(view = MapViewOfFile( section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof(struct portres_pool) )))
    {
        CloseHandle( section );
        CloseHandle( mutex );
        goto fail;
    }
    /* two threads may race here; the loser drops its handles */
    if (InterlockedCompareExchangePointer( (void **)&pool_view, view, NULL ))
    {
        UnmapViewOfFile( view );
        CloseHandle( section );
        CloseHandle( mutex );
        return TRUE;
    }
    pool_section = section;
    pool_mutex = mutex;
    return TRUE;
fail:
    ERR( "cannot open the reservation pool, error %lu\n", GetLastError() );
    return FALSE;
}

/* the pool mutex was waited for with result ret: the pool, repaired if
 * its last holder died inside the lock, set up if new; NULL on failure */
static struct portres_pool *locked( DWORD ret )
{
    if (ret == WAIT_ABANDONED)
    {
        unsigned int dropped = portres_pool_repair( pool_view );
        WARN( "a process died holding the pool lock: repaired, %u slots dropped\n", dropped );
        /* the registry is the truth for persistent reservations (the
         * journal is behind it only after a wineserver restart) */
        portres_store_reload( pool_view );
    }
    else if (ret != WAIT_OBJECT_0)
    {
        ERR( "cannot lock the reservation pool, error %lu\n", GetLastError() );
        return NULL;
    }
    if (pool_view->magic != PORTRES_POOL_MAGIC || pool_view->version != PORTRES_POOL_VERSION)
    {
        /* a new pool: the first process since the wineserver started;
         * the journal's changes the registry lost are replayed first */
        portres_pool_init( pool_view, token_seed() );
        portres_store_init( pool_view );
    }
    return pool_view;
}

/* portres_lock: take the pool mutex and return the pool, set up on first
 * use with the registry's persistent reservations (after replaying the
 * journal, store.c), repaired if its last holder died inside the lock.
 * NULL if the pool cannot be opened.  portres_lock_fresh (store.c) also
 * sees the registry's hand edits. */
struct portres_pool *portres_lock( void )
{
    if (!open_pool()) return NULL;
    return locked( WaitForSingleObject( pool_mutex, INFINITE ) );
}

/* portres_lock_unless: portres_lock, unless event is signalled first: then
 * *signalled is TRUE, the pool is not locked and NULL is returned.  One
 * wait for both, so the look at event costs no wineserver round trip of
 * its own (portres_lock_fresh's registry notification). */
struct portres_pool *portres_lock_unless( HANDLE event, BOOL *signalled )
{
    HANDLE handles[2];
    DWORD ret;

    *signalled = FALSE;
    if (!open_pool()) return NULL;
    handles[0] = event;
    handles[1] = pool_mutex;
    ret = WaitForMultipleObjects( 2, handles, FALSE, INFINITE );
    if (ret == WAIT_OBJECT_0)
    {
        *signalled = TRUE;
        return NULL;
    }
    if (ret == WAIT_OBJECT_0 + 1) ret = WAIT_OBJECT_0;
    else if (ret == WAIT_ABANDONED_0 + 1) ret = WAIT_ABANDONED;
    else if (ret != WAIT_FAILED) ret = WAIT_FAILED;
    return locked( ret );
}

/* drop the runtime and pending persistent reservations of every owner
 * whose process has ended; pool locked.  One round trip per distinct owner. */
static unsigned int reclaim_dead( struct portres_pool *pool )
{
    const struct portres_reservation *res;
    unsigned int reclaimed = 0;
    DWORD last_alive = 0;

    PORTRES_POOL_FOR_EACH( res, pool )
    {
        DWORD owner = res->owner;

        if ((res->persistent && !portres_res_pending( res )) || owner == last_alive || portres_is_self( owner ))
            continue;
        if (portres_owner_alive( owner )) last_alive = owner;
        else reclaimed += portres_pool_remove_owner( pool, owner ) + portres_pool_remove_pending( pool, owner );
    }
    if (reclaimed) TRACE( "reclaimed %u reservations of dead owners\n", reclaimed );
    return reclaimed;
}

/* portres_pool_view: the pool for reads without the lock (the bitmaps and
 * live counts of the bind path), set up on first use; NULL if the pool
 * cannot be opened.  Reads may race with a change: callers that find a
 * reservation confirm it under the lock. */
const struct portres_pool *portres_pool_view( void )
{
    static LONG swept;

    if (!open_pool()) return NULL;
    if (!swept && !InterlockedExchange( &swept, 1 ))
    {
        /* once per process: set the pool up if needed, and give back the
         * blocks of owners that died since, so that their stale counts do
         * not send every bind of this process down the checking path */
        struct portres_pool *pool = portres_lock();
        if (!pool) return NULL;
        reclaim_dead( pool );
        portres_unlock();
    }
    return pool_view;
}

/* portres_unlock: release the pool mutex taken by portres_lock */
void portres_unlock( void )
{
    ReleaseMutex( pool_mutex );
}

/* portres_self_owner: this process's owner id, creating its owner event on
 * first use; pool locked.  0 if the event cannot be created. */
DWORD portres_self_owner( struct portres_pool *pool )
{
    WCHAR name[64];

    if (self_owner) return self_owner;
    for (int tries = 0; tries < 16; tries++)
    {
        DWORD owner = ++pool->next_owner;
        HANDLE event;

        if (!owner) continue;
        swprintf( name, ARRAYSIZE(name), PORTRES_W(PORTRES_OWNER_EVENT_FMT), owner );
        if (!(event = CreateEventW( NULL, TRUE, FALSE, name ))) break;
        if (GetLastError() == ERROR_ALREADY_EXISTS)
        {
            CloseHandle( event );  /* taken by a process of an earlier pool */
            continue;
        }
        owner_event = event;
        self_owner = owner;
        return owner;
    }
    ERR( "cannot create an owner event, error %lu\n", GetLastError() );
    return 0;
}

/* portres_is_self: TRUE if owner is this process (without creating an owner id) */
BOOL portres_is_self( DWORD owner )
{
    return self_owner && owner == self_owner;
}

/* portres_owner_alive: FALSE once the process that was owner has ended
 * (its owner event is gone); one wineserver round trip */
BOOL portres_owner_alive( DWORD owner )
{
    WCHAR name[64];
    HANDLE event;

    if (owner == self_owner) return TRUE;
    swprintf( name, ARRAYSIZE(name), PORTRES_W(PORTRES_OWNER_EVENT_FMT), owner );
    if (!(event = OpenEventW( SYNCHRONIZE, FALSE, name )))
        return GetLastError() != ERROR_FILE_NOT_FOUND;
    CloseHandle( event );
    return TRUE;
}

/* portres_socket_alive: FALSE once the last handle of the socket a runtime
 * reservation was acquired on is closed (its watch event is signalled);
 * TRUE for persistent reservations and sockets nobody watches.  Two or
 * three wineserver round trips. */
BOOL portres_socket_alive( const struct portres_reservation *res )
{
    WCHAR name[80];
    HANDLE event;
    DWORD ret;

    if (res->persistent || !res->socket) return TRUE;
    swprintf( name, ARRAYSIZE(name), PORTRES_W(PORTRES_SOCKET_EVENT_FMT), (unsigned long)res->pid,
              (unsigned long long)res->socket );
    if (!(event = OpenEventW( SYNCHRONIZE, FALSE, name ))) return TRUE;  /* not watched, or its process ended */
    ret = WaitForSingleObject( event, 0 );
    CloseHandle( event );
    return ret != WAIT_OBJECT_0;
}

/* portres_find_conflict: first reservation of proto overlapping the block
 * start..start+count-1 (host order), after reclaiming the reservations of
 * dead owners (runtime and pending persistent ones) and closed sockets
 * found on the way; pool locked.  NULL if none. */
struct portres_reservation *portres_find_conflict( struct portres_pool *pool, enum portres_proto proto,
                                                   USHORT start, USHORT count )
{
    struct portres_reservation *res;

    while ((res = portres_pool_find_overlap( pool, proto, start, count )))
    {
        DWORD owner = res->owner;
        unsigned int reclaimed;

        if (res->persistent && !portres_res_pending( res )) return res;
        if (!portres_owner_alive( owner ))
        {
            reclaimed = portres_pool_remove_owner( pool, owner ) + portres_pool_remove_pending( pool, owner );
            TRACE( "reclaimed %u reservations of dead owner %lu\n", reclaimed, owner );
        }
        else if (portres_socket_alive( res )) return res;
        else
        {
            TRACE( "reclaimed %u+%u: its socket is closed\n", res->start, res->count );
            portres_pool_remove( pool, res );
        }
    }
    return NULL;
}

/* portres_shared_detach: on DLL unload (FreeLibrary; not at process exit,
 * where the wineserver reclaims everything), give back this
 * process's runtime reservations and close its handles */
void portres_shared_detach( void )
{
    struct portres_pool *pool;

    if (self_owner && (pool = portres_lock()))
    {
        portres_pool_remove_owner( pool, self_owner );
        portres_pool_remove_pending( pool, self_owner );
        portres_unlock();
    }
    if (owner_event) CloseHandle( owner_event );
    if (pool_view) UnmapViewOfFile( pool_view );
    if (pool_section) CloseHandle( pool_section );
    if (pool_mutex) CloseHandle( pool_mutex );
    owner_event = pool_section = pool_mutex = NULL;
    pool_view = NULL;
    self_owner = 0;
}
