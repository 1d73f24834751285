/*
 * The socket record: everything this process knows of one socket, from
 * the moment it is made to the moment its last handle is closed
 *
 * One table of struct sock_state under one lock.  A record is made when a
 * hook creates or accepts a TCP or UDP socket (sock_made), or on first use
 * of a socket portres did not see made (a duplicate, a socket from a
 * protocol info structure), and it ends with the socket's last handle
 * (sock_closing from closesocket, or its watch, sockwatch.c).  It holds
 * the socket's kind, whether it is known to be bound, its association
 * (SIO_ASSOCIATE_PORT_RESERVATION, behaviour §3), the runtime tokens
 * acquired on it and its last-handle watch.
 *
 * Records are found by handle value.  A handle value names a socket only
 * until it is closed: when closesocket closes one of several handles, or
 * CloseHandle closed it behind portres's back and the value comes back
 * with a new socket, the record is detached (its value forgotten) and
 * lives on, reachable only by its watch, until the watch fires.
 *
 * "bound" is only ever set: a socket can be bound by Wine's builtin (the
 * implicit bind of its first sendto or connect), by another process
 * holding a duplicate, or by the kernel, none of which portres sees, so
 * the record never claims that a socket is unbound.
 */

#include <stdlib.h>

#include "ws2_32_private.h"
#include "debug.h"

struct sock_state
{
    struct sock_state *next_hash;  /* the chain of its handle value's bucket (attached only) */
    struct sock_state *prev, *next;  /* every record, attached or detached */
    SOCKET s;                      /* INVALID_SOCKET once detached */
    unsigned char proto;           /* enum portres_proto */
    unsigned char family;
    unsigned char bound;           /* known to have a local address */
    unsigned char ended;           /* its reservations ended at closesocket: the watch only frees it */
    UINT64 association;            /* token its binds take their port from, 0 if none */
    UINT64 *tokens;                /* the runtime tokens acquired on it */
    unsigned int token_count, token_size;
    BOOL starting;                 /* its watch is being set up: the record stays */
    BOOL watched;                  /* its watch's poll is pending: the record stays */
    struct sock_watch watch;       /* its last-handle watch; watch.id 0 if never set up */
};

/* Locks: setup_lock (watch setups, one at a time), then sock_lock, then
 * the pool lock; the pool lock is never taken under sock_lock.  The
 * watcher thread takes sock_lock only. */
#define HASH_SIZE 4096
static SRWLOCK setup_lock = SRWLOCK_INIT;
static SRWLOCK sock_lock = SRWLOCK_INIT;
static struct sock_state *hash[HASH_SIZE];
static struct sock_state all = { .prev = &all, .next = &all };  /* the list of every record */
static LONG record_count;  /* 0: no record at all, the lookups take no lock */

static struct sock_state **bucket( SOCKET s )
{
    return &hash[(s >> 2) % HASH_SIZE];
}

static struct sock_state *find( SOCKET s )
{
    for (struct sock_state *rec = *bucket( s ); rec; rec = rec->next_hash) if (rec->s == s) return rec;
    return NULL;
}

/* take rec off its handle value; sock_lock held */
static void detach( struct sock_state *rec )
{
    struct sock_state **p;

    if (rec->s == INVALID_SOCKET) return;
    for (p = bucket( rec->s ); *p; p = &(*p)->next_hash)
        if (*p == rec)
        {
            *p = rec->next_hash;
            break;
        }
    rec->s = INVALID_SOCKET;
    rec->next_hash = NULL;
}

/* detach rec and free it, unless its watch still holds it; sock_lock held */
static void drop( struct sock_state *rec )
{
    detach( rec );
    if (rec->watched || rec->starting) return;
    rec->prev->next = rec->next;
    rec->next->prev = rec->prev;
    InterlockedDecrement( &record_count );
    free( rec->tokens );
    free( rec );
}

/* a new record for s, replacing whatever record its handle value had;
 * sock_lock held.  NULL when out of memory. */
static struct sock_state *attach( SOCKET s, enum portres_proto proto, int family, BOOL bound )
{
    struct sock_state *rec, *old = find( s );

    if (old) drop( old );
    if (!(rec = calloc( 1, sizeof(*rec) ))) return NULL;
    rec->s = s;
    rec->proto = proto;
    rec->family = family;
    rec->bound = bound;
    rec->next_hash = *bucket( s );
    *bucket( s ) = rec;
    rec->next = &all;
    rec->prev = all.prev;
    all.prev->next = rec;
    all.prev = rec;
    InterlockedIncrement( &record_count );
    return rec;
}

/* the reservation protocol of a socket from its creation arguments, or -1 */
static int creation_protocol( int family, int type, int protocol )
{
    if (family != AF_INET && family != AF_INET6) return -1;
    if (type == SOCK_STREAM && (!protocol || protocol == IPPROTO_TCP)) return PORTRES_TCP;
    if (type == SOCK_DGRAM && (!protocol || protocol == IPPROTO_UDP)) return PORTRES_UDP;
    return -1;
}

/* sock_made: the hooks made s (socket, WSASocketA/W) with these arguments,
 * or accepted it on listener (listener not INVALID_SOCKET: its kind, and
 * bound).  Whatever was known under its handle value belonged to a socket
 * closed without closesocket, whose record lives on with its watch.
 * family -1: made from a protocol info structure (maybe a duplicate of a
 * bound socket): looked up on first use. */
void sock_made( SOCKET s, int family, int type, int protocol, SOCKET listener )
{
    struct sock_info info;
    int proto = -1;
    BOOL bound = FALSE;

    if (s == INVALID_SOCKET) return;
    if (listener != INVALID_SOCKET)
    {
        if (!sock_lookup( listener, &info ))
        {
            proto = info.proto;
            family = info.family;
            bound = TRUE;
        }
    }
    else proto = creation_protocol( family, type, protocol );
    AcquireSRWLockExclusive( &sock_lock );
    if (proto >= 0) attach( s, proto, family, bound );
    else
    {
        struct sock_state *old = find( s );
        if (old) drop( old );
    }
    ReleaseSRWLockExclusive( &sock_lock );
}

static void copy_info( const struct sock_state *rec, struct sock_info *info )
{
    info->proto = rec->proto;
    info->family = rec->family;
    info->bound = rec->bound;
    info->association = rec->association;
}

/* sock_lookup: what is known of s: its reservation protocol and family,
 * whether it is known to be bound, its association.  A socket without a
 * record is asked for its kind (one wineserver round trip) and gets one.
 * Returns 0, WSAENOTSOCK (not a socket) or WSAEOPNOTSUPP (neither TCP nor
 * UDP).  behaviour §3. */
int sock_lookup( SOCKET s, struct sock_info *info )
{
    WSAPROTOCOL_INFOW pinfo;
    struct sock_state *rec;
    int len = sizeof(pinfo), proto;

    if (record_count)
    {
        AcquireSRWLockShared( &sock_lock );
        if ((rec = find( s ))) copy_info( rec, info );
        ReleaseSRWLockShared( &sock_lock );
        if (rec) return 0;
    }
    if (builtin.getsockopt( s, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&pinfo, &len ))
        return builtin.WSAGetLastError();
    if ((proto = creation_protocol( pinfo.iAddressFamily, pinfo.iSocketType, pinfo.iProtocol )) < 0)
        return WSAEOPNOTSUPP;
    AcquireSRWLockExclusive( &sock_lock );
    if (!(rec = find( s ))) rec = attach( s, proto, pinfo.iAddressFamily, FALSE );
    if (rec) copy_info( rec, info );
    ReleaseSRWLockExclusive( &sock_lock );
    if (!rec) *info = (struct sock_info){ proto, pinfo.iAddressFamily, FALSE, 0 };
    return 0;
}

/* sock_peek: TRUE, with what is known of s in *info, if s has a record;
 * no wineserver round trip, and no lock while this process has no socket
 * record (FALSE then) */
BOOL sock_peek( SOCKET s, struct sock_info *info )
{
    struct sock_state *rec;

    if (!record_count) return FALSE;
    AcquireSRWLockShared( &sock_lock );
    if ((rec = find( s ))) copy_info( rec, info );
    ReleaseSRWLockShared( &sock_lock );
    return rec != NULL;
}

/* sock_bound: s has been bound (explicitly or implicitly) */
void sock_bound( SOCKET s )
{
    struct sock_state *rec;

    if (!record_count) return;
    AcquireSRWLockExclusive( &sock_lock );
    if ((rec = find( s ))) rec->bound = 1;
    ReleaseSRWLockExclusive( &sock_lock );
}

/* sock_is_bound: TRUE if s has a local address; asks Wine's builtin (one
 * wineserver round trip) unless it is known to be bound */
BOOL sock_is_bound( SOCKET s )
{
    struct sockaddr_storage addr;
    struct sock_info info;
    int len = sizeof(addr);

    if (sock_peek( s, &info ) && info.bound) return TRUE;
    if (builtin.getsockname( s, (struct sockaddr *)&addr, &len )) return FALSE;
    sock_bound( s );
    return TRUE;
}

/* the tokens acquired on rec, taken out of it to be ended by end_tokens
 * once sock_lock is released; sock_lock held */
struct stolen_tokens
{
    UINT64 *tokens;
    unsigned int count;
};

static struct stolen_tokens steal_tokens( struct sock_state *rec )
{
    struct stolen_tokens ret = { rec->tokens, rec->token_count };

    rec->tokens = NULL;
    rec->token_count = rec->token_size = 0;
    return ret;
}

/* end the runtime reservations of stolen tokens still in the pool (this
 * process's); sock_lock not held.  Returns how many ended. */
static unsigned int end_tokens( struct stolen_tokens stolen )
{
    struct portres_reservation *res;
    struct portres_pool *pool;
    unsigned int n = 0;

    if (stolen.count && (pool = portres_lock()))
    {
        for (unsigned int i = 0; i < stolen.count; i++)
            if ((res = portres_pool_find_token( pool, stolen.tokens[i] )) && res->kind == PORTRES_KIND_RUNTIME &&
                portres_is_self( res->owner ))
            {
                portres_pool_remove( pool, res );
                n++;
            }
        portres_unlock();
    }
    free( stolen.tokens );
    return n;
}

/* the watcher thread: the poll of rec's watch completed.  Its event
 * handle may have been closed under it (Wine's WSACleanup closes the
 * handle values of sockets closed with CloseHandle): then the record only
 * goes.  Else the socket's last handle is closed (or the poll failed):
 * its reservations end, unless closesocket ended them already. */
static void watch_fired( struct sock_watch *w )
{
    struct sock_state *rec = CONTAINING_RECORD( w, struct sock_state, watch );
    BOOL lost = WaitForSingleObject( w->event, 0 ) == WAIT_FAILED;
    struct stolen_tokens stolen = { NULL, 0 };
    UINT64 id = w->id;
    BOOL closed = watch_closed( w );
    HANDLE event = w->event;
    unsigned int released;
    SOCKET s;

    AcquireSRWLockExclusive( &sock_lock );
    s = rec->s;
    if (!rec->ended) stolen = steal_tokens( rec );
    rec->watched = FALSE;
    drop( rec );  /* rec may be freed from here on */
    ReleaseSRWLockExclusive( &sock_lock );
    released = end_tokens( stolen );
    TRACE( "watch %llu (socket %#Ix): closed %d lost %d, %u reservations released\n", (unsigned long long)id, s,
           closed, lost, released );
    if (lost) WARN( "watch %llu: its event handle was closed\n", (unsigned long long)id );
    else CloseHandle( event );
}

/* the record of s with its watch set up, made if needed (kind from
 * sock_lookup): NULL when out of memory, s is no TCP/UDP socket or was
 * closed meanwhile; else returned with sock_lock held exclusively.  A
 * socket that cannot be watched gets a watch id that nothing watches: its
 * reservations end at closesocket or with the process. */
static struct sock_state *watched_record( SOCKET s )
{
    struct sock_info info;
    struct sock_state *rec;

    if (sock_lookup( s, &info )) return NULL;
    AcquireSRWLockExclusive( &setup_lock );
    AcquireSRWLockExclusive( &sock_lock );
    if (!(rec = find( s )) && !(rec = attach( s, info.proto, info.family, info.bound )))
    {
        ReleaseSRWLockExclusive( &sock_lock );
        ReleaseSRWLockExclusive( &setup_lock );
        WARN( "socket %#Ix: no memory for its record\n", s );
        return NULL;
    }
    if (!rec->watch.id)
    {
        /* the poll is issued by the watcher thread, which takes sock_lock:
         * not under it; the record stays meanwhile (starting), and if the
         * poll completes at once the watcher has it already (watched) */
        rec->starting = rec->watched = TRUE;
        ReleaseSRWLockExclusive( &sock_lock );
        BOOL pending = watch_start( &rec->watch, s, watch_fired );
        AcquireSRWLockExclusive( &sock_lock );
        rec->starting = FALSE;
        if (!pending) rec->watched = FALSE;
        if (rec->s == INVALID_SOCKET)
        {
            drop( rec );  /* its last handle closed meanwhile */
            rec = NULL;
        }
    }
    ReleaseSRWLockExclusive( &setup_lock );
    if (!rec) ReleaseSRWLockExclusive( &sock_lock );
    return rec;
}

/* sock_prepare_acquire: before an acquire on s: the watch of s (set up on
 * first use), room for one more token; *watch gets the watch's id (one
 * that nothing watches if s cannot be watched).  0, or WSAENOBUFS. */
int sock_prepare_acquire( SOCKET s, UINT64 *watch )
{
    struct sock_state *rec = watched_record( s );
    int err = 0;

    if (!rec) return WSAENOBUFS;
    if (rec->token_count == rec->token_size)
    {
        unsigned int size = rec->token_size ? rec->token_size * 2 : 4;
        UINT64 *tokens = realloc( rec->tokens, size * sizeof(*tokens) );

        if (!tokens) err = WSAENOBUFS;
        else
        {
            rec->tokens = tokens;
            rec->token_size = size;
        }
    }
    *watch = rec->watch.id;
    ReleaseSRWLockExclusive( &sock_lock );
    return err;
}

/* sock_acquired: token was acquired on s (after sock_prepare_acquire:
 * there is room).  FALSE if s has no record any more (closed meanwhile). */
BOOL sock_acquired( SOCKET s, UINT64 token )
{
    struct sock_state *rec;

    AcquireSRWLockExclusive( &sock_lock );
    if ((rec = find( s )) && rec->token_count < rec->token_size) rec->tokens[rec->token_count++] = token;
    else rec = NULL;
    ReleaseSRWLockExclusive( &sock_lock );
    return rec != NULL;
}

/* sock_released: token was released (SIO_RELEASE_PORT_RESERVATION): the
 * socket it was acquired on, attached or not, no longer holds it */
void sock_released( UINT64 token )
{
    AcquireSRWLockExclusive( &sock_lock );
    for (struct sock_state *rec = all.next; rec != &all; rec = rec->next)
        for (unsigned int i = 0; i < rec->token_count; i++)
            if (rec->tokens[i] == token) rec->tokens[i--] = rec->tokens[--rec->token_count];
    ReleaseSRWLockExclusive( &sock_lock );
}

/* sock_associate: s takes its port from token's block from now on; its
 * watch is set up, so that the record ends with its last handle.  0, or
 * WSAENOBUFS. */
int sock_associate( SOCKET s, UINT64 token )
{
    struct sock_state *rec = watched_record( s );

    if (!rec) return WSAENOBUFS;
    rec->association = token;
    ReleaseSRWLockExclusive( &sock_lock );
    return 0;
}

/* sock_watch_alive: 1 while the socket of this process's watch id has a
 * handle open, 0 once its last handle is closed (the watch's poll has
 * completed: watch_done, no wineserver round trip), -1 if no record has
 * this watch (never set up, or done with). */
int sock_watch_alive( UINT64 id )
{
    int ret = -1;

    AcquireSRWLockShared( &sock_lock );
    for (struct sock_state *rec = all.next; rec != &all && ret < 0; rec = rec->next)
        if (rec->watched && rec->watch.id == id) ret = !watch_done( &rec->watch );
    ReleaseSRWLockShared( &sock_lock );
    return ret;
}

/* sock_closing: closesocket of s, before Wine's builtin closes it.  The
 * handle value s no longer names the socket; if this is its last handle
 * (a DuplicateHandle or WSADuplicateSocket copy keeps the socket, and its
 * reservations, alive, behaviour §3) its runtime reservations end now.
 * Returns a handle to wait on with watch_wait once the builtin has closed
 * it (a watched socket's last handle: see watch_wait), else NULL. */
HANDLE sock_closing( SOCKET s )
{
    struct stolen_tokens stolen = { NULL, 0 };
    HANDLE closed = NULL;
    struct sock_state *rec;
    unsigned int released;
    BOOL watched, last = TRUE;

    if (!record_count) return NULL;
    /* a watch being set up on s is waited for */
    AcquireSRWLockShared( &setup_lock );
    AcquireSRWLockShared( &sock_lock );
    watched = (rec = find( s )) && rec->watched;
    ReleaseSRWLockShared( &sock_lock );
    if (rec && watched) last = wine_last_handle( (HANDLE)s );  /* a round trip: not under sock_lock */
    AcquireSRWLockExclusive( &sock_lock );
    if ((rec = find( s )))
    {
        if (last)
        {
            stolen = steal_tokens( rec );
            rec->ended = TRUE;
            if (rec->watched && !DuplicateHandle( GetCurrentProcess(), rec->watch.event, GetCurrentProcess(), &closed,
                                                  SYNCHRONIZE, FALSE, 0 ))
                closed = NULL;
        }
        drop( rec );
    }
    ReleaseSRWLockExclusive( &sock_lock );
    ReleaseSRWLockShared( &setup_lock );
    if ((released = end_tokens( stolen ))) TRACE( "socket %#Ix closed: %u reservations released\n", s, released );
    return closed;
}
