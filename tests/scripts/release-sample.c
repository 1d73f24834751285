/*
 * release-sample - shaped like Microsoft's SIO_ACQUIRE_PORT_RESERVATION
 * sample (wmain, <Windows.h.>, the usage line and its arguments):
 * acquire a runtime block, associate a second socket with it, bind that
 * socket to port 0 and check the port lands in the block, release.
 * tests/scripts/release.sh builds it against a release tarball's include/
 * with -municode and runs it in a prefix set up by setup_portres.sh.
 * Prints "sample: port P in block S-E" and exits 0 when all went right.
 */

#ifndef UNICODE
#define UNICODE
#endif
#define WIN32_LEAN_AND_MEAN

#include <Windows.h.>
#include <winsock2.h>
#include <mstcpip.h>
#include <ws2ipdef.h>
#include <stdio.h>
#include <stdlib.h>

int wmain( int argc, WCHAR **argv )
{
    INET_PORT_RANGE portRange;
    INET_PORT_RESERVATION_INSTANCE portRes = { 0 };
    INET_PORT_RESERVATION_TOKEN token;
    struct sockaddr_in addr = { 0 };
    int len = sizeof(addr), ret = 1;
    DWORD bytes = 0;
    unsigned short start, port;
    WSADATA wsaData;
    SOCKET sock, bound;

    if (argc != 3)
    {
        wprintf( L"usage: %ls <StartingPort> <NumberOfPorts>\n", argv[0] );
        wprintf( L"       StartingPort 0 asks for any free block of NumberOfPorts\n" );
        return 1;
    }
    portRange.StartPort = htons( (unsigned short)_wtoi( argv[1] ) );
    portRange.NumberOfPorts = (unsigned short)_wtoi( argv[2] );

    if (WSAStartup( MAKEWORD(2, 2), &wsaData ))
    {
        wprintf( L"WSAStartup failed\n" );
        return 1;
    }
    sock = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    bound = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    if (sock == INVALID_SOCKET || bound == INVALID_SOCKET)
    {
        wprintf( L"socket failed with error = %d\n", WSAGetLastError() );
        goto done;
    }
    if (WSAIoctl( sock, SIO_ACQUIRE_PORT_RESERVATION, &portRange, sizeof(portRange),
                  &portRes, sizeof(portRes), &bytes, NULL, NULL ) == SOCKET_ERROR)
    {
        wprintf( L"WSAIoctl(SIO_ACQUIRE_PORT_RESERVATION) failed with error = %d\n", WSAGetLastError() );
        goto done;
    }
    start = ntohs( portRes.Reservation.StartPort );
    wprintf( L"WSAIoctl(SIO_ACQUIRE_PORT_RESERVATION) returned %lu bytes: StartPort %u, NumberOfPorts %u, Token %I64x\n",
             bytes, start, portRes.Reservation.NumberOfPorts, portRes.Token.Token );

    token.Token = portRes.Token.Token;
    if (WSAIoctl( bound, SIO_ASSOCIATE_PORT_RESERVATION, &token, sizeof(token), NULL, 0, &bytes, NULL, NULL ) == SOCKET_ERROR)
    {
        wprintf( L"WSAIoctl(SIO_ASSOCIATE_PORT_RESERVATION) failed with error = %d\n", WSAGetLastError() );
        goto release;
    }
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    if (bind( bound, (SOCKADDR *)&addr, sizeof(addr) ) == SOCKET_ERROR ||
        getsockname( bound, (SOCKADDR *)&addr, &len ) == SOCKET_ERROR)
    {
        wprintf( L"bind failed with error = %d\n", WSAGetLastError() );
        goto release;
    }
    port = ntohs( addr.sin_port );
    wprintf( L"sample: port %u %ls block %u-%u\n", port,
             port >= start && port < start + portRes.Reservation.NumberOfPorts ? L"in" : L"OUTSIDE",
             start, start + portRes.Reservation.NumberOfPorts - 1 );
    if (port >= start && port < start + portRes.Reservation.NumberOfPorts) ret = 0;

release:
    if (WSAIoctl( sock, SIO_RELEASE_PORT_RESERVATION, &portRes.Token, sizeof(portRes.Token),
                  NULL, 0, &bytes, NULL, NULL ) == SOCKET_ERROR)
    {
        wprintf( L"WSAIoctl(SIO_RELEASE_PORT_RESERVATION) failed with error = %d\n", WSAGetLastError() );
        ret = 1;
    }
done:
    if (sock != INVALID_SOCKET) closesocket( sock );
    if (bound != INVALID_SOCKET) closesocket( bound );
    WSACleanup();
    return ret;
}
