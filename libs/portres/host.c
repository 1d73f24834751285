/*
 * The host view: the live reservations of every prefix of one Unix user
 * (behaviour §6; doc/design.md, "The host view"; the layout and its checks
 * are libs/core/hostview.c)
 *
 * Each prefix (one run of its wineserver) writes its pool's blocks into
 * its slot of the file host-1 in the user's runtime folder, and reads the
 * other prefixes' slots from it, with plain reads and writes at offsets:
 * the file is never mapped, so a truncated file cannot fault a process.
 * A slot counts only while its prefix is alive: every process of the
 * prefix holds a shared lock on the slot's byte, and the process that
 * acquired a runtime block an exclusive lock on its holder byte.  Locks
 * of a file opened through \\?\unix are the host's byte-range locks
 * (fcntl), which the wineserver takes for its clients: the kernel drops
 * them when the wineserver dies, the wineserver when the process dies
 * (server/fd.c), so nothing stale is ever believed.  A test of another
 * prefix's lock is a lock attempt that fails immediately while the lock
 * is held.
 *
 * Lock order: the pool lock, then host_lock (this file's), then the
 * prefix's host mutex (its part of the view, struct host_info), then the
 * file's locks.  This file never takes the pool lock: a slot found lost
 * is marked (hash 0) for the next unlock of any process of the prefix to
 * write (portres_host_publish).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "journal.h"
#include "shared.h"
#include "wine.h"
#include "debug.h"

#define HOST_INFO_MAGIC 0x31696870u  /* "phi1" */

/* the prefix's part, in the named section PORTRES_HOST_SECTION_FMT
 * (every process of the prefix, 32- and 64-bit); slot and prefix changed
 * under the mutex PORTRES_HOST_MUTEX_FMT, the rest under the pool lock.
 * Both are named after the file: processes of one prefix may use two
 * runtime folders (a service process reads the wineserver's environment,
 * a program its own), and a slot number is only true of its own file. */
struct host_info
{
    uint32_t magic;
    uint32_t slot;       /* the prefix's slot + 1, 0 for none */
    uint64_t prefix;     /* the prefix's id, random */
    uint64_t epoch;      /* the file's epoch when the slot was last written */
    uint32_t seq;        /* the slot's seq then */
    uint32_t hash;       /* portres_host_pool_hash of what was written */
    char     label[PORTRES_HOST_LABEL];
};

static SRWLOCK host_lock = SRWLOCK_INIT;
static LONG host_state;          /* 0 not opened yet, 1 on, -1 off */
static HANDLE host_file, info_section, info_mutex;
static struct host_info *info;
static int my_slot = -1;         /* the slot whose live lock this process holds */
static DWORD holder_locked;      /* the owner id whose holder lock it holds */
static uint64_t cache_epoch;
static uint32_t cache_seq[PORTRES_HOST_SLOTS];
static struct portres_host_slot *cache[PORTRES_HOST_SLOTS];  /* other prefixes' valid slots */
static BYTE others[PORTRES_PROTO_COUNT][PORTRES_BITMAP_BYTES];
static BOOL others_live[PORTRES_PROTO_COUNT];
static LONGLONG refreshed_at;    /* QueryPerformanceCounter of the last refresh */

/* how stale the view may be for a bind (portres_host_live): reading the
 * file's header is a pread through ntdll (wine_read_at), cheap but not
 * free beside a bind; acquires and creates always read it */
#define BIND_STALE_MS 2

/* the variable name of this process's environment, else of the
 * wineserver's (services.exe's processes have none of the user's) */
static BOOL prefix_getenv( const char *name, char *value, DWORD size )
{
    DWORD len = GetEnvironmentVariableA( name, value, size );

    return (len && len < size) || wine_server_getenv( name, value, size );
}

/* portres_runtime_dir: the user's runtime folder of portres as a Unix
 * path (UTF-8) in dir: %PORTRES_RUNTIME_DIR%, else $XDG_RUNTIME_DIR/portres
 * (the user's alone, by the XDG Base Directory specification), from the
 * process's environment or else the wineserver's.  With tmp, else
 * /tmp/portres-$USER (for the helper, which checks that folder is the
 * user's alone; the host view, whose readers cannot check, goes without).
 * FALSE if none. */
BOOL portres_runtime_dir( char *dir, DWORD size, BOOL tmp )
{
    char value[MAX_PATH];

    if (prefix_getenv( "PORTRES_RUNTIME_DIR", dir, size )) return TRUE;
    if (prefix_getenv( "XDG_RUNTIME_DIR", value, sizeof(value) ))
        return snprintf( dir, size, "%s/portres", value ) < (int)size;
    if (tmp && prefix_getenv( "USER", value, sizeof(value) ))
        return snprintf( dir, size, "/tmp/portres-%s", value ) < (int)size;
    return FALSE;
}

/* the Unix path unix (UTF-8) as a Windows path through \\?\unix */
static BOOL host_path( const char *unix_path, WCHAR *path, DWORD size )
{
    char text[MAX_PATH + 16];
    int n = snprintf( text, sizeof(text), "\\\\?\\unix%s", unix_path );

    if (n < 0 || n >= (int)sizeof(text)) return FALSE;
    for (char *p = text; *p; p++) if (*p == '/') *p = '\\';
    return MultiByteToWideChar( CP_UTF8, 0, text, -1, path, size ) != 0;
}

/* the off switch: %PORTRES_HOSTWIDE% or HKLM\Software\Wine\Portres\HostWide "off" */
static BOOL hostwide_off( void )
{
    char value[8];
    DWORD type, size = sizeof(value);
    HKEY key;
    BOOL off = FALSE;

    if (GetEnvironmentVariableA( "PORTRES_HOSTWIDE", value, sizeof(value) ) && !lstrcmpiA( value, "off" ))
        return TRUE;
    if (!RegOpenKeyExA( HKEY_LOCAL_MACHINE, PORTRES_REGISTRY_KEY, 0, KEY_QUERY_VALUE | KEY_WOW64_64KEY, &key ))
    {
        if (!RegQueryValueExA( key, PORTRES_REGISTRY_HOSTWIDE_VALUE, NULL, &type, (BYTE *)value, &size ) &&
            type == REG_SZ && size <= sizeof(value))
        {
            value[sizeof(value) - 1] = 0;
            off = !lstrcmpiA( value, "off" );
        }
        RegCloseKey( key );
    }
    return off;
}

/* open the file and the prefix's section once per process; host_lock held */
static BOOL open_host( void )
{
    char dir[MAX_PATH], file[MAX_PATH + 16], name[64];
    WCHAR path[MAX_PATH + 32], namew[64];
    uint32_t file_crc;

    if (host_state) return host_state > 0;
    host_state = -1;
    if (hostwide_off())
    {
        TRACE( "the host view is off: this prefix's reservations are its own\n" );
        return FALSE;
    }
    if (!portres_runtime_dir( dir, sizeof(dir), FALSE ))
    {
        TRACE( "no runtime folder ($XDG_RUNTIME_DIR, %%PORTRES_RUNTIME_DIR%%): this prefix's reservations are its own\n" );
        return FALSE;
    }
    snprintf( file, sizeof(file), "%s/%s", dir, PORTRES_HOST_FILE );
    if (!host_path( file, path, ARRAYSIZE(path) )) return FALSE;
    host_file = CreateFileW( path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                             NULL, OPEN_ALWAYS, 0, NULL );
    if (host_file == INVALID_HANDLE_VALUE && GetLastError() == ERROR_PATH_NOT_FOUND)
    {
        /* the folder first, the user's alone: Wine would make it with the umask's mode */
        char *argv[] = { (char *)"mkdir", (char *)"-p", (char *)"-m", (char *)"700", dir, NULL };

        if (wine_spawn( argv, TRUE ))
            host_file = CreateFileW( path, GENERIC_READ | GENERIC_WRITE,
                                     FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_ALWAYS, 0, NULL );
    }
    if (host_file == INVALID_HANDLE_VALUE)
    {
        host_file = NULL;
        TRACE( "cannot open %s (error %lu): this prefix's reservations are its own\n", file, GetLastError() );
        return FALSE;
    }
    file_crc = portres_journal_crc32( file, strlen( file ) );
    snprintf( name, sizeof(name), PORTRES_HOST_MUTEX_FMT, file_crc );
    MultiByteToWideChar( CP_UTF8, 0, name, -1, namew, ARRAYSIZE(namew) );
    if ((info_mutex = CreateMutexW( NULL, FALSE, namew )))
    {
        snprintf( name, sizeof(name), PORTRES_HOST_SECTION_FMT, file_crc );
        MultiByteToWideChar( CP_UTF8, 0, name, -1, namew, ARRAYSIZE(namew) );
    }
    if (!info_mutex ||
        !(info_section = CreateFileMappingW( INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, sizeof(*info), namew )) ||
        !(info = MapViewOfFile( info_section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof(*info) )))
    {
        ERR( "cannot open the host view's section, error %lu\n", GetLastError() );
        return FALSE;
    }
    host_state = 1;
    return TRUE;
}

static DWORD file_read( uint64_t offset, void *buf, DWORD size )
{
    return wine_read_at( host_file, offset, buf, size );
}

static BOOL file_write( uint64_t offset, const void *buf, DWORD size )
{
    return wine_write_at( host_file, offset, buf, size ) == size;
}

static BOOL lock_byte( DWORD offset, DWORD flags )
{
    return wine_lock_byte( host_file, offset, !!(flags & LOCKFILE_EXCLUSIVE_LOCK ),
                           !(flags & LOCKFILE_FAIL_IMMEDIATELY) );
}

static void unlock_byte( DWORD offset )
{
    OVERLAPPED ov = { .Offset = offset };
    UnlockFileEx( host_file, 0, 1, 0, &ov );
}

/* lock_byte without waiting, tried a few times: another process's test
 * of the byte holds it for a moment */
static BOOL lock_byte_soon( DWORD offset, DWORD flags )
{
    for (int tries = 0; tries < 20; tries++)
    {
        if (lock_byte( offset, flags | LOCKFILE_FAIL_IMMEDIATELY )) return TRUE;
        Sleep( tries < 10 ? 0 : 1 );
    }
    return FALSE;
}

/* TRUE while another process (of any prefix) holds a lock on the byte at
 * offset: its holder is alive.  One or two wineserver round trips. */
static BOOL byte_held( DWORD offset )
{
    if (lock_byte( offset, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY ))
    {
        unlock_byte( offset );
        return FALSE;
    }
    return TRUE;
}

static uint64_t random64( void )
{
    LARGE_INTEGER now;

    QueryPerformanceCounter( &now );
    return ((uint64_t)now.QuadPart * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)GetCurrentProcessId() << 32) ^
           GetTickCount() ^ (uintptr_t)&now;
}

static BOOL read_header( struct portres_host_header *header )
{
    return portres_host_header_valid( header, file_read( 0, header, sizeof(*header) ) );
}

/* the header, made anew if it is not valid (a new, truncated or damaged
 * file): a new epoch, so that no slot written before counts, and every
 * live prefix writes its slot again (refresh).  FALSE if it cannot be read
 * or made. */
static BOOL valid_header( struct portres_host_header *header )
{
    DWORD got;
    BOOL ok;

    if (read_header( header )) return TRUE;
    if (!lock_byte( PORTRES_HOST_LOCK_HEADER, LOCKFILE_EXCLUSIVE_LOCK )) return FALSE;
    if (!(ok = portres_host_header_valid( header, (got = file_read( 0, header, sizeof(*header) )) )))
    {
        if (got) WARN( "the host view's file was damaged: made anew\n" );
        else TRACE( "the host view's file is new\n" );
        portres_host_header_init( header, random64() );
        ok = file_write( 0, header, sizeof(*header) );
    }
    unlock_byte( PORTRES_HOST_LOCK_HEADER );
    return ok;
}

/* write size bytes of data at the start of slot, then seq as its seq in
 * the header, in that order: a reader that meets the slot in between finds
 * the slot's seq and the header's apart and reads it again later */
static BOOL write_slot( unsigned int slot, const void *data, size_t size, uint32_t seq )
{
    return file_write( PORTRES_HOST_SLOT_OFFSET( slot ), data, size ) &&
           file_write( offsetof(struct portres_host_header, seq[slot]), &seq, sizeof(seq) );
}

/* empty slot in the file (a dead prefix's, or a new one's), so that no
 * reader counts what it held; header from valid_header */
static void clear_slot( unsigned int slot, struct portres_host_header *header )
{
    static const uint32_t zero;
    uint32_t seq = header->seq[slot] + 1;

    if (write_slot( slot, &zero, sizeof(zero), seq )) header->seq[slot] = seq;
}

/* this prefix's path, for show and traces: $WINEPREFIX, else ~/.wine */
static void prefix_label( char *label, DWORD size )
{
    char home[MAX_PATH];

    if (prefix_getenv( "WINEPREFIX", label, size )) return;
    if (prefix_getenv( "HOME", home, sizeof(home) )) snprintf( label, size, "%s/.wine", home );
    else lstrcpynA( label, "?", size );
}

/* write the head of this prefix's slot, without blocks, for the header's
 * epoch (the slot's live lock held: no other prefix can take it meanwhile) */
static void own_slot( unsigned int slot, struct portres_host_header *header )
{
    struct portres_host_slot head;
    uint32_t seq = header->seq[slot] + 1;

    if (!seq) seq = 1;
    portres_host_slot_fill( &head, NULL, header->epoch, info->prefix, seq, GetCurrentProcessId(), info->label );
    if (write_slot( slot, &head, PORTRES_HOST_SLOT_HEAD, seq )) header->seq[slot] = seq;
    info->hash = 0;  /* the next unlock writes the pool's blocks */
}

/* the prefix whose head slot has, 0 if nobody's (empty, or from an
 * earlier epoch) */
static uint64_t slot_prefix( unsigned int slot, const struct portres_host_header *header )
{
    struct portres_host_slot head;

    if (file_read( PORTRES_HOST_SLOT_OFFSET( slot ), &head, PORTRES_HOST_SLOT_HEAD ) < PORTRES_HOST_SLOT_HEAD ||
        head.magic != PORTRES_HOST_SLOT_MAGIC || head.epoch != header->epoch)
        return 0;
    return head.prefix;
}

/* join the prefix's slot: its live lock (shared), if the slot still says
 * this prefix's id.  A slot that says nobody's (emptied, or from an
 * earlier epoch) is not taken here: another prefix may hold it, and
 * claim_slot takes only a slot nobody holds. */
static BOOL join_slot( unsigned int slot, struct portres_host_header *header )
{
    if (!lock_byte_soon( PORTRES_HOST_LOCK_LIVE + slot, 0 )) return FALSE;
    if (slot_prefix( slot, header ) == info->prefix) return TRUE;
    unlock_byte( PORTRES_HOST_LOCK_LIVE + slot );  /* another prefix's, or nobody's */
    return FALSE;
}

/* claim a free slot for the prefix: one whose live lock nobody holds,
 * taken exclusively (so that no one else can take it at once), made the
 * prefix's, then held shared like every process of the prefix; -1 if none */
static int claim_slot( struct portres_host_header *header )
{
    for (unsigned int i = 0; i < PORTRES_HOST_SLOTS; i++)
    {
        if (!lock_byte( PORTRES_HOST_LOCK_LIVE + i, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY )) continue;
        own_slot( i, header );  /* a dead prefix's blocks go with it */
        unlock_byte( PORTRES_HOST_LOCK_LIVE + i );
        if (join_slot( i, header )) return i;
    }
    return -1;
}

/* portres_host_attach: take part in the host view, once per process (at
 * DLL load, and on the first pool lock): join this prefix's slot, claimed
 * if it has none, and hold it as long as the process lives, so that the
 * prefix's blocks count while any of its processes that loaded portres
 * runs (winedevice.exe loads iphlpapi for the life of the wineserver).
 * Nothing when the view is off or the file cannot be opened. */
void portres_host_attach( void )
{
    struct portres_host_header header;
    int slot = -1;

    AcquireSRWLockExclusive( &host_lock );
    if (open_host() && my_slot < 0 && valid_header( &header ))
    {
        DWORD wait = WaitForSingleObject( info_mutex, INFINITE );

        if (wait == WAIT_OBJECT_0 || wait == WAIT_ABANDONED)
        {
            if (info->magic != HOST_INFO_MAGIC)
            {
                info->prefix = random64();
                prefix_label( info->label, sizeof(info->label) );
                info->slot = 0;
                info->magic = HOST_INFO_MAGIC;
            }
            if (info->slot && info->slot <= PORTRES_HOST_SLOTS && join_slot( info->slot - 1, &header ))
                slot = info->slot - 1;
            else if ((slot = claim_slot( &header )) >= 0)
                info->slot = slot + 1;
            ReleaseMutex( info_mutex );
        }
        if (slot < 0) WARN( "no free slot in the host view: this prefix's reservations are its own\n" );
        else TRACE( "prefix %s (id %#llx) has slot %d of the host view\n", info->label,
                    (unsigned long long)info->prefix, slot );
        my_slot = slot;
    }
    ReleaseSRWLockExclusive( &host_lock );
}

/* portres_host_publish: write the prefix's slot from pool if what it says
 * changed, or the slot was lost (a file made anew); pool locked (lock.c,
 * on every unlock).  Nothing is read when nothing changed. */
void portres_host_publish( const struct portres_pool *pool )
{
    static struct portres_host_slot slot;  /* pool locked: one writer per prefix */
    struct portres_host_header header;
    DWORD owner = portres_self_owner_id();
    uint32_t hash, seq;
    size_t size;

    AcquireSRWLockExclusive( &host_lock );
    if (host_state <= 0 || my_slot < 0) goto done;
    /* unchanged: nothing read or written (a lost slot was marked, hash 0,
     * by whoever found it lost: refresh, portres_host_check) */
    hash = portres_host_pool_hash( pool );
    if (hash == info->hash && info->slot == (uint32_t)my_slot + 1) goto done;
    if (!valid_header( &header )) goto done;
    /* the holder lock first: a runtime block must never be seen without it */
    if (owner && owner != holder_locked &&
        lock_byte_soon( PORTRES_HOST_LOCK_HOLDER( my_slot, owner ), LOCKFILE_EXCLUSIVE_LOCK ))
        holder_locked = owner;
    if (!(seq = header.seq[my_slot] + 1)) seq = 1;
    size = portres_host_slot_fill( &slot, pool, header.epoch, info->prefix, seq, GetCurrentProcessId(), info->label );
    if (write_slot( my_slot, &slot, size, seq ))
    {
        info->slot = my_slot + 1;
        info->hash = hash;
        info->epoch = header.epoch;
        info->seq = seq;
        TRACE( "slot %d of the host view: %u blocks\n", my_slot, slot.count );
    }
done:
    ReleaseSRWLockExclusive( &host_lock );
}

/* read slot index of another prefix: a copy on the heap if it is valid,
 * else NULL, with *torn set when it is in use but did not check out (being
 * written, or damaged) */
static struct portres_host_slot *read_slot( unsigned int index, const struct portres_host_header *header, BOOL *torn )
{
    struct portres_host_slot head, *slot;
    size_t size;

    *torn = FALSE;
    if (file_read( PORTRES_HOST_SLOT_OFFSET( index ), &head, PORTRES_HOST_SLOT_HEAD ) < PORTRES_HOST_SLOT_HEAD ||
        head.magic != PORTRES_HOST_SLOT_MAGIC || (info && head.prefix == info->prefix))
        return NULL;
    *torn = TRUE;
    if (head.count > PORTRES_HOST_BLOCKS) return NULL;
    size = portres_host_slot_size( &head );
    if (!(slot = malloc( size ))) return NULL;
    if (!portres_host_slot_valid( slot, file_read( PORTRES_HOST_SLOT_OFFSET( index ), slot, size ), header, index ))
    {
        TRACE( "slot %u of the host view is being written or damaged: read again later\n", index );
        free( slot );
        return NULL;
    }
    *torn = FALSE;
    return slot;
}

static void rebuild_bitmaps( void )
{
    memset( others, 0, sizeof(others) );
    for (unsigned int i = 0; i < PORTRES_HOST_SLOTS; i++) if (cache[i]) portres_host_slot_mark( cache[i], others );
    for (unsigned int p = 0; p < PORTRES_PROTO_COUNT; p++)
    {
        others_live[p] = FALSE;
        for (unsigned int i = 0; i < PORTRES_HOST_SLOTS; i++)
            if (cache[i] && portres_host_slot_find( cache[i], p, 0, 65536, NULL )) others_live[p] = TRUE;
    }
}

/* slot is a dead prefix's: forgotten, and emptied in the file for every
 * reader, its live lock taken exclusively meanwhile (host_lock held) */
static void forget_dead( unsigned int slot )
{
    struct portres_host_header header;

    TRACE( "prefix %s (slot %u) has ended: its blocks no longer count\n", cache[slot] ? cache[slot]->label : "?", slot );
    free( cache[slot] );
    cache[slot] = NULL;
    rebuild_bitmaps();
    if (!lock_byte( PORTRES_HOST_LOCK_LIVE + slot, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY )) return;
    if (read_header( &header ))
    {
        clear_slot( slot, &header );
        if (header.epoch == cache_epoch) cache_seq[slot] = header.seq[slot];
    }
    unlock_byte( PORTRES_HOST_LOCK_LIVE + slot );
}

/* bring the other prefixes' slots up to date: one read of the header when
 * nothing changed; host_lock held.  FALSE without a host view. */
static BOOL refresh( void )
{
    struct portres_host_header header;
    BOOL changed = FALSE;

    if (!open_host() || !valid_header( &header )) return FALSE;
    if (header.epoch != cache_epoch)
    {
        /* the file made anew: every slot is read again; the copies read
         * before stay until their prefix writes its slot again */
        memset( cache_seq, 0, sizeof(cache_seq) );
        cache_epoch = header.epoch;
    }
    for (unsigned int i = 0; i < PORTRES_HOST_SLOTS; i++)
    {
        struct portres_host_slot *slot;
        BOOL torn;

        if (header.seq[i] == cache_seq[i]) continue;
        if ((int)i == my_slot || !header.seq[i] || !(slot = read_slot( i, &header, &torn )))
        {
            /* a slot being written (or damaged) is read again next time,
             * and until then its copy read before counts */
            if ((int)i != my_slot && header.seq[i] && torn) continue;
            cache_seq[i] = header.seq[i];
            if (cache[i])
            {
                TRACE( "slot %u of the host view (prefix %s) no longer counts: emptied or this prefix's\n", i,
                       cache[i]->label );
                changed = TRUE;
            }
            free( cache[i] );
            cache[i] = NULL;
            continue;
        }
        free( cache[i] );
        cache[i] = slot;
        cache_seq[i] = header.seq[i];
        changed = TRUE;
        if (!byte_held( PORTRES_HOST_LOCK_LIVE + i )) forget_dead( i );
    }
    if (changed) rebuild_bitmaps();
    /* this prefix's slot lost (a file made anew): the next pool unlock of
     * any process of the prefix writes it again */
    if (my_slot >= 0 && (header.epoch != info->epoch || header.seq[my_slot] != info->seq)) info->hash = 0;
    QueryPerformanceCounter( (LARGE_INTEGER *)&refreshed_at );
    return TRUE;
}

/* was the view read less than BIND_STALE_MS ago? */
static BOOL fresh_enough( void )
{
    static LONGLONG window;
    LARGE_INTEGER now, freq;

    if (!window && QueryPerformanceFrequency( &freq )) window = freq.QuadPart * BIND_STALE_MS / 1000;
    QueryPerformanceCounter( &now );
    return refreshed_at && now.QuadPart - refreshed_at < window;
}


/* is this process's slot in the file as it was last written?  host_lock held */
static BOOL own_slot_intact( void )
{
    struct portres_host_header header;
    struct portres_host_slot head, *slot;
    size_t size;
    BOOL ok;

    if (my_slot < 0 || !read_header( &header ) ||
        file_read( PORTRES_HOST_SLOT_OFFSET( my_slot ), &head, PORTRES_HOST_SLOT_HEAD ) < PORTRES_HOST_SLOT_HEAD)
        return FALSE;
    size = portres_host_slot_size( &head );
    if (!(slot = malloc( size ))) return TRUE;
    ok = portres_host_slot_valid( slot, file_read( PORTRES_HOST_SLOT_OFFSET( my_slot ), slot, size ), &header, my_slot ) &&
         slot->prefix == info->prefix;
    free( slot );
    return ok;
}

/* portres_host_check: see that this prefix's slot is still in the file
 * whole; TRUE if not (the file was damaged or made anew), and the caller
 * then takes and releases the pool lock, whose release writes it again.
 * For a thread that runs anyway (ws2_32's socket watcher, every second). */
BOOL portres_host_check( void )
{
    BOOL lost = FALSE;

    AcquireSRWLockExclusive( &host_lock );
    if (refresh() && my_slot >= 0 && (!info->hash || !own_slot_intact()))
    {
        TRACE( "this prefix's slot of the host view is lost or damaged: written again\n" );
        info->hash = 0;
        lost = TRUE;
    }
    ReleaseSRWLockExclusive( &host_lock );
    return lost;
}

static BOOL any_live( enum portres_proto proto )
{
    return proto < PORTRES_PROTO_COUNT ? others_live[proto] : others_live[PORTRES_TCP] || others_live[PORTRES_UDP];
}

/* portres_host_live: TRUE while another prefix has a block of proto
 * (PORTRES_PROTO_COUNT: of any protocol), its liveness not checked; for
 * the bind path, which reads the file at most every BIND_STALE_MS (a
 * block another prefix has just published is seen that much later) */
BOOL portres_host_live( enum portres_proto proto )
{
    BOOL live;

    if (host_state < 0) return FALSE;
    AcquireSRWLockShared( &host_lock );
    if (host_state > 0 && fresh_enough())
    {
        live = any_live( proto );
        ReleaseSRWLockShared( &host_lock );
        return live;
    }
    ReleaseSRWLockShared( &host_lock );
    AcquireSRWLockExclusive( &host_lock );
    live = refresh() && any_live( proto );
    ReleaseSRWLockExclusive( &host_lock );
    return live;
}

/* portres_host_reserved: TRUE if port (host order) of proto is in another
 * prefix's block, as last read (its liveness not checked) */
BOOL portres_host_reserved( enum portres_proto proto, USHORT port )
{
    BOOL ret;

    AcquireSRWLockShared( &host_lock );
    ret = host_state > 0 && (others[proto][port >> 3] >> (port & 7)) & 1;
    ReleaseSRWLockShared( &host_lock );
    return ret;
}

/* portres_host_any_reserved: TRUE if a port of first..last (host order)
 * of proto not set in except (NULL: none) is in another prefix's block */
BOOL portres_host_any_reserved( enum portres_proto proto, UINT first, UINT last, const BYTE *except )
{
    BOOL ret;

    AcquireSRWLockShared( &host_lock );
    ret = host_state > 0 && others_live[proto] && portres_bitmap_any( others[proto], first, last, except );
    ReleaseSRWLockShared( &host_lock );
    return ret;
}

/* portres_host_mark: set in bitmap the ports of proto in other prefixes' blocks */
void portres_host_mark( enum portres_proto proto, BYTE *bitmap )
{
    AcquireSRWLockExclusive( &host_lock );
    if (refresh() && others_live[proto])
        for (unsigned int i = 0; i < PORTRES_BITMAP_BYTES; i++) bitmap[i] |= others[proto][i];
    ReleaseSRWLockExclusive( &host_lock );
}

/* is block of slot alive: its prefix, and its holder for a runtime or
 * pending one?  host_lock held; a dead prefix is forgotten */
static BOOL block_alive( unsigned int slot, const struct portres_host_block *block )
{
    if (!byte_held( PORTRES_HOST_LOCK_LIVE + slot ))
    {
        forget_dead( slot );
        return FALSE;
    }
    return !block->holder || byte_held( PORTRES_HOST_LOCK_HOLDER( slot, block->holder ) );
}

static void fill_hit( struct portres_host_hit *hit, const struct portres_host_slot *slot,
                      const struct portres_host_block *block )
{
    hit->block = *block;
    lstrcpynA( hit->label, slot->label, sizeof(hit->label) );
    hit->pid = slot->pid;
}

/* portres_host_conflict: TRUE if a live block of another prefix overlaps
 * start..start+count-1 (host order) of proto, the first one in *hit.
 * Blocks whose prefix or holder has died are passed over.  One read of the
 * file, and one or two wineserver round trips per block found. */
BOOL portres_host_conflict( enum portres_proto proto, USHORT start, USHORT count, struct portres_host_hit *hit )
{
    BOOL found = FALSE;

    AcquireSRWLockExclusive( &host_lock );
    if (refresh() && others_live[proto])
    {
        for (unsigned int i = 0; i < PORTRES_HOST_SLOTS && !found; i++)
        {
            const struct portres_host_block *block = NULL;

            while (!found && cache[i] && (block = portres_host_slot_find( cache[i], proto, start, count, block )))
            {
                if (!block_alive( i, block )) continue;
                fill_hit( hit, cache[i], block );
                found = TRUE;
            }
        }
    }
    ReleaseSRWLockExclusive( &host_lock );
    return found;
}

/* portres_host_list: call callback for every live block of the other
 * prefixes (portres.exe show); the number of blocks */
unsigned int portres_host_list( void (*callback)( void *ctx, const struct portres_host_hit *hit ), void *ctx )
{
    struct portres_host_hit hit;
    unsigned int n = 0;

    AcquireSRWLockExclusive( &host_lock );
    if (refresh())
    {
        for (unsigned int i = 0; i < PORTRES_HOST_SLOTS; i++)
        {
            for (uint32_t b = 0; cache[i] && b < cache[i]->count; b++)
            {
                if (!block_alive( i, &cache[i]->blocks[b] )) continue;
                fill_hit( &hit, cache[i], &cache[i]->blocks[b] );
                callback( ctx, &hit );
                n++;
            }
        }
    }
    ReleaseSRWLockExclusive( &host_lock );
    return n;
}
