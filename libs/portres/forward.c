/*
 * Finding Wine's builtin DLL and forwarding to it
 *
 * behaviour §5: a proxy next to the program gets the builtin back from
 * LoadLibraryW(<system dir>\name); a proxy installed in system32 gets
 * itself from that call and must load the builtin by its path under
 * %WINEDLLDIRn%.  Both cases are handled by trying the path first.
 */

#include <stdio.h>
#include <wchar.h>

#include "forward.h"
#include "debug.h"
#include "wine.h"

#ifdef _WIN64
# define BUILTIN_ARCH_DIR L"x86_64-windows"
#else
# define BUILTIN_ARCH_DIR L"i386-windows"
#endif

static HMODULE try_load( HMODULE self, const WCHAR *path )
{
    HMODULE mod = LoadLibraryW( path );
    if (mod && mod == self)
    {
        FreeLibrary( mod );
        return NULL;
    }
    return mod;
}

/* portres_load_builtin: load Wine's builtin DLL of this name (e.g.
 * L"ws2_32.dll"), never returning self.  NULL outside Wine or when no
 * builtin is found, after an err: line naming every path tried. */
HMODULE portres_load_builtin( HMODULE self, const WCHAR *name )
{
    WCHAR dir[MAX_PATH], path[MAX_PATH + 64], tried[4 * (MAX_PATH + 64)] = L"";
    HMODULE mod;

    for (int i = 0; i < 10; i++)
    {
        if (!wine_dll_dir( i, dir, ARRAYSIZE(dir) )) continue;
        swprintf( path, ARRAYSIZE(path), L"%ls\\%ls\\%ls", dir, BUILTIN_ARCH_DIR, name );
        if ((mod = try_load( self, path ))) return mod;
        if (wcslen( tried ) + wcslen( path ) + 3 < ARRAYSIZE(tried))
        {
            if (tried[0]) wcscat( tried, L", " );
            wcscat( tried, path );
        }
    }
    if (GetSystemDirectoryW( dir, ARRAYSIZE(dir) ))
    {
        swprintf( path, ARRAYSIZE(path), L"%ls\\%ls", dir, name );
        if ((mod = try_load( self, path ))) return mod;
        if (wcslen( tried ) + wcslen( path ) + 3 < ARRAYSIZE(tried))
        {
            if (tried[0]) wcscat( tried, L", " );
            wcscat( tried, path );
        }
    }
    ERR( "Wine's builtin %ls not found (tried %ls): not loading portres's %ls\n", name, tried, name );
    return NULL;
}

/* portres_forward_init: point every forwarded export at the builtin's
 * function; exports the builtin lacks keep their missing-export stub */
void portres_forward_init( HMODULE builtin )
{
    unsigned int missing = 0;

    if (!builtin) return;
    for (unsigned int i = 0; i < portres_forward_count; i++)
    {
        const struct portres_forward *fwd = &portres_forward_exports[i];
        FARPROC proc = GetProcAddress( builtin, fwd->noname ? (LPCSTR)(ULONG_PTR)fwd->ordinal : fwd->name );
        if (proc) portres_forward_table[i] = (void *)proc;
        else missing++;
    }
    TRACE( "%u of %u forwarded exports are missing from the builtin\n", missing, portres_forward_count );
}

/* portres_missing_export: called by the stub of an export the builtin
 * lacks; sets the DLL's error and returns the failure value of the
 * export's return type (its spec line's -ret=), never aborts */
ULONG_PTR __cdecl portres_missing_export( unsigned int index )
{
    enum portres_ret ret = portres_missing_default;

    if (index < portres_forward_count)
    {
        WARN( "%s is not implemented by Wine's builtin\n", portres_forward_exports[index].name );
        if (portres_forward_exports[index].ret != PORTRES_RET_DEFAULT) ret = portres_forward_exports[index].ret;
    }
    SetLastError( portres_missing_error );
    switch (ret)
    {
    case PORTRES_RET_DEFAULT:
    case PORTRES_RET_INT:    return (ULONG_PTR)(LONG_PTR)-1;  /* SOCKET_ERROR */
    case PORTRES_RET_SOCKET: return ~(ULONG_PTR)0;            /* INVALID_SOCKET */
    case PORTRES_RET_DWORD:  return portres_missing_error;
    case PORTRES_RET_BOOL:
    case PORTRES_RET_PTR:
    case PORTRES_RET_COUNT:
    case PORTRES_RET_VOID:   break;
    }
    return 0;
}
