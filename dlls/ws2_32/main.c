/*
 * portres ws2_32.dll: loading, and forwarding to Wine's builtin
 */

#include "ws2_32_private.h"
#include "forward.h"
#include "debug.h"
#include "host.h"

/* what an export Wine's builtin lacks does: fail as Winsock fails, with
 * WSAEOPNOTSUPP and the failure value of its return type (ws2_32.spec's
 * -ret=; SOCKET_ERROR without one) */
const enum portres_ret portres_missing_default = PORTRES_RET_INT;
const DWORD portres_missing_error = WSAEOPNOTSUPP;

struct ws2_32_builtin builtin;

/* load Wine's builtin and the functions portres calls; FALSE (after an
 * err: line) if it or one of them cannot be found */
static BOOL load_builtin( HINSTANCE instance )
{
    HMODULE mod = portres_load_builtin( instance, L"ws2_32.dll" );
    const char *missing = NULL;
    WCHAR path[MAX_PATH];

    portres_forward_init( mod );
    if (!mod) return FALSE;
#define GET(name) if (!(builtin.name = (void *)GetProcAddress( mod, #name ))) missing = #name
    GET(accept);
    GET(bind);
    GET(closesocket);
    GET(connect);
    GET(getsockname);
    GET(getsockopt);
    GET(recv);
    GET(send);
    GET(sendto);
    GET(setsockopt);
    GET(socket);
    GET(WSAAccept);
    GET(WSAConnect);
    GET(WSAConnectByNameA);
    GET(WSAConnectByNameW);
    GET(WSACleanup);
    GET(WSAGetLastError);
    GET(WSAIoctl);
    GET(WSASendMsg);
    GET(WSASendTo);
    GET(WSASocketA);
    GET(WSASocketW);
#undef GET
    if (!missing) return TRUE;
    if (!GetModuleFileNameW( mod, path, ARRAYSIZE(path) )) path[0] = 0;
    ERR( "Wine's builtin %ls lacks %s: not loading portres's ws2_32.dll\n", path, missing );
    FreeLibrary( mod );
    return FALSE;
}

BOOL WINAPI DllMain( HINSTANCE instance, DWORD reason, void *reserved )
{
    switch (reason)
    {
    case DLL_PROCESS_ATTACH:
        DisableThreadLibraryCalls( instance );
        /* without Wine's builtin there is nothing to forward to: refuse to load */
        if (!load_builtin( instance )) return FALSE;
        /* hold the prefix's part of the host view while this process runs */
        portres_host_attach();
        return TRUE;
    case DLL_PROCESS_DETACH:
        /* process exit (reserved non-NULL): no lock, no registry; the
         * wineserver closes the owner event, which ends the reservations */
        if (!reserved) portres_shared_detach();
        break;
    }
    return TRUE;
}
