/*
 * portres iphlpapi.dll: loading, and forwarding to Wine's builtin
 */

#include "iphlpapi_private.h"
#include "forward.h"
#include "shared.h"
#include "lock.h"
#include "debug.h"
#include "wine.h"
#include "host.h"

/* what an export Wine's builtin lacks does: fail with ERROR_NOT_SUPPORTED,
 * the error most IP Helper functions return for what they cannot do, as
 * the last error and, for those that return an error code (iphlpapi.spec
 * without -ret=), as the result; the others return their type's failure
 * value (-ret=) */
const enum portres_ret portres_missing_default = PORTRES_RET_DWORD;
const DWORD portres_missing_error = ERROR_NOT_SUPPORTED;

BOOL WINAPI DllMain( HINSTANCE instance, DWORD reason, void *reserved )
{
    HMODULE builtin;

    switch (reason)
    {
    case DLL_PROCESS_ATTACH:
        DisableThreadLibraryCalls( instance );
        builtin = portres_load_builtin( instance, L"iphlpapi.dll" );
        /* without Wine's builtin there is nothing to forward to: refuse to load */
        if (!builtin) return FALSE;
        portres_forward_init( builtin );
        /* hold the prefix's part of the host view while this process runs */
        portres_host_attach();
        break;
    case DLL_PROCESS_DETACH:
        /* process exit (reserved non-NULL): no lock, no registry; the
         * wineserver closes the owner event, which ends the reservations */
        if (!reserved) portres_shared_detach();
        break;
    }
    return TRUE;
}
