/*
 * The persistent store: the prefix's registry, made durable by a journal
 * (behaviour §2, §5; doc/design.md "Where things are kept")
 *
 * HKLM\Software\Wine\Portres\Tcp and \Udp hold one value per persistent
 * reservation (format: regvalue.c); HKLM\Software\Wine\Portres holds the
 * dynamic port ranges and "Generation" (REG_QWORD), the generation of the
 * last change written.  The 64-bit view is used by every process, so
 * 32-bit and 64-bit processes share one list.
 *
 * The wineserver saves the registry lazily (and RegFlushKey does not force
 * it): a wineserver killed with SIGKILL loses the newest writes.  So every
 * change is also appended to the journal <Windows directory>\portres\
 * journal.txt (format and replay rule: journal.h; the Windows directory is
 * not redirected for 32-bit processes, so both share the file) and flushed
 * before the call returns.  A change, under the store mutex (lock.c): write the
 * registry value and Generation, then append and flush the journal line;
 * if the append fails, put the old registry values back and return the
 * error: nothing changed.  When the pool is created (the first process
 * after a restart), the journal's lines newer than the registry's
 * Generation are replayed into the registry before the pool is loaded.
 * Past PORTRES_JOURNAL_COMPACT_SIZE bytes (and twice the size of a
 * snapshot of the list) the journal is rewritten as one snapshot (write to journal.tmp, flush, MoveFileEx with
 * MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH).
 *
 * HKLM\Software\Wine\Portres\Active\Tcp and \Udp are volatile keys (the
 * wineserver never saves them): netsh's store=active exclusions, which
 * end with the wineserver, as Windows's end with a reboot.  They are not
 * journaled.
 *
 * Changes made by hand in the registry while processes run are seen
 * through portres_lock_fresh (lock.c): a registry notification per
 * process, and the keys' last-write times recorded in a small named
 * section after our own writes, tell when the pool's persistent part must
 * be reloaded (portres_store_refresh).  Nothing here takes the pool lock:
 * the functions that need the pool are given it, locked.
 */

#include <stdio.h>
#include <stdlib.h>

#include "shared.h"
#include "store.h"
#include "journal.h"
#include "journalfile.h"
#include "debug.h"

static const WCHAR *const proto_keys[PORTRES_PROTO_COUNT] = { PORTRES_W(PORTRES_REGISTRY_TCP_NAME), PORTRES_W(PORTRES_REGISTRY_UDP_NAME) };
static const char *const dynamic_values[PORTRES_PROTO_COUNT] = { PORTRES_TCP_DYNAMIC_VALUE, PORTRES_UDP_DYNAMIC_VALUE };

/* the keys whose last-write times tell a hand edit from our own writes */
enum { KEY_ROOT, KEY_TCP, KEY_UDP, KEY_ACTIVE_TCP, KEY_ACTIVE_UDP, KEY_COUNT };

struct store_shared
{
    FILETIME times[KEY_COUNT];   /* after the last change made through portres */
};

static struct store_shared *store_shared;
static HKEY notify_key;
static HANDLE notify_event;

/* open (create = TRUE: create, volatile for active) a key of the store;
 * returns a Win32 error */
static LONG open_key( int which, BOOL create, HKEY *key )
{
    static const WCHAR *const paths[KEY_COUNT] =
    {
        PORTRES_W(PORTRES_REGISTRY_KEY), PORTRES_W(PORTRES_REGISTRY_TCP_KEY), PORTRES_W(PORTRES_REGISTRY_UDP_KEY),
        PORTRES_W(PORTRES_REGISTRY_ACTIVE_KEY "\\" PORTRES_REGISTRY_TCP_NAME),
        PORTRES_W(PORTRES_REGISTRY_ACTIVE_KEY "\\" PORTRES_REGISTRY_UDP_NAME),
    };
    LONG err;

    /* KEY_WOW64_64KEY: 32-bit and 64-bit processes share one list */
    if (!create) return RegOpenKeyExW( HKEY_LOCAL_MACHINE, paths[which], 0, KEY_READ | KEY_WOW64_64KEY, key );
    if (which >= KEY_ACTIVE_TCP)
    {
        HKEY parent;

        if ((err = RegCreateKeyExW( HKEY_LOCAL_MACHINE, PORTRES_W(PORTRES_REGISTRY_ACTIVE_KEY), 0, NULL,
                                    REG_OPTION_VOLATILE, KEY_READ | KEY_WRITE | KEY_WOW64_64KEY, NULL,
                                    &parent, NULL )))
            return err;
        err = RegCreateKeyExW( parent, proto_keys[which - KEY_ACTIVE_TCP], 0, NULL, REG_OPTION_VOLATILE,
                               KEY_READ | KEY_WRITE | KEY_WOW64_64KEY, NULL, key, NULL );
        RegCloseKey( parent );
        return err;
    }
    return RegCreateKeyExW( HKEY_LOCAL_MACHINE, paths[which], 0, NULL, 0, KEY_READ | KEY_WRITE | KEY_WOW64_64KEY,
                            NULL, key, NULL );
}

/* --- last-write times and the notification (portres_store_refresh) ------- */

static void read_times( FILETIME *times )
{
    for (int i = 0; i < KEY_COUNT; i++)
    {
        HKEY key;

        memset( &times[i], 0, sizeof(times[i]) );
        if (open_key( i, FALSE, &key )) continue;
        RegQueryInfoKeyW( key, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &times[i] );
        RegCloseKey( key );
    }
}

static struct store_shared *get_store_shared( void )
{
    HANDLE section;
    void *view;

    if (store_shared) return store_shared;
    if (!(section = CreateFileMappingW( INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, sizeof(struct store_shared),
                                        PORTRES_W(PORTRES_STORE_SECTION_NAME) )))
        return NULL;
    /* the section is kept open for the life of the process */
    if (!(view = MapViewOfFile( section, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, sizeof(struct store_shared) )))
    {
        CloseHandle( section );
        return NULL;
    }
    if (InterlockedCompareExchangePointer( (void **)&store_shared, view, NULL ))
    {
        UnmapViewOfFile( view );
        CloseHandle( section );
    }
    return store_shared;
}

/* after a change made through portres, pool locked: remember the keys'
 * last-write times, so that the notification it causes reloads nothing */
static void record_times( void )
{
    struct store_shared *shared = get_store_shared();
    if (shared) read_times( shared->times );
}

/* arm the registry notification of this process; FALSE if it cannot be */
static BOOL arm_notify( void )
{
    if (!notify_event && !(notify_event = CreateEventW( NULL, TRUE, FALSE, NULL ))) return FALSE;
    if (!notify_key &&
        RegCreateKeyExW( HKEY_LOCAL_MACHINE, PORTRES_W(PORTRES_REGISTRY_KEY), 0, NULL, 0, KEY_NOTIFY | KEY_WOW64_64KEY,
                         NULL, &notify_key, NULL ))
        return FALSE;
    ResetEvent( notify_event );
    return !RegNotifyChangeKeyValue( notify_key, TRUE, REG_NOTIFY_CHANGE_NAME | REG_NOTIFY_CHANGE_LAST_SET,
                                     notify_event, TRUE );
}

/* portres_store_notification: the event of this process's registry
 * notification, signalled when the store's keys change; NULL until
 * portres_store_refresh has armed it */
HANDLE portres_store_notification( void )
{
    return notify_key ? notify_event : NULL;
}

/* portres_store_refresh: arm this process's registry notification again,
 * and reload the pool's persistent part (the persistent and active
 * exclusions, the dynamic ranges) if the registry was changed by hand
 * since the last change made through portres; pool locked.  FALSE if the
 * notification cannot be armed (then every lock looks at the times). */
BOOL portres_store_refresh( struct portres_pool *pool )
{
    struct store_shared *shared;
    FILETIME times[KEY_COUNT];
    BOOL armed = arm_notify();

    read_times( times );
    if ((shared = get_store_shared()) && memcmp( times, shared->times, sizeof(times) ))
    {
        TRACE( "the registry was changed by hand: reloading the persistent reservations\n" );
        portres_store_reload( pool );
    }
    return armed;
}

/* --- loading the registry into the pool ------------------------------------ */

/* load the values of one key (persistent or active list) into the pool */
static void load_key( struct portres_pool *pool, enum portres_proto proto, BOOL active )
{
    HKEY key;
    char name[64], data[64];

    if (open_key( active ? KEY_ACTIVE_TCP + proto : KEY_TCP + proto, FALSE, &key )) return;
    for (DWORD i = 0; i < 65536; i++)
    {
        DWORD name_len = sizeof(name), data_len = sizeof(data) - 1, type;
        struct portres_reservation res;
        LONG err = RegEnumValueA( key, i, name, &name_len, NULL, &type, (BYTE *)data, &data_len );

        if (err == ERROR_NO_MORE_ITEMS) break;
        if (err == ERROR_MORE_DATA || (!err && type != REG_SZ))
        {
            WARN( "skipping malformed %s%ls value %u\n", active ? "active " : "", proto_keys[proto], (unsigned)i );
            continue;
        }
        if (err) break;
        data[data_len] = 0;
        if (!portres_regvalue_parse( name, data, proto, &res ))
            WARN( "skipping malformed %s%ls value %s=%s\n", active ? "active " : "", proto_keys[proto], name, data );
        else
        {
            struct portres_reservation *pending = portres_pool_find_token( pool, res.token );

            /* a create written but not yet made administered in the pool */
            if (pending && pending->kind == PORTRES_KIND_PENDING) continue;
            if (active) res.kind = PORTRES_KIND_ACTIVE;
            if (!portres_pool_add( pool, &res ))
                WARN( "skipping conflicting %s%ls value %s=%s\n", active ? "active " : "", proto_keys[proto],
                      name, data );
        }
    }
    RegCloseKey( key );
}

/* load the persistent reservations of the prefix's
 * registry, then the active (volatile) exclusions, into the pool;
 * malformed or conflicting values are skipped with a WARN line */
static void store_load( struct portres_pool *pool )
{
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++) load_key( pool, proto, FALSE );
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++) load_key( pool, proto, TRUE );
}

/* load the dynamic port ranges set with `portres int ipv4 set dynamicport` */
static void store_load_dynamic( struct portres_pool *pool )
{
    HKEY key;

    if (open_key( KEY_ROOT, FALSE, &key )) return;
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
    {
        char data[32];
        DWORD size = sizeof(data) - 1, type;
        uint16_t start, count;

        if (RegQueryValueExA( key, dynamic_values[proto], NULL, &type, (BYTE *)data, &size ) || type != REG_SZ)
            continue;
        data[size] = 0;
        if (portres_regvalue_parse_range( data, &start, &count ) && portres_dynamic_range_valid( start, count ))
        {
            pool->dyn_first[proto] = start;
            pool->dyn_count[proto] = count;
        }
        else WARN( "ignoring malformed %s %s\n", dynamic_values[proto], data );
    }
    RegCloseKey( key );
}

/* portres_store_reload: drop the pool's persistent part and load it again
 * from the registry, and remember the keys' last-write times (the pool
 * matches the registry as it is now); pool locked */
void portres_store_reload( struct portres_pool *pool )
{
    portres_pool_remove_persistent( pool );
    store_load_dynamic( pool );
    store_load( pool );
    record_times();
}

/* --- the registry as a list ------------------------------------------------ */

static void read_generation( HKEY root, uint64_t *gen )
{
    DWORD size = sizeof(*gen), type;
    if (RegQueryValueExW( root, PORTRES_W(PORTRES_GENERATION_VALUE), NULL, &type, (BYTE *)gen, &size ) || type != REG_QWORD) *gen = 0;
}

/* the registry's persistent list, dynamic ranges and generation */
static void read_list( struct portres_store_list *list )
{
    struct portres_pool *scratch;
    HKEY root;

    portres_store_list_init( list );
    if (!open_key( KEY_ROOT, FALSE, &root ))
    {
        read_generation( root, &list->gen );
        RegCloseKey( root );
    }
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
    {
        HKEY key;
        char name[64], data[64];

        if (open_key( KEY_TCP + proto, FALSE, &key )) continue;
        for (DWORD i = 0; i < 65536; i++)
        {
            DWORD name_len = sizeof(name), data_len = sizeof(data) - 1, type;
            struct portres_reservation res;
            LONG err = RegEnumValueA( key, i, name, &name_len, NULL, &type, (BYTE *)data, &data_len );

            if (err == ERROR_NO_MORE_ITEMS || (err && err != ERROR_MORE_DATA)) break;
            if (err || type != REG_SZ) continue;
            data[data_len] = 0;
            if (portres_regvalue_parse( name, data, proto, &res ))
                portres_store_list_add( list, proto, res.start, res.count, res.token );
        }
        RegCloseKey( key );
    }
    /* the dynamic ranges as store_load_dynamic reads them */
    if ((scratch = calloc( 1, sizeof(*scratch) )))
    {
        for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
        {
            scratch->dyn_first[proto] = list->dyn_first[proto];
            scratch->dyn_count[proto] = list->dyn_count[proto];
        }
        store_load_dynamic( scratch );
        for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
        {
            list->dyn_first[proto] = scratch->dyn_first[proto];
            list->dyn_count[proto] = scratch->dyn_count[proto];
        }
        free( scratch );
    }
}

/* one registry value as it was, to put it back */
struct saved_value
{
    HKEY key;
    const char *name;
    BOOL exists;
    DWORD type, size;
    BYTE data[64];
};

static void save_value( struct saved_value *saved, HKEY key, const char *name )
{
    saved->key = key;
    saved->name = name;
    saved->size = sizeof(saved->data);
    saved->exists = !RegQueryValueExA( key, name, NULL, &saved->type, saved->data, &saved->size );
}

static void restore_value( const struct saved_value *saved )
{
    LONG err;

    if (saved->exists) err = RegSetValueExA( saved->key, saved->name, 0, saved->type, saved->data, saved->size );
    else if ((err = RegDeleteValueA( saved->key, saved->name )) == ERROR_FILE_NOT_FOUND) err = 0;
    if (err) ERR( "cannot put back the registry value %s, error %ld\n", saved->name, err );
}

static LONG set_generation( HKEY root, uint64_t gen )
{
    return RegSetValueExW( root, PORTRES_W(PORTRES_GENERATION_VALUE), 0, REG_QWORD, (const BYTE *)&gen, sizeof(gen) );
}

/* write the snapshot of the registry's list as the new journal */
static void journal_compact( void )
{
    struct portres_store_list *list = malloc( sizeof(*list) );
    WCHAR path[MAX_PATH], tmp[MAX_PATH];
    char line[PORTRES_JOURNAL_LINE_MAX];
    struct portres_journal_entry e = { .op = PORTRES_JOURNAL_BASE };
    HANDLE file;
    DWORD done, err = NO_ERROR;
    int len;

    if (!list || !portres_journal_path( path, PORTRES_W(PORTRES_JOURNAL_FILE) ) || !portres_journal_path( tmp, PORTRES_W(PORTRES_JOURNAL_TMP) ))
    {
        free( list );
        return;
    }
    read_list( list );
    file = CreateFileW( tmp, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL );
    if (file == INVALID_HANDLE_VALUE) err = GetLastError();
    else
    {
        e.gen = list->gen;
        e.entries = list->count + PORTRES_PROTO_COUNT;
        len = portres_journal_format( line, sizeof(line), &e );
        if (!WriteFile( file, line, len, &done, NULL )) err = GetLastError();
        for (uint32_t i = 0; i < list->count && !err; i++)
        {
            struct portres_journal_entry add = { .gen = list->gen, .op = PORTRES_JOURNAL_ADD,
                                                 .proto = list->items[i].proto, .start = list->items[i].start,
                                                 .count = list->items[i].count, .token = list->items[i].token };
            len = portres_journal_format( line, sizeof(line), &add );
            if (!WriteFile( file, line, len, &done, NULL )) err = GetLastError();
        }
        for (int proto = 0; proto < PORTRES_PROTO_COUNT && !err; proto++)
        {
            struct portres_journal_entry dyn = { .gen = list->gen, .op = PORTRES_JOURNAL_DYN, .proto = proto,
                                                 .start = list->dyn_first[proto], .count = list->dyn_count[proto] };
            len = portres_journal_format( line, sizeof(line), &dyn );
            if (!WriteFile( file, line, len, &done, NULL )) err = GetLastError();
        }
        if (!err && !FlushFileBuffers( file )) err = GetLastError();
        CloseHandle( file );
        if (!err && !MoveFileExW( tmp, path, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH ))
            err = GetLastError();
    }
    if (err)
    {
        /* not a failure of the change: the journal still holds it, only longer */
        WARN( "cannot compact the journal, error %lu\n", err );
        DeleteFileW( tmp );
    }
    else TRACE( "journal compacted: %u reservations, generation %llu\n", list->count,
                (unsigned long long)list->gen );
    free( list );
}

/* about the size of a snapshot of the list, in bytes: compaction waits
 * until the journal is twice that, so that a long list is not rewritten
 * at every change */
static LONGLONG snapshot_size( void )
{
    LONGLONG lines = 1 + PORTRES_PROTO_COUNT;

    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
    {
        DWORD values = 0;
        HKEY key;

        if (open_key( KEY_TCP + proto, FALSE, &key )) continue;
        if (!RegQueryInfoKeyW( key, NULL, NULL, NULL, NULL, NULL, NULL, &values, NULL, NULL, NULL, NULL ))
            lines += values;
        RegCloseKey( key );
    }
    return lines * 56;
}

/* --- changes --------------------------------------------------------------- */

/* write one change into the registry (value and Generation) and the
 * journal, durably; store mutex held (portres_store_begin, lock.c), pool
 * not locked.  On failure puts the registry back and
 * returns the Win32 error (the registry's, or the journal's, e.g.
 * ERROR_DISK_FULL). */
static LONG store_change( struct portres_journal_entry *e )
{
    char name[PORTRES_REGVALUE_NAME_MAX], data[PORTRES_REGVALUE_DATA_MAX];
    char line[PORTRES_JOURNAL_LINE_MAX];
    struct saved_value old_value, old_gen;
    LARGE_INTEGER size;
    HKEY root, key;
    LONG err;
    int len;

    if (!portres_regvalue_name( name, sizeof(name), e->start, e->count ) ||
        !portres_regvalue_data( data, sizeof(data), e->token ))
        return ERROR_INVALID_PARAMETER;
    if ((err = open_key( KEY_ROOT, TRUE, &root ))) return err;
    if (e->op != PORTRES_JOURNAL_DYN && (err = open_key( KEY_TCP + e->proto, TRUE, &key )))
    {
        RegCloseKey( root );
        return err;
    }
    if (e->op == PORTRES_JOURNAL_DYN) key = root;
    read_generation( root, &e->gen );
    e->gen++;
    save_value( &old_gen, root, PORTRES_GENERATION_VALUE );
    save_value( &old_value, key, e->op == PORTRES_JOURNAL_DYN ? dynamic_values[e->proto] : name );

    if (e->op == PORTRES_JOURNAL_DYN)
        err = RegSetValueExA( key, dynamic_values[e->proto], 0, REG_SZ, (const BYTE *)name, strlen( name ) + 1 );
    else if (e->op == PORTRES_JOURNAL_ADD)
        err = RegSetValueExA( key, name, 0, REG_SZ, (const BYTE *)data, strlen( data ) + 1 );
    else if ((err = RegDeleteValueA( key, name )) == ERROR_FILE_NOT_FOUND)
        err = 0;  /* already gone from the registry (by hand): the delete still stands */
    if (!err) err = set_generation( root, e->gen );
    if (!err && portres_journal_enabled())
    {
        len = portres_journal_format( line, sizeof(line), e );
        if (!len) err = ERROR_INVALID_PARAMETER;
        else if ((err = portres_journal_append( line, len, &size )))
            WARN( "cannot write the journal, error %ld: the change is undone\n", err );
        else if (size.QuadPart > PORTRES_JOURNAL_COMPACT_SIZE && size.QuadPart > 2 * snapshot_size()) journal_compact();
    }
    if (err)
    {
        restore_value( &old_value );
        restore_value( &old_gen );
    }
    if (key != root) RegCloseKey( key );
    RegCloseKey( root );
    record_times();
    return err;
}

/* portres_store_add: make the persistent reservation res durable (registry
 * and journal); store mutex held (portres_store_begin), pool not locked.  Returns a Win32 error (the registry's or the
 * file system's, e.g. ERROR_DISK_FULL); on error nothing was changed. */
LONG portres_store_add( const struct portres_reservation *res )
{
    struct portres_journal_entry e = { .op = PORTRES_JOURNAL_ADD, .proto = res->proto, .start = res->start,
                                       .count = res->count, .token = res->token };
    return store_change( &e );
}

/* portres_store_delete: delete the persistent reservation res durably, as
 * portres_store_add; a value already missing from the registry is not an
 * error */
LONG portres_store_delete( const struct portres_reservation *res )
{
    struct portres_journal_entry e = { .op = PORTRES_JOURNAL_DEL, .proto = res->proto, .start = res->start,
                                       .count = res->count, .token = res->token };
    return store_change( &e );
}

/* portres_store_dynamic: make start..start+count-1 (host order) the
 * dynamic port range of proto in the registry and the journal, durably;
 * old_start/old_count, the range it replaces, go into the journal line.
 * Store mutex held, pool not locked.  Returns a Win32 error (the
 * registry's or the file system's); on error nothing was changed. */
LONG portres_store_dynamic( enum portres_proto proto, USHORT start, USHORT count, USHORT old_start, USHORT old_count )
{
    struct portres_journal_entry e = { .op = PORTRES_JOURNAL_DYN, .proto = proto, .start = start, .count = count,
                                       .old_start = old_start, .old_count = old_count,
                                       .token = PORTRES_PERSISTENT_TOKEN_BIT | 1 };
    return store_change( &e );
}

/* portres_store_active: add (add = TRUE) or delete the active exclusion
 * res (netsh store=active) in the volatile registry key; pool locked.
 * Returns a Win32 error; ERROR_FILE_NOT_FOUND when deleting a missing
 * value. */
LONG portres_store_active( const struct portres_reservation *res, BOOL add )
{
    char name[PORTRES_REGVALUE_NAME_MAX], data[PORTRES_REGVALUE_DATA_MAX];
    HKEY key;
    LONG err;

    if (!portres_regvalue_name( name, sizeof(name), res->start, res->count ) ||
        !portres_regvalue_data( data, sizeof(data), res->token ))
        return ERROR_INVALID_PARAMETER;
    if ((err = open_key( KEY_ACTIVE_TCP + res->proto, TRUE, &key ))) return err;
    if (add) err = RegSetValueExA( key, name, 0, REG_SZ, (const BYTE *)data, strlen( data ) + 1 );
    else err = RegDeleteValueA( key, name );
    RegCloseKey( key );
    record_times();
    return err;
}

/* --- replay ---------------------------------------------------------------- */

static void replay_warn( void *ctx, const char *text )
{
    WARN( "%s\n", text );
    *(BOOL *)ctx = TRUE;
}

static BOOL same_item( const struct portres_store_item *a, const struct portres_store_item *b )
{
    return a->proto == b->proto && a->start == b->start && a->count == b->count && a->token == b->token;
}

static BOOL list_has( const struct portres_store_list *list, const struct portres_store_item *item )
{
    for (uint32_t i = 0; i < list->count; i++) if (same_item( &list->items[i], item )) return TRUE;
    return FALSE;
}

/* write into the registry what the replay changed from before to after */
static void write_replayed( const struct portres_store_list *before, const struct portres_store_list *after )
{
    char name[PORTRES_REGVALUE_NAME_MAX], data[PORTRES_REGVALUE_DATA_MAX];
    HKEY root, keys[PORTRES_PROTO_COUNT];
    unsigned int changes = 0;

    if (open_key( KEY_ROOT, TRUE, &root )) return;
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
        if (open_key( KEY_TCP + proto, TRUE, &keys[proto] )) keys[proto] = NULL;
    for (uint32_t i = 0; i < before->count; i++)
    {
        const struct portres_store_item *item = &before->items[i];
        if (list_has( after, item ) || !keys[item->proto]) continue;
        portres_regvalue_name( name, sizeof(name), item->start, item->count );
        RegDeleteValueA( keys[item->proto], name );
        changes++;
    }
    for (uint32_t i = 0; i < after->count; i++)
    {
        const struct portres_store_item *item = &after->items[i];
        if (list_has( before, item ) || !keys[item->proto]) continue;
        portres_regvalue_name( name, sizeof(name), item->start, item->count );
        portres_regvalue_data( data, sizeof(data), item->token );
        RegSetValueExA( keys[item->proto], name, 0, REG_SZ, (const BYTE *)data, strlen( data ) + 1 );
        changes++;
    }
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
    {
        if (before->dyn_first[proto] == after->dyn_first[proto] && before->dyn_count[proto] == after->dyn_count[proto])
            continue;
        portres_regvalue_name( name, sizeof(name), after->dyn_first[proto], after->dyn_count[proto] );
        RegSetValueExA( root, dynamic_values[proto], 0, REG_SZ, (const BYTE *)name, strlen( name ) + 1 );
        changes++;
    }
    if (after->gen > before->gen) set_generation( root, after->gen );
    if (changes) WARN( "replayed %u changes of the journal lost by the registry (generation %llu -> %llu)\n",
                       changes, (unsigned long long)before->gen, (unsigned long long)after->gen );
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++) if (keys[proto]) RegCloseKey( keys[proto] );
    RegCloseKey( root );
}

/* portres_store_init: set up the persistent part of a new pool: replay
 * the journal's changes the registry lost (a wineserver killed before it
 * saved it), then load the registry; pool locked.  A journal that cannot
 * be read or is damaged costs at most the entries concerned, each with a
 * WARN line. */
void portres_store_init( struct portres_pool *pool )
{
    struct portres_store_list *before = malloc( sizeof(*before) ), *after = malloc( sizeof(*after) );
    BOOL damaged = FALSE;
    DWORD len;
    char *text;

    if (before && after && portres_journal_enabled() && (text = portres_journal_read( &len )))
    {
        read_list( before );
        *after = *before;
        portres_journal_replay( text, len, after, replay_warn, &damaged );
        write_replayed( before, after );
        free( text );
        /* damaged lines are warned about once: the journal is rewritten without them */
        if (damaged) journal_compact();
    }
    free( before );
    free( after );
    store_load_dynamic( pool );
    store_load( pool );
    record_times();
}
