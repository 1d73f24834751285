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

/* portres_lock: take the pool mutex and return the pool, set up on first
 * use with the registry's persistent reservations (after replaying the
 * journal, store.c), repaired if its last holder died inside the lock.
 * NULL if the pool cannot be opened.  portres_lock_fresh (store.c) also
 * sees the registry's hand edits. */
struct portres_pool *portres_lock( void )
{
    DWORD ret;

    if (!open_pool()) return NULL;
    ret = WaitForSingleObject( pool_mutex, INFINITE );
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
        portres_reclaim_dead( pool );
        portres_unlock();
    }
    return pool_view;
}

/* portres_reclaim_dead: drop the runtime reservations of every owner whose
 * process has ended; pool locked.  One round trip per distinct owner. */
unsigned int portres_reclaim_dead( struct portres_pool *pool )
{
    unsigned int reclaimed = 0;
    DWORD last_alive = 0;

    for (uint32_t i = 0; i < pool->used; i++)
    {
        const struct portres_reservation *res = &pool->res[i];
        DWORD owner = res->owner;

        if (!res->token || res->persistent || owner == last_alive || portres_is_self( owner )) continue;
        if (portres_owner_alive( owner )) last_alive = owner;
        else reclaimed += portres_pool_remove_owner( pool, owner );
    }
    if (reclaimed) TRACE( "reclaimed %u reservations of dead owners\n", reclaimed );
    return reclaimed;
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
 * dead owners and closed sockets found on the way; pool locked.  NULL if
 * none. */
struct portres_reservation *portres_find_conflict( struct portres_pool *pool, enum portres_proto proto,
                                                   USHORT start, USHORT count )
{
    struct portres_reservation *res;

    while ((res = portres_pool_find_overlap( pool, proto, start, count )))
    {
        DWORD owner = res->owner;
        unsigned int reclaimed;

        if (res->persistent) return res;
        if (!portres_owner_alive( owner ))
        {
            reclaimed = portres_pool_remove_owner( pool, owner );
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

/* read a small file of /proc/sys through the Windows side (the wineserver
 * opens it: fine for /proc/sys, which is the same for every process) */
static DWORD read_proc_sys( const WCHAR *path, char *buf, DWORD size )
{
    HANDLE file = CreateFileW( path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL );
    DWORD done = 0;

    if (file == INVALID_HANDLE_VALUE) return 0;
    if (!ReadFile( file, buf, size - 1, &done, NULL )) done = 0;
    CloseHandle( file );
    buf[done] = 0;
    return done;
}

/* what the Linux kernel does with the ports of Wine's implicit and port-0
 * binds: the range it picks them from (net.ipv4.ip_local_port_range) and
 * the ports it skips (net.ipv4.ip_local_reserved_ports, which `wine-portres
 * sync-kernel` fills).  Both can change while a process runs: the view is
 * read again when it is older than KERNEL_VIEW_MS, or KERNEL_REFRESH_MS
 * at an acquire (portres_kernel_refresh; two file reads cost about a
 * millisecond, too much for every acquire of a loop).  A view is filled before it is published and
 * never freed (a new one is kept only when the kernel's settings changed),
 * so readers never see a half-filled bitmap. */
#define KERNEL_VIEW_MS 1000
#define KERNEL_REFRESH_MS 100

struct kernel_view
{
    uint32_t first, last;
    BOOL have_reserved;
    uint8_t reserved[65536 / 8];
};

static struct kernel_view *kernel_view;
static ULONGLONG kernel_view_time;
static SRWLOCK kernel_view_lock = SRWLOCK_INIT;

static void read_kernel_view( struct kernel_view *view )
{
    static char buf[65536];  /* under kernel_view_lock */
    unsigned int a = 0, b = 0;

    if (!read_proc_sys( L"Z:\\proc\\sys\\net\\ipv4\\ip_local_port_range", buf, sizeof(buf) ) ||
        sscanf( buf, "%u %u", &a, &b ) != 2 || !a || a > b || b > 65535)
    {
        a = 32768;  /* Linux's default */
        b = 60999;
    }
    view->first = a;
    view->last = b;
    memset( view->reserved, 0, sizeof(view->reserved) );
    view->have_reserved = read_proc_sys( L"Z:\\proc\\sys\\net\\ipv4\\ip_local_reserved_ports", buf, sizeof(buf) ) &&
                          portres_port_list_parse( buf, view->reserved );
    if (!view->have_reserved) memset( view->reserved, 0, sizeof(view->reserved) );
}

static const struct kernel_view *get_kernel_view( ULONGLONG max_age )
{
    struct kernel_view *view = __atomic_load_n( &kernel_view, __ATOMIC_ACQUIRE ), *fresh;

    if (view && GetTickCount64() - __atomic_load_n( &kernel_view_time, __ATOMIC_RELAXED ) < max_age) return view;
    AcquireSRWLockExclusive( &kernel_view_lock );
    view = kernel_view;
    if (!view || GetTickCount64() - kernel_view_time >= max_age)
    {
        if ((fresh = malloc( sizeof(*fresh) )))
        {
            read_kernel_view( fresh );
            if (view && !memcmp( view, fresh, sizeof(*fresh) )) free( fresh );
            else
            {
                TRACE( "kernel: ephemeral ports %u-%u, reserved ports %sread\n", fresh->first, fresh->last,
                       fresh->have_reserved ? "" : "not " );
                __atomic_store_n( &kernel_view, fresh, __ATOMIC_RELEASE );
                view = fresh;
            }
        }
        __atomic_store_n( &kernel_view_time, GetTickCount64(), __ATOMIC_RELAXED );
    }
    ReleaseSRWLockExclusive( &kernel_view_lock );
    return view;
}

/* portres_kernel_refresh: read the kernel's settings again if older than
 * KERNEL_REFRESH_MS (acquire) */
void portres_kernel_refresh( void )
{
    get_kernel_view( KERNEL_REFRESH_MS );
}

/* portres_kernel_ephemeral_range: the range the Linux kernel takes the
 * ports of Wine's implicit and port-0 binds from
 * (net.ipv4.ip_local_port_range), at most KERNEL_VIEW_MS old; Linux's
 * default 32768-60999 if it cannot be read */
void portres_kernel_ephemeral_range( uint32_t *first, uint32_t *last )
{
    const struct kernel_view *view = get_kernel_view( KERNEL_VIEW_MS );

    *first = view ? view->first : 32768;
    *last = view ? view->last : 60999;
}

/* portres_kernel_reserved_ports: the ports the kernel never picks itself
 * (net.ipv4.ip_local_reserved_ports) as a bitmap, at most KERNEL_VIEW_MS
 * old and valid for the life of the process; NULL if it cannot be read */
const uint8_t *portres_kernel_reserved_ports( void )
{
    const struct kernel_view *view = get_kernel_view( KERNEL_VIEW_MS );

    return view && view->have_reserved ? view->reserved : NULL;
}

/* TRUE if a line of /proc/net/tcp or tcp6 ("sl local_address:PORT
 * rem_address st ...", hex) has a local port in start..start+count-1 and
 * is not in TIME_WAIT (06) or CLOSE (07) */
static BOOL proc_net_has_port( const char *text, USHORT start, USHORT count )
{
    for (const char *line = strchr( text, '\n' ); line && line[1]; line = strchr( line + 1, '\n' ))
    {
        const char *colon = strchr( line + 1, ':' ), *local, *state;
        unsigned int port, st;

        if (!colon || !(local = strchr( colon + 1, ':' ))) continue;  /* "sl:" then "address:port" */
        if (sscanf( local + 1, "%x", &port ) != 1) continue;
        if (!(state = strchr( local + 1, ' ' )) || !(state = strchr( state + 1, ' ' ))) continue;
        if (sscanf( state + 1, "%x", &st ) != 1 || st == 6 || st == 7) continue;
        if (port >= start && port - start < count) return TRUE;
    }
    return FALSE;
}

/* portres_tcp_ports_in_use: TRUE if a TCP socket of the host (a connection
 * whose port the kernel chose included, which a test bind does not see)
 * holds a port of start..start+count-1 (host order), from /proc/net/tcp
 * and tcp6; FALSE if none does or they cannot be read.  About as costly
 * as GetExtendedTcpTable without the owner pids (SPEC §5), so only the
 * part of the block inside the kernel's ephemeral range is looked up:
 * the kernel takes the ports it chooses from there, and every other port
 * is held by an explicit bind, which the test bind sees.  (A connection
 * made before the range was narrowed by sysctl is missed.) */
BOOL portres_tcp_ports_in_use( USHORT start, USHORT count )
{
    static const WCHAR *const files[] = { L"Z:\\proc\\net\\tcp", L"Z:\\proc\\net\\tcp6" };
    uint32_t first, last, end = (uint32_t)start + count - 1;
    BOOL found = FALSE;

    portres_kernel_ephemeral_range( &first, &last );
    if (end < first || start > last) return FALSE;
    if (start < first) start = first;
    if (end > last) end = last;
    count = end - start + 1;

    for (unsigned int i = 0; i < ARRAYSIZE(files) && !found; i++)
    {
        HANDLE file = CreateFileW( files[i], GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                                   0, NULL );
        DWORD size = 0, done, cap = 1 << 16;
        char *buf = NULL, *grown;

        if (file == INVALID_HANDLE_VALUE) continue;
        while (cap <= (1 << 24) && (grown = realloc( buf, cap + 1 )))
        {
            buf = grown;
            if (!ReadFile( file, buf + size, cap - size, &done, NULL ) || !done) break;
            size += done;
            if (size == cap) cap *= 2;
        }
        CloseHandle( file );
        if (!buf) continue;
        buf[size] = 0;
        found = proc_net_has_port( buf, start, count );
        free( buf );
    }
    return found;
}

/* portres_is_admin: TRUE if the caller's token is in BUILTIN\Administrators */
BOOL portres_is_admin( void )
{
    SID_IDENTIFIER_AUTHORITY nt = { SECURITY_NT_AUTHORITY };
    PSID admins;
    BOOL member = FALSE;

    if (!AllocateAndInitializeSid( &nt, 2, SECURITY_BUILTIN_DOMAIN_RID, DOMAIN_ALIAS_RID_ADMINS,
                                   0, 0, 0, 0, 0, 0, &admins ))
        return FALSE;
    if (!CheckTokenMembership( NULL, admins, &member )) member = FALSE;
    FreeSid( admins );
    return member;
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
