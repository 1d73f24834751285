/*
 * The pool lock (behaviour §5)
 *
 * Taking the pool mutex may mean more than waiting for it: a pool whose
 * last holder died inside the lock is repaired and its persistent part
 * reloaded from the registry (the truth for persistent reservations); a
 * new pool, the first since the wineserver started, is set up from the
 * persistent store after the journal's replay; and portres_lock_fresh
 * also reloads what was changed by hand in the registry.  The store mutex
 * orders persistent changes between processes and is held across the
 * registry write and the journal's fsync instead of the pool mutex.
 * Every caller takes its locks here: shared.c (the wineserver objects) and
 * store.c (the registry and the journal) take none.
 */

#include "shared.h"
#include "store.h"
#include "host.h"
#include "lock.h"
#include "debug.h"

static HANDLE store_mutex;
static LONG attached;  /* to the host view (host.c), on the first lock */

/* what portres_pool_wait got: the pool, repaired or set up as needed;
 * NULL when it could not be locked */
static struct portres_pool *locked( enum portres_wait ret, struct portres_pool *pool )
{
    if (ret == PORTRES_WAIT_ABANDONED)
    {
        unsigned int dropped = portres_pool_repair( pool );

        WARN( "a process died holding the pool lock: repaired, %u slots dropped\n", dropped );
        /* the registry is the truth for persistent reservations (the
         * journal is behind it only after a wineserver restart) */
        portres_store_reload( pool );
    }
    else if (ret != PORTRES_WAIT_LOCKED) return NULL;
    /* a new pool: the journal's changes the registry lost are replayed first */
    if (portres_pool_setup( pool )) portres_store_init( pool );
    if (!attached && !InterlockedExchange( &attached, 1 )) portres_host_attach();
    return pool;
}

/* portres_lock: take the pool mutex and return the pool, set up on first
 * use with the registry's persistent reservations (after replaying the
 * journal), repaired if its last holder died inside the lock.  NULL if the
 * pool cannot be opened.  Release with portres_unlock. */
struct portres_pool *portres_lock( void )
{
    struct portres_pool *pool;
    enum portres_wait ret = portres_pool_wait( NULL, &pool );

    return locked( ret, pool );
}

/* portres_lock_fresh: portres_lock, and the pool's persistent part
 * reloaded from the registry if it was changed by hand since the last
 * change made through portres (a decision: netsh and regedit edits are
 * seen at once).  No wineserver round trip more than portres_lock when
 * nothing changed: one wait for the lock and the registry notification. */
struct portres_pool *portres_lock_fresh( void )
{
    static BOOL armed;
    struct portres_pool *pool;
    enum portres_wait ret;
    HANDLE notify;

    if (armed && (notify = portres_store_notification()))
    {
        /* the usual case: the lock, and the notification not signalled */
        if ((ret = portres_pool_wait( notify, &pool )) != PORTRES_WAIT_EVENT) return locked( ret, pool );
    }
    /* first call of the process, or the registry was changed: by us or by hand? */
    if (!(pool = portres_lock())) return NULL;
    armed = portres_store_refresh( pool );
    return pool;
}

/* portres_unlock: release the pool mutex taken by portres_lock(_fresh),
 * after writing what changed to this prefix's slot of the host view */
void portres_unlock( void )
{
    struct portres_pool *pool = portres_pool_map();

    if (pool) portres_host_publish( pool );
    portres_pool_release();
}

/* portres_store_begin: take the store mutex, which orders the changes of
 * the registry list and the journal (their Generation) between processes,
 * so that a registry write and the journal's fsync hold up no acquire,
 * bind or release.  When its last holder died in the middle of a change,
 * the pool's persistent part is loaded again from the registry.  FALSE if
 * it cannot be taken. */
BOOL portres_store_begin( void )
{
    struct portres_pool *pool;
    HANDLE mutex;
    DWORD ret;

    if (!store_mutex)
    {
        if (!(mutex = CreateMutexW( NULL, FALSE, PORTRES_W(PORTRES_STORE_MUTEX_NAME) ))) return FALSE;
        if (InterlockedCompareExchangePointer( &store_mutex, mutex, NULL )) CloseHandle( mutex );
    }
    ret = WaitForSingleObject( store_mutex, INFINITE );
    if (ret == WAIT_ABANDONED)
    {
        WARN( "a process died changing the registry: reloading the persistent reservations\n" );
        if ((pool = portres_lock()))
        {
            portres_store_reload( pool );
            portres_unlock();
        }
    }
    else if (ret != WAIT_OBJECT_0) return FALSE;
    return TRUE;
}

/* portres_store_end: release the store mutex taken by portres_store_begin */
void portres_store_end( void )
{
    ReleaseMutex( store_mutex );
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

        if (portres_res_reloadable( res ) || owner == last_alive || portres_is_self( owner ))
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
    struct portres_pool *view;

    if (!(view = portres_pool_map())) return NULL;
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
    return view;
}

/* portres_shared_detach: on DLL unload (FreeLibrary; not at process exit,
 * where the wineserver reclaims everything), give back this process's
 * runtime reservations and close its handles */
void portres_shared_detach( void )
{
    DWORD self = portres_self_owner_id();
    struct portres_pool *pool;

    if (self && (pool = portres_lock()))
    {
        portres_pool_remove_owner( pool, self );
        portres_pool_remove_pending( pool, self );
        portres_unlock();
    }
    portres_pool_close();
}
