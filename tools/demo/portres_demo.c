/*
 * portres_demo - walks every port reservation flow and prints each step
 *
 * Persistent TCP and UDP: create, lookup, associate, bind, delete.
 * Runtime, specific and wildcard: acquire, associate, bind, release.
 * Then one refused request of each kind, with its error code.
 * Exit code 0 when every step behaved as doc/behaviour.md says, 1 otherwise.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <iphlpapi.h>
#include <stdio.h>

/* below Linux's ephemeral range (32768-60999 by default): no connection
 * whose port the kernel chose can hold these, so the demo's blocks are
 * free on a busy machine too */
#define PERSISTENT_START 28100
#define PERSISTENT_COUNT 10
#define RUNTIME_START    28200
#define RUNTIME_COUNT    5

static int failures;

static void step( const char *what, long got, long expected, const char *detail )
{
    int good = got == expected;
    printf( "%-58s %-6ld %s%s\n", what, got, good ? "ok" : "UNEXPECTED", detail ? detail : "" );
    if (!good)
    {
        printf( "    expected %ld\n", expected );
        failures++;
    }
    fflush( stdout );
}

static int ioctl_error( SOCKET s, DWORD code, void *in, DWORD in_size, void *out, DWORD out_size )
{
    DWORD bytes = 0;
    if (!WSAIoctl( s, code, in, in_size, out, out_size, &bytes, NULL, NULL )) return 0;
    return WSAGetLastError();
}

/* associate a new socket with token, bind it to loopback port 0, print the port it got */
static void associate_and_bind( int type, ULONG64 token, USHORT start, USHORT count, const char *what )
{
    INET_PORT_RESERVATION_TOKEN tok = { token };
    struct sockaddr_in addr = { .sin_family = AF_INET };
    int len = sizeof(addr);
    char text[128], detail[64];
    SOCKET s = socket( AF_INET, type, type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP );
    USHORT port;

    snprintf( text, sizeof(text), "  associate a %s socket", what );
    step( text, ioctl_error( s, SIO_ASSOCIATE_PORT_RESERVATION, &tok, sizeof(tok), NULL, 0 ), 0, NULL );

    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    snprintf( text, sizeof(text), "  bind 127.0.0.1:0" );
    step( text, bind( s, (struct sockaddr *)&addr, sizeof(addr) ) ? WSAGetLastError() : 0, 0, NULL );
    getsockname( s, (struct sockaddr *)&addr, &len );
    port = ntohs( addr.sin_port );
    snprintf( detail, sizeof(detail), "  (port %u, block %u-%u)", port, start, start + count - 1 );
    step( "  the port it got is inside the block", port >= start && port < start + count, 1, detail );
    closesocket( s );
}

static void persistent_flow( BOOL tcp )
{
    const char *name = tcp ? "TCP" : "UDP";
    ULONG64 token = 0, found = 0;
    char text[128], detail[64];
    ULONG err;

    printf( "\n== persistent %s reservation %u-%u\n", name, PERSISTENT_START, PERSISTENT_START + PERSISTENT_COUNT - 1 );
    snprintf( text, sizeof(text), "CreatePersistent%sPortReservation", tcp ? "Tcp" : "Udp" );
    err = tcp ? CreatePersistentTcpPortReservation( htons( PERSISTENT_START ), PERSISTENT_COUNT, &token )
              : CreatePersistentUdpPortReservation( htons( PERSISTENT_START ), PERSISTENT_COUNT, &token );
    snprintf( detail, sizeof(detail), "  (token %#llx)", (unsigned long long)token );
    step( text, err, NO_ERROR, detail );
    if (err) return;

    snprintf( text, sizeof(text), "LookupPersistent%sPortReservation", tcp ? "Tcp" : "Udp" );
    err = tcp ? LookupPersistentTcpPortReservation( htons( PERSISTENT_START ), PERSISTENT_COUNT, &found )
              : LookupPersistentUdpPortReservation( htons( PERSISTENT_START ), PERSISTENT_COUNT, &found );
    step( text, err, NO_ERROR, NULL );
    step( "  lookup gives the token create gave", found == token, 1, NULL );

    associate_and_bind( tcp ? SOCK_STREAM : SOCK_DGRAM, token, PERSISTENT_START, PERSISTENT_COUNT, name );

    snprintf( text, sizeof(text), "DeletePersistent%sPortReservation", tcp ? "Tcp" : "Udp" );
    err = tcp ? DeletePersistentTcpPortReservation( htons( PERSISTENT_START ), PERSISTENT_COUNT )
              : DeletePersistentUdpPortReservation( htons( PERSISTENT_START ), PERSISTENT_COUNT );
    step( text, err, NO_ERROR, NULL );
}

static void runtime_flow( int type, USHORT start, USHORT count )
{
    const char *name = type == SOCK_STREAM ? "TCP" : "UDP";
    SOCKET s = socket( AF_INET, type, type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP );
    INET_PORT_RANGE range = { htons( start ), count };
    INET_PORT_RESERVATION_INSTANCE inst = { 0 };
    char text[128], detail[96];
    DWORD bytes = 0;
    int err;

    printf( "\n== runtime %s reservation, %s\n", name, start ? "specific block" : "wildcard (StartPort 0)" );
    err = WSAIoctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst), &bytes, NULL, NULL )
          ? WSAGetLastError() : 0;
    snprintf( detail, sizeof(detail), "  (block %u-%u, token %#llx, %lu bytes)", ntohs( inst.Reservation.StartPort ),
              ntohs( inst.Reservation.StartPort ) + inst.Reservation.NumberOfPorts - 1,
              (unsigned long long)inst.Token.Token, bytes );
    snprintf( text, sizeof(text), "SIO_ACQUIRE_PORT_RESERVATION %u+%u", start, count );
    step( text, err, 0, detail );
    if (err) { closesocket( s ); return; }
    if (!start) step( "  the block is inside the dynamic port range 49152-65535",
                      ntohs( inst.Reservation.StartPort ) >= 49152, 1, NULL );

    associate_and_bind( type, inst.Token.Token, ntohs( inst.Reservation.StartPort ),
                        inst.Reservation.NumberOfPorts, name );

    step( "SIO_RELEASE_PORT_RESERVATION",
          ioctl_error( s, SIO_RELEASE_PORT_RESERVATION, &inst.Token, sizeof(inst.Token), NULL, 0 ), 0, NULL );
    closesocket( s );
}

static void refusals( void )
{
    SOCKET s = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP ), bound;
    INET_PORT_RANGE range = { htons( RUNTIME_START ), RUNTIME_COUNT };
    INET_PORT_RESERVATION_INSTANCE inst, other;
    INET_PORT_RESERVATION_TOKEN zero = { 0 };
    struct sockaddr_in addr = { .sin_family = AF_INET };
    ULONG64 token = 0;

    printf( "\n== refused requests\n" );
    step( "CreatePersistentTcpPortReservation(0 ports)",
          CreatePersistentTcpPortReservation( htons( PERSISTENT_START ), 0, &token ), ERROR_INVALID_PARAMETER, NULL );
    step( "LookupPersistentTcpPortReservation(no such block)",
          LookupPersistentTcpPortReservation( htons( PERSISTENT_START ), PERSISTENT_COUNT, &token ), ERROR_NOT_FOUND, NULL );
    step( "DeletePersistentUdpPortReservation(no such block)",
          DeletePersistentUdpPortReservation( htons( PERSISTENT_START ), PERSISTENT_COUNT ), ERROR_NOT_FOUND, NULL );

    if (!ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst) ))
    {
        step( "CreatePersistentTcpPortReservation(over a runtime block)",
              CreatePersistentTcpPortReservation( htons( RUNTIME_START + 2 ), 5, &token ), ERROR_SHARING_VIOLATION, NULL );
        step( "SIO_ACQUIRE_PORT_RESERVATION(overlapping block)",
              ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &other, sizeof(other) ),
              WSAEADDRINUSE, NULL );
        ioctl_error( s, SIO_RELEASE_PORT_RESERVATION, &inst.Token, sizeof(inst.Token), NULL, 0 );
    }
    else step( "SIO_ACQUIRE_PORT_RESERVATION(free block)", WSAGetLastError(), 0, NULL );

    step( "SIO_ACQUIRE_PORT_RESERVATION(short output buffer)",
          ioctl_error( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, 8 ), WSAEINVAL, NULL );
    step( "SIO_RELEASE_PORT_RESERVATION(token 0)",
          ioctl_error( s, SIO_RELEASE_PORT_RESERVATION, &zero, sizeof(zero), NULL, 0 ), WSAEINVAL, NULL );

    bound = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP );
    addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
    bind( bound, (struct sockaddr *)&addr, sizeof(addr) );
    step( "SIO_ASSOCIATE_PORT_RESERVATION(socket already bound)",
          ioctl_error( bound, SIO_ASSOCIATE_PORT_RESERVATION, &zero, sizeof(zero), NULL, 0 ), WSAEINVAL, NULL );
    closesocket( bound );
    closesocket( s );
}

int main( void )
{
    WSADATA data;

    setvbuf( stdout, NULL, _IONBF, 0 );
    if (WSAStartup( MAKEWORD( 2, 2 ), &data ))
    {
        printf( "WSAStartup failed\n" );
        return 1;
    }
    printf( "portres demo: every port reservation flow, step by step\n" );
    persistent_flow( TRUE );
    persistent_flow( FALSE );
    runtime_flow( SOCK_STREAM, RUNTIME_START, RUNTIME_COUNT );
    runtime_flow( SOCK_DGRAM, 0, 100 );
    runtime_flow( SOCK_STREAM, 0, 100 );
    refusals();
    printf( "\n%s: %d unexpected result%s\n", failures ? "FAILED" : "done", failures, failures == 1 ? "" : "s" );
    WSACleanup();
    return failures ? 1 : 0;
}
