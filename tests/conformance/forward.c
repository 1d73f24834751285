/*
 * Every export portres does not implement is Wine's builtin's (SPEC §5)
 *
 * Forwarded calls behave as the builtin's (right on Windows too, where the
 * DLLs are the system's); under Wine, an export the builtin lacks fails
 * cleanly through portres's stub with the failure value of its return
 * type (SOCKET_ERROR, NULL, FALSE, 0, or an error code) and the DLL's
 * error (WSAEOPNOTSUPP, ERROR_NOT_SUPPORTED) as the last error, never an
 * abort.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <iphlpapi.h>

#include "test.h"

static void test_forwarded( void )
{
    char name[256];
    ULONG size = 0;
    struct addrinfo *info = NULL, hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };

    ok( htons( 0x1234 ) == 0x3412 && ntohl( 0x11223344 ) == 0x44332211, "byte order functions\n" );
    ok( !gethostname( name, sizeof(name) ) && name[0], "gethostname failed %d\n", WSAGetLastError() );
    ok( !getaddrinfo( "127.0.0.1", "80", &hints, &info ) && info, "getaddrinfo failed\n" );
    if (info)
    {
        ok( ((struct sockaddr_in *)info->ai_addr)->sin_port == htons( 80 ), "wrong port\n" );
        freeaddrinfo( info );
    }
    ok( inet_addr( "127.0.0.1" ) == htonl( INADDR_LOOPBACK ), "inet_addr\n" );
    ok( GetAdaptersAddresses( AF_UNSPEC, 0, NULL, NULL, &size ) == ERROR_BUFFER_OVERFLOW && size,
        "GetAdaptersAddresses size query\n" );
    ok( socket( 12345, SOCK_STREAM, 0 ) == INVALID_SOCKET && WSAGetLastError() == WSAEAFNOSUPPORT,
        "socket with a bad family: %d\n", WSAGetLastError() );
}

static void test_missing( void )
{
    HMODULE ws2 = GetModuleHandleA( "ws2_32.dll" ), iphlp = GetModuleHandleA( "iphlpapi.dll" );
    DWORD (WINAPI *pWahOpenCurrentThread)( HANDLE, HANDLE * );
    DWORD (WINAPI *pCreateAnycastIpAddressEntry)( const void * );
    void *(WINAPI *pWahReferenceContextByHandle)( void *, HANDLE );
    INT (WINAPI *pGetAddrInfoExA)( const char *, const char *, DWORD, GUID *, const void *, void **,
                                   struct timeval *, OVERLAPPED *, void *, HANDLE * );
    ULONG (WINAPI *pGetCurrentThreadCompartmentId)( void );
    void (WINAPI *pInitializeIpForwardEntry)( void * );
    HANDLE thread = NULL;
    DWORD ret;

    if (!winetest_is_wine())
    {
        /* Windows has these functions for real: nothing of portres's to test */
        win_skip( "the missing-export stubs exist only in portres's DLLs under Wine\n" );
        return;
    }
    pWahOpenCurrentThread = (void *)GetProcAddress( ws2, "WahOpenCurrentThread" );
    pCreateAnycastIpAddressEntry = (void *)GetProcAddress( iphlp, "CreateAnycastIpAddressEntry" );
    ok( pWahOpenCurrentThread != NULL, "ws2_32 does not export WahOpenCurrentThread\n" );
    ok( pCreateAnycastIpAddressEntry != NULL, "iphlpapi does not export CreateAnycastIpAddressEntry\n" );
    if (pWahOpenCurrentThread)
    {
        SetLastError( 0 );
        ret = pWahOpenCurrentThread( NULL, &thread );
        ok( ret == (DWORD)SOCKET_ERROR && GetLastError() == WSAEOPNOTSUPP, "WahOpenCurrentThread: %lu, %lu\n",
            ret, GetLastError() );
    }
    if (pCreateAnycastIpAddressEntry)
    {
        ret = pCreateAnycastIpAddressEntry( NULL );
        ok( ret == ERROR_NOT_SUPPORTED, "CreateAnycastIpAddressEntry: %lu\n", ret );
    }

    /* each with its own type's failure value */
    pWahReferenceContextByHandle = (void *)GetProcAddress( ws2, "WahReferenceContextByHandle" );
    pGetAddrInfoExA = (void *)GetProcAddress( ws2, "GetAddrInfoExA" );
    pGetCurrentThreadCompartmentId = (void *)GetProcAddress( iphlp, "GetCurrentThreadCompartmentId" );
    pInitializeIpForwardEntry = (void *)GetProcAddress( iphlp, "InitializeIpForwardEntry" );
    if (pWahReferenceContextByHandle)
    {
        void *ptr;
        SetLastError( 0 );
        ptr = pWahReferenceContextByHandle( NULL, NULL );
        ok( ptr == NULL && GetLastError() == WSAEOPNOTSUPP, "WahReferenceContextByHandle (pointer): %p, %lu\n",
            ptr, GetLastError() );
    }
    else ok( 0, "ws2_32 does not export WahReferenceContextByHandle\n" );
    if (pGetAddrInfoExA)
    {
        SetLastError( 0 );
        ret = pGetAddrInfoExA( "localhost", NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL );
        ok( ret == WSAEOPNOTSUPP && GetLastError() == WSAEOPNOTSUPP, "GetAddrInfoExA (error code): %lu, %lu\n",
            ret, GetLastError() );
    }
    else ok( 0, "ws2_32 does not export GetAddrInfoExA\n" );
    if (pGetCurrentThreadCompartmentId)
    {
        SetLastError( 0 );
        ret = pGetCurrentThreadCompartmentId();
        /* the stub's failure where the builtin lacks it (Wine 8); the
         * builtin's primary compartment, 1, where it has it (Wine 10, Windows) */
        ok( (ret == 0 && GetLastError() == ERROR_NOT_SUPPORTED) || ret == 1,
            "GetCurrentThreadCompartmentId (id): %lu, %lu\n", ret, GetLastError() );
    }
    else ok( 0, "iphlpapi does not export GetCurrentThreadCompartmentId\n" );
    if (pInitializeIpForwardEntry)
    {
        SetLastError( 0 );
        pInitializeIpForwardEntry( NULL );  /* void: returns, no crash */
        ok( GetLastError() == ERROR_NOT_SUPPORTED, "InitializeIpForwardEntry: error %lu\n", GetLastError() );
    }
    else ok( 0, "iphlpapi does not export InitializeIpForwardEntry\n" );
}

START_TEST(forward)
{
    WSADATA data;

    WSAStartup( MAKEWORD( 2, 2 ), &data );
    test_forwarded();
    test_missing();
    WSACleanup();
}
