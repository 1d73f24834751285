/*
 * The reservation core: every reservation is added and taken out here,
 * whoever asks (behaviour §2, §3; doc/design.md "One reservation core")
 *
 * Adding goes the same way for every kind:
 *   1. the block's arguments and, for every kind but runtime, the caller's
 *      administrator rights are checked;
 *   2. under the pool lock (fresh: hand edits of the registry are seen) the
 *      block is checked against every reservation and, if free, published:
 *      added as this process's, runtime or (for the persistent kinds)
 *      pending, so that from then on it is held against everyone;
 *   3. outside the lock comes the in-use check (portcheck.c: test binds,
 *      the kernel's socket lists), which for a long block takes a while
 *      and so holds up no other process;
 *   4. a block found in use is taken out again; a persistent one is
 *      written to the registry and the journal under the store mutex, an
 *      active one to the volatile key; then it becomes what was asked.
 * Because the block is published before its test binds, no test bind
 * ever lands in a block that someone else holds: a socket binding inside
 * its own reservation never meets another process's check.
 */

#include "reserve.h"
#include "portcheck.h"
#include "helper.h"
#include "shared.h"
#include "lock.h"
#include "admin.h"
#include "kernel.h"
#include "store.h"
#include "host.h"
#include "wine.h"
#include "debug.h"

static const char *const proto_names[] = { "TCP", "UDP" };

/* Wine's builtin ws2_32, for the test binds of the callers that give no
 * functions (iphlpapi, portres.exe): portres's own hooks would take the
 * pool lock for each test bind inside the block just published */
static const struct portres_sockapi *builtin_sockapi( int (WINAPI **startup)( WORD, WSADATA * ),
                                                      int (WINAPI **cleanup)( void ) )
{
    static struct portres_sockapi api;
    static int (WINAPI *start_fn)( WORD, WSADATA * );
    static int (WINAPI *clean_fn)( void );
    static LONG ready;
    HMODULE self = NULL, ws2;

    if (!ready)
    {
        GetModuleHandleExW( GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            (const WCHAR *)builtin_sockapi, &self );
        if (!(ws2 = portres_load_builtin( self, L"ws2_32.dll" ))) return NULL;
        start_fn = (void *)GetProcAddress( ws2, "WSAStartup" );
        clean_fn = (void *)GetProcAddress( ws2, "WSACleanup" );
        api.socket = (void *)GetProcAddress( ws2, "socket" );
        api.bind = (void *)GetProcAddress( ws2, "bind" );
        api.setsockopt = (void *)GetProcAddress( ws2, "setsockopt" );
        api.closesocket = (void *)GetProcAddress( ws2, "closesocket" );
        api.connect = (void *)GetProcAddress( ws2, "connect" );
        api.send = (void *)GetProcAddress( ws2, "send" );
        api.recv = (void *)GetProcAddress( ws2, "recv" );
        if (!start_fn || !clean_fn || !api.socket || !api.bind || !api.setsockopt || !api.closesocket) return NULL;
        InterlockedExchange( &ready, 1 );
    }
    *startup = start_fn;
    *cleanup = clean_fn;
    return &api;
}

/* the in-use check of the block, through api, or Wine's builtin ws2_32
 * (started and cleaned up around it) when api is NULL */
static BOOL block_in_use( const struct portres_sockapi *api, enum portres_proto proto, USHORT start, USHORT count )
{
    int (WINAPI *startup)( WORD, WSADATA * );
    int (WINAPI *cleanup)( void );
    WSADATA data;
    BOOL ret;

    if (api) return portres_block_in_use( api, proto, start, count );
    if (!(api = builtin_sockapi( &startup, &cleanup )) || startup( MAKEWORD( 2, 2 ), &data ))
        return portres_block_in_use( NULL, proto, start, count );
    ret = portres_block_in_use( api, proto, start, count );
    portres_helper_close( api );  /* before the cleanup that may close it */
    cleanup();
    return ret;
}

/* add *res (its block, protocol, kind and watch set) to the locked pool as
 * this process's, if no reservation overlaps it: NO_ERROR,
 * ERROR_SHARING_VIOLATION or ERROR_NOT_ENOUGH_MEMORY */
static DWORD publish( struct portres_pool *pool, struct portres_reservation *res, enum portres_token_class class )
{
    struct portres_reservation *other;

    if ((other = portres_find_conflict( pool, res->proto, res->start, res->count )))
    {
        TRACE( "%s %u+%u overlaps %u+%u, token %#llx of process %u\n", proto_names[res->proto], res->start,
               res->count, other->start, other->count, (unsigned long long)other->token, other->pid );
        return ERROR_SHARING_VIOLATION;
    }
    if (!(res->owner = portres_self_owner( pool ))) return ERROR_NOT_ENOUGH_MEMORY;
    res->token = portres_pool_new_token( pool, class );
    res->pid = GetCurrentProcessId();
    return portres_pool_add( pool, res ) ? NO_ERROR : ERROR_NOT_ENOUGH_MEMORY;
}

/* the published reservation of token: taken out (err set), or made kind
 * (no owner any more: it outlives this process); active ones are written
 * to the volatile registry key first.  Returns err, or the registry's error. */
static DWORD settle( UINT64 token, enum portres_kind kind, DWORD err )
{
    struct portres_reservation *res;
    struct portres_pool *pool;

    if (!(pool = portres_lock())) return err ? err : ERROR_NOT_ENOUGH_MEMORY;
    if (!(res = portres_pool_find_token( pool, token ))) err = err ? err : ERROR_NOT_FOUND;
    else
    {
        if (!err && kind == PORTRES_KIND_ACTIVE) err = portres_store_active( res, TRUE );
        if (err) portres_pool_withdraw( pool, res );
        else
        {
            res->kind = kind;
            res->owner = 0;
        }
    }
    portres_unlock();
    return err;
}

/* the ports a wildcard acquire found in use, passed over by its next pick */
static int not_tried( void *ctx, enum portres_proto proto, uint16_t port )
{
    const uint8_t *tried = ctx;
    return !(tried[port >> 3] & (1 << (port & 7)));
}

#define WILDCARD_TRIES 16  /* blocks found in use before a wildcard acquire gives up */
#define ABOVE_TRIES 3      /* of them above the kernel's range, before the picker looks below it */

/* portres_reserve: add a reservation of kind (runtime, persistent or
 * active) of count ports of proto from start (host order; 0 for a runtime
 * one: any free block of the dynamic port range, chosen by
 * portres_pool_pick, above the kernel's ephemeral range first).  watch:
 * the runtime one's socket watch (ws2_32's sockwatch.c), else 0.
 * administered: a persistent one is an administered exclusion (netsh's,
 * portres.exe), whose ports binds may take; active ones always are
 * (behaviour §4).  api: the
 * Winsock functions of the in-use check's test binds; NULL for Wine's
 * builtin ws2_32.  On success *out is the reservation as added, with its
 * new token.
 *
 * Returns NO_ERROR; ERROR_INVALID_PARAMETER (count 0, a block past 65535,
 * port 0 for a persistent kind, kind pending); ERROR_ACCESS_DENIED (a
 * persistent kind without administrator rights); ERROR_SHARING_VIOLATION
 * (the block overlaps a reservation or a port of it is in use; no free
 * block for a wildcard); ERROR_NOT_ENOUGH_MEMORY (no pool, the pool full);
 * or the registry's or the journal's error (e.g. ERROR_DISK_FULL), nothing
 * changed then.  Source: behaviour §2, §3. */
DWORD portres_reserve( enum portres_kind kind, enum portres_proto proto, USHORT start, USHORT count, UINT64 watch,
                       BOOL administered, const struct portres_sockapi *api, struct portres_reservation *out )
{
    struct portres_reservation res = { .watch = watch, .start = start, .count = count, .proto = proto };
    BOOL wildcard = kind == PORTRES_KIND_RUNTIME && !start;
    enum portres_token_class class = kind == PORTRES_KIND_RUNTIME ? PORTRES_TOKEN_RUNTIME
                                   : administered || kind == PORTRES_KIND_ACTIVE ? PORTRES_TOKEN_ADMINISTERED
                                   : PORTRES_TOKEN_PERSISTENT;
    uint8_t tried[PORTRES_BITMAP_BYTES];
    struct portres_pool *pool;
    DWORD err;

    if ((kind != PORTRES_KIND_RUNTIME && kind != PORTRES_KIND_PERSISTENT && kind != PORTRES_KIND_ACTIVE) ||
        proto >= PORTRES_PROTO_COUNT || !count || (!wildcard && !portres_range_valid( start, count )))
        return ERROR_INVALID_PARAMETER;
    if (kind != PORTRES_KIND_RUNTIME && !portres_is_admin()) return ERROR_ACCESS_DENIED;
    res.kind = kind == PORTRES_KIND_RUNTIME ? kind : PORTRES_KIND_PENDING;
    if (wildcard)
    {
        memset( tried, 0, sizeof(tried) );
        portres_kernel_refresh();  /* the kernel's range may have changed since (sync-kernel) */
    }
    for (unsigned int tries = 1;; tries++)
    {
        struct portres_host_hit hit;
        BOOL begun = FALSE, conflict, in_use;

        if (wildcard) portres_host_mark( proto, tried );  /* other prefixes' blocks */
        if (!(pool = portres_lock_fresh())) return ERROR_NOT_ENOUGH_MEMORY;
        if (wildcard)
        {
            uint32_t kernel_first, kernel_last;
            LARGE_INTEGER now;

            QueryPerformanceCounter( &now );
            portres_kernel_ephemeral_range( &kernel_first, &kernel_last );
            err = portres_pool_pick( pool, proto, count, kernel_last, (uint32_t)now.QuadPart, not_tried, tried,
                                     &res.start ) > 0 ? NO_ERROR : ERROR_SHARING_VIOLATION;
            if (err) TRACE( "no free block of %u %s ports\n", count, proto_names[proto] );
        }
        else err = NO_ERROR;
        if (!err) err = publish( pool, &res, class );
        /* published: the host helper, if this process has one, binds the
         * block's ports while the lock is given back */
        if (!err) begun = portres_block_check_begin( api, proto, res.start, count );
        portres_unlock();
        if (err) return err;
        /* published (portres_unlock wrote it to the host view): another
         * prefix's block is looked for only now, so that of two prefixes
         * publishing the same ports at once at least one sees the other */
        if ((conflict = portres_host_conflict( proto, res.start, count, &hit )))
            TRACE( "%s %u+%u overlaps %u+%u of prefix %s (process %lu)\n", proto_names[proto], res.start, count,
                   hit.block.start, hit.block.count, hit.label, hit.pid );
        /* a check begun is ended whatever the conflict (it holds the
         * helper's lock); one not begun is made only without a conflict */
        in_use = begun ? portres_block_check_end( api, proto, res.start, count )
                       : !conflict && block_in_use( api, proto, res.start, count );
        if (!conflict && !in_use) break;
        if (!conflict) TRACE( "%s %u+%u: a socket holds a port of it\n", proto_names[proto], res.start, count );
        settle( res.token, kind, ERROR_SHARING_VIOLATION );
        if (!wildcard || tries == WILDCARD_TRIES) return ERROR_SHARING_VIOLATION;
        for (unsigned int i = 0; i < count; i++)
            tried[(res.start + i) >> 3] |= 1 << ((res.start + i) & 7);
        if (tries == ABOVE_TRIES)
        {
            /* the part above the kernel's range is crowded: while reservations
             * lie in the kernel's range, portres puts the port-0 and implicit
             * binds there (bind.c), and a check that meets their sockets costs
             * a kernel-list look-up (helper) */
            uint32_t kernel_first, kernel_last;

            portres_kernel_ephemeral_range( &kernel_first, &kernel_last );
            for (uint32_t port = kernel_last + 1; port < 65536; port++) tried[port >> 3] |= 1 << (port & 7);
        }
    }

    switch (kind)
    {
    case PORTRES_KIND_PERSISTENT:
        /* the store mutex orders registry writes; Delete waits for it */
        if (!portres_store_begin()) err = settle( res.token, kind, ERROR_NOT_ENOUGH_MEMORY );
        else
        {
            err = settle( res.token, kind, portres_store_add( &res ) );
            portres_store_end();
        }
        break;
    case PORTRES_KIND_ACTIVE:
        err = settle( res.token, kind, NO_ERROR );
        break;
    default:
        err = NO_ERROR;
        break;
    }
    if (err) return err;
    if (kind != PORTRES_KIND_RUNTIME)
    {
        res.kind = kind;
        res.owner = 0;
    }
    *out = res;
    return NO_ERROR;
}

/* portres_unreserve: take out the persistent or active (store=active)
 * reservation of exactly this block (host order).  Sockets bound inside
 * it stay bound.  Returns NO_ERROR; ERROR_INVALID_PARAMETER (zero port or
 * count, a block past 65535, another kind); ERROR_ACCESS_DENIED (not an
 * administrator); ERROR_NOT_FOUND (no such reservation of that kind);
 * ERROR_NOT_ENOUGH_MEMORY (no pool); the registry's or the journal's
 * error, the reservation kept then.  Source: behaviour §2. */
DWORD portres_unreserve( enum portres_kind kind, enum portres_proto proto, USHORT start, USHORT count )
{
    struct portres_reservation *res, found = { 0 };
    struct portres_pool *pool;
    DWORD err = NO_ERROR;

    if ((kind != PORTRES_KIND_PERSISTENT && kind != PORTRES_KIND_ACTIVE) || proto >= PORTRES_PROTO_COUNT ||
        !portres_range_valid( start, count ))
        return ERROR_INVALID_PARAMETER;
    if (!portres_is_admin()) return ERROR_ACCESS_DENIED;
    if (kind == PORTRES_KIND_ACTIVE)
    {
        if (!(pool = portres_lock_fresh())) return ERROR_NOT_ENOUGH_MEMORY;
        res = portres_pool_find_exact( pool, proto, start, count, TRUE );
        if (!res || res->kind != PORTRES_KIND_ACTIVE) err = ERROR_NOT_FOUND;
        else if (!(err = portres_store_active( res, FALSE )) || err == ERROR_FILE_NOT_FOUND)
        {
            portres_pool_remove( pool, res );
            err = NO_ERROR;
        }
        portres_unlock();
        return err;
    }
    if (!portres_store_begin()) return ERROR_NOT_ENOUGH_MEMORY;
    if (!(pool = portres_lock_fresh())) err = ERROR_NOT_ENOUGH_MEMORY;
    else
    {
        res = portres_pool_find_exact( pool, proto, start, count, TRUE );
        if (res && res->kind == PORTRES_KIND_PERSISTENT) found = *res;
        else err = ERROR_NOT_FOUND;
        portres_unlock();
    }
    /* off the disk outside the pool lock (the block stays reserved
     * meanwhile), then out of the pool */
    if (!err && !(err = portres_store_delete( &found )) && (pool = portres_lock()))
    {
        if ((res = portres_pool_find_token( pool, found.token ))) portres_pool_remove( pool, res );
        portres_unlock();
    }
    portres_store_end();
    return err;
}
