/*
 * The persistent store: the prefix's registry (SPEC §2, §5)
 *
 * HKLM\Software\Wine\Portres\Tcp and \Udp hold one value per persistent
 * reservation (format: regvalue.c); HKLM\Software\Wine\Portres holds the
 * dynamic port ranges.  The 64-bit view is used by every process, so 32-bit
 * and 64-bit processes share one list.
 */

#include <stdio.h>

#include "shared.h"
#include "debug.h"

static const WCHAR *const proto_keys[PORTRES_PROTO_COUNT] = { L"Tcp", L"Udp" };

static HKEY open_proto_key( enum portres_proto proto, BOOL create )
{
    WCHAR path[64];
    HKEY key;
    LONG err;

    swprintf( path, ARRAYSIZE(path), L"%ls\\%ls", PORTRES_REGISTRY_KEY, proto_keys[proto] );
    /* KEY_WOW64_64KEY: 32-bit and 64-bit processes share one list */
    if (create)
        err = RegCreateKeyExW( HKEY_LOCAL_MACHINE, path, 0, NULL, 0, KEY_READ | KEY_WRITE | KEY_WOW64_64KEY,
                               NULL, &key, NULL );
    else
        err = RegOpenKeyExW( HKEY_LOCAL_MACHINE, path, 0, KEY_READ | KEY_WOW64_64KEY, &key );
    return err ? NULL : key;
}

/* portres_store_load: load the persistent reservations of the prefix's
 * registry into the pool;
 * malformed or conflicting values are skipped with a WARN line */
void portres_store_load( struct portres_pool *pool )
{
    for (int proto = 0; proto < PORTRES_PROTO_COUNT; proto++)
    {
        HKEY key = open_proto_key( proto, FALSE );
        char name[64], data[64];

        if (!key) continue;
        for (DWORD i = 0;; i++)
        {
            DWORD name_len = sizeof(name), data_len = sizeof(data) - 1, type;
            struct portres_reservation res;
            LONG err = RegEnumValueA( key, i, name, &name_len, NULL, &type, (BYTE *)data, &data_len );

            if (err == ERROR_NO_MORE_ITEMS) break;
            if (err == ERROR_MORE_DATA || (!err && type != REG_SZ))
            {
                WARN( "skipping malformed %ls value %u\n", proto_keys[proto], (unsigned)i );
                continue;
            }
            if (err) break;
            data[data_len] = 0;
            if (!portres_regvalue_parse( name, data, proto, &res ))
                WARN( "skipping malformed %ls value %s=%s\n", proto_keys[proto], name, data );
            else if (!portres_pool_add( pool, &res ))
                WARN( "skipping conflicting %ls value %s=%s\n", proto_keys[proto], name, data );
        }
        RegCloseKey( key );
    }
}

static const char *const dynamic_values[PORTRES_PROTO_COUNT] = { "TcpDynamicPortRange", "UdpDynamicPortRange" };

/* portres_store_load_dynamic: load the dynamic port ranges set with `portres int ipv4 set dynamicport` */
void portres_store_load_dynamic( struct portres_pool *pool )
{
    HKEY key;

    if (RegOpenKeyExW( HKEY_LOCAL_MACHINE, PORTRES_REGISTRY_KEY, 0, KEY_READ | KEY_WOW64_64KEY, &key )) return;
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

/* portres_set_dynamic_range: make start..start+count-1 (host order) the
 * dynamic port range of proto, in the registry and the pool; returns a
 * Win32 error: ERROR_INVALID_PARAMETER outside netsh's limits (see
 * portres_dynamic_range_valid) */
LONG portres_set_dynamic_range( enum portres_proto proto, USHORT start, USHORT count )
{
    char data[PORTRES_REGVALUE_NAME_MAX];
    struct portres_pool *pool;
    HKEY key;
    LONG err;

    if (!portres_dynamic_range_valid( start, count ) || !portres_regvalue_name( data, sizeof(data), start, count ))
        return ERROR_INVALID_PARAMETER;
    if (!(pool = portres_lock())) return ERROR_NOT_ENOUGH_MEMORY;
    if (!(err = RegCreateKeyExW( HKEY_LOCAL_MACHINE, PORTRES_REGISTRY_KEY, 0, NULL, 0,
                                 KEY_WRITE | KEY_WOW64_64KEY, NULL, &key, NULL )))
    {
        err = RegSetValueExA( key, dynamic_values[proto], 0, REG_SZ, (const BYTE *)data, strlen( data ) + 1 );
        RegCloseKey( key );
    }
    if (!err)
    {
        pool->dyn_first[proto] = start;
        pool->dyn_count[proto] = count;
    }
    portres_unlock();
    return err;
}

/* portres_registry_store: add (add = TRUE) or delete the registry value of
 * persistent reservation res; returns a Win32 error code */
LONG portres_registry_store( enum portres_proto proto, const struct portres_reservation *res, BOOL add )
{
    char name[PORTRES_REGVALUE_NAME_MAX], data[PORTRES_REGVALUE_DATA_MAX];
    HKEY key;
    LONG err;

    if (!portres_regvalue_name( name, sizeof(name), res->start, res->count ) ||
        !portres_regvalue_data( data, sizeof(data), res->token ))
        return ERROR_INVALID_PARAMETER;
    if (!(key = open_proto_key( proto, TRUE ))) return ERROR_ACCESS_DENIED;
    if (add) err = RegSetValueExA( key, name, 0, REG_SZ, (const BYTE *)data, strlen( data ) + 1 );
    else err = RegDeleteValueA( key, name );
    RegCloseKey( key );
    return err;
}

