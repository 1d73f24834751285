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

/* portres_pool_wait: wait for the pool mutex, or for event (NULL: none)
 * if it is signalled first; *pool is the pool as mapped, not checked.
 * Returns PORTRES_WAIT_LOCKED, PORTRES_WAIT_ABANDONED (locked; its last
 * holder died inside the lock, so the pool needs repair), PORTRES_WAIT_EVENT
 * (not locked) or PORTRES_WAIT_FAILED.  One wait, so that a look at event
 * costs no wineserver round trip of its own.  The callers are lock.c's. */
enum portres_wait portres_pool_wait( HANDLE event, struct portres_pool **pool )
{
    HANDLE handles[2];
    DWORD n = 0, ret;

    *pool = NULL;
    if (!open_pool()) return PORTRES_WAIT_FAILED;
    if (event) handles[n++] = event;
    handles[n++] = pool_mutex;
    ret = WaitForMultipleObjects( n, handles, FALSE, INFINITE );
    *pool = pool_view;
    if (event && ret == WAIT_OBJECT_0) return PORTRES_WAIT_EVENT;
    if (ret == WAIT_OBJECT_0 + n - 1) return PORTRES_WAIT_LOCKED;
    if (ret == WAIT_ABANDONED_0 + n - 1) return PORTRES_WAIT_ABANDONED;
    ERR( "cannot lock the reservation pool, error %lu\n", GetLastError() );
    return PORTRES_WAIT_FAILED;
}

/* portres_pool_release: release the pool mutex taken by portres_pool_wait */
void portres_pool_release( void )
{
    ReleaseMutex( pool_mutex );
}

/* portres_pool_setup: set the pool up if it is new (the first process
 * since the wineserver started); pool locked.  TRUE if it was new. */
BOOL portres_pool_setup( struct portres_pool *pool )
{
    if (pool->magic == PORTRES_POOL_MAGIC && pool->version == PORTRES_POOL_VERSION) return FALSE;
    portres_pool_init( pool, token_seed() );
    return TRUE;
}

/* portres_pool_map: the pool mapped into this process, without the lock
 * and unchecked; NULL if it cannot be opened */
struct portres_pool *portres_pool_map( void )
{
    return open_pool() ? pool_view : NULL;
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

    if (res->kind != PORTRES_KIND_RUNTIME || !res->watch) return TRUE;
    swprintf( name, ARRAYSIZE(name), PORTRES_W(PORTRES_SOCKET_EVENT_FMT), (unsigned long)res->pid,
              (unsigned long long)res->watch );
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

        if (portres_res_reloadable( res )) return res;
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

/* portres_self_owner_id: this process's owner id, 0 if it has none yet */
DWORD portres_self_owner_id( void )
{
    return self_owner;
}

/* portres_pool_close: close this process's handles of the pool and its
 * owner event (DLL unload; see portres_shared_detach) */
void portres_pool_close( void )
{
    if (owner_event) CloseHandle( owner_event );
    if (pool_view) UnmapViewOfFile( pool_view );
    if (pool_section) CloseHandle( pool_section );
    if (pool_mutex) CloseHandle( pool_mutex );
    owner_event = pool_section = pool_mutex = NULL;
    pool_view = NULL;
    self_owner = 0;
}
