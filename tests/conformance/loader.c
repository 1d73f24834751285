/*
 * Loading without Wine's builtin (Wine only)
 *
 * portres's iphlpapi.dll and ws2_32.dll forward every export they do not
 * implement to Wine's builtin DLL, found under %WINEDLLDIRn% (SPEC §5).
 * When it cannot be found, they refuse to load (DllMain fails) with an
 * err:portres line naming the paths tried, instead of loading with every
 * forwarded export failing.  This program imports neither DLL: it points
 * every WINEDLLDIRn at an empty folder and loads them itself.
 * tests/scripts/loader.sh checks the err: line.
 */

#include <windows.h>

#include "test.h"

/* TRUE if the system folder's copy of dll is portres's (installed in the prefix) */
static BOOL installed( const WCHAR *dll )
{
    WCHAR path[MAX_PATH];
    static char buf[1 << 20];
    HANDLE file;
    DWORD size = 0;
    BOOL found = FALSE;

    GetSystemDirectoryW( path, MAX_PATH );
    lstrcatW( path, L"\\" );
    lstrcatW( path, dll );
    file = CreateFileW( path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL );
    if (file == INVALID_HANDLE_VALUE) return FALSE;
    if (ReadFile( file, buf, sizeof(buf), &size, NULL ))
        for (DWORD i = 0; i + 8 <= size && !found; i++) found = !memcmp( buf + i, "portres_", 8 );
    CloseHandle( file );
    return found;
}

static void test_no_builtin( const WCHAR *dll )
{
    HMODULE mod;

    if (!installed( dll ))
    {
        skip( "%ls in the system folder is not portres's\n", dll );
        return;
    }
    SetLastError( 0xdeadbeef );
    mod = LoadLibraryW( dll );
    ok( mod == NULL, "%ls loaded without Wine's builtin\n", dll );
    ok( GetLastError() == ERROR_DLL_INIT_FAILED, "%ls: error %lu\n", dll, GetLastError() );
    if (mod) FreeLibrary( mod );
}

START_TEST(loader)
{
    WCHAR dir[MAX_PATH], var[16];

    if (!winetest_is_wine())
    {
        win_skip( "Wine's builtin DLLs exist only under Wine\n" );
        return;
    }
    GetTempPathW( MAX_PATH, dir );
    wsprintfW( dir + lstrlenW( dir ), L"portres-empty-%lu", GetCurrentProcessId() );
    ok( CreateDirectoryW( dir, NULL ), "cannot create %ls: %lu\n", dir, GetLastError() );
    for (int i = 0; i < 10; i++)
    {
        wsprintfW( var, L"WINEDLLDIR%d", i );
        SetEnvironmentVariableW( var, dir );
    }
    test_no_builtin( L"iphlpapi.dll" );
    test_no_builtin( L"ws2_32.dll" );
    RemoveDirectoryW( dir );
}
