/*
 * include/mstcpip.h: INET_PORT_RESERVATION_INSTANCE for plain C with
 * mingw-w64 (SPEC §1): named members, 16 bytes, Token at offset 8, used
 * with mingw-w64's own winsock2.h/ws2tcpip.h/mswsock.h.  Built, like every
 * test here, with -Iinclude and without -fms-extensions.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <mstcpip.h>
#include <stddef.h>

#include "test.h"

static void test_layout( void )
{
    INET_PORT_RESERVATION_INSTANCE inst;

    ok( sizeof(INET_PORT_RESERVATION_INSTANCE) == 16, "sizeof is %u\n", (unsigned)sizeof(inst) );
    ok( offsetof(INET_PORT_RESERVATION_INSTANCE, Reservation) == 0, "Reservation at %u\n",
        (unsigned)offsetof(INET_PORT_RESERVATION_INSTANCE, Reservation) );
    ok( offsetof(INET_PORT_RESERVATION_INSTANCE, Token) == 8, "Token at %u\n",
        (unsigned)offsetof(INET_PORT_RESERVATION_INSTANCE, Token) );
    ok( sizeof(inst.Reservation) == 4 && sizeof(inst.Token.Token) == 8, "member sizes %u %u\n",
        (unsigned)sizeof(inst.Reservation), (unsigned)sizeof(inst.Token.Token) );
    ok( SIO_ACQUIRE_PORT_RESERVATION == 0x98000064 && SIO_RELEASE_PORT_RESERVATION == 0x98000065 &&
        SIO_ASSOCIATE_PORT_RESERVATION == 0x98000066, "ioctl codes\n" );
}

/* the members filled by a real acquire */
static void test_acquire( void )
{
    SOCKET s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    INET_PORT_RANGE range = { 0, 8 };
    INET_PORT_RESERVATION_INSTANCE inst;
    PINET_PORT_RESERVATION_INSTANCE p = &inst;
    DWORD bytes = 0;

    memset( &inst, 0, sizeof(inst) );
    ok( !WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes, NULL, NULL ),
        "acquire failed %d\n", WSAGetLastError() );
    ok( bytes == sizeof(inst), "bytes %lu\n", bytes );
    ok( ntohs( p->Reservation.StartPort ) >= 1024 && p->Reservation.NumberOfPorts == 8, "block %u+%u\n",
        ntohs( p->Reservation.StartPort ), p->Reservation.NumberOfPorts );
    ok( p->Token.Token != INVALID_PORT_RESERVATION_TOKEN, "token 0\n" );
    ok( !WSAIoctl( s, SIO_RELEASE_PORT_RESERVATION, &inst.Token, sizeof(inst.Token), NULL, 0, &bytes, NULL, NULL ),
        "release failed %d\n", WSAGetLastError() );
    closesocket( s );
}

START_TEST(header)
{
    WSADATA data;

    WSAStartup( MAKEWORD( 2, 2 ), &data );
    test_layout();
    test_acquire();
    WSACleanup();
}
