/*
 * stress - many processes acquiring, associating, binding and releasing
 * overlapping blocks at once (concurrency)
 *
 *   stress run PROCESSES CYCLES [SECONDS]   the driver: starts the workers
 *   stress worker ID CYCLES SECONDS         one worker
 *   stress hold PORT                        acquire TCP+UDP PORT..PORT+9, print "held", sleep
 *   stress check                            print the pool's live reservations, exit 1 if any
 *   stress persist fill|verify|clear K      K persistent one-port TCP reservations
 *                                           at 20000, 20002, ... (verify: all found)
 *
 * Every worker cycles on blocks drawn from 47000-47099, so they collide
 * constantly.  A ledger in a named section of its own records, per port
 * and protocol, which worker the pool granted it to: a grant over a port
 * already in the ledger is a block granted twice.  A port-0 bind of an
 * associated socket outside its block, or a bind that fails although the
 * block is the worker's, is a violation too.  Loopback only; every loop is
 * bounded in count and time.
 */

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mstcpip.h>
#include <stdio.h>
#include <stdlib.h>

#include <iphlpapi.h>

#include "pool.h"
#include "names.h"

#define BASE_PORT  47000
#define PORT_SPAN  100

static volatile LONG *ledger;  /* [proto][port]: process id of the holder, 0 when free */

/* a ledger entry of a killed worker is stale: the pool gave its blocks back */
static BOOL process_alive( DWORD pid )
{
    HANDLE process = OpenProcess( PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid );
    DWORD code = 0;

    if (!process) return FALSE;
    GetExitCodeProcess( process, &code );
    CloseHandle( process );
    return code == STILL_ACTIVE;
}

static unsigned int next_random( unsigned int *seed )
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 16;
}

static void open_ledger( void )
{
    HANDLE map = CreateFileMappingW( INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 2 * 65536 * sizeof(LONG),
                                     L"Local\\portres-stress-ledger" );
    ledger = map ? MapViewOfFile( map, FILE_MAP_ALL_ACCESS, 0, 0, 0 ) : NULL;
    if (!ledger)
    {
        printf( "cannot map the ledger: %lu\n", GetLastError() );
        exit( 2 );
    }
}

static int ioctl( SOCKET s, DWORD code, void *in, DWORD in_size, void *out, DWORD out_size )
{
    DWORD bytes;
    return WSAIoctl( s, code, in, in_size, out, out_size, &bytes, NULL, NULL ) ? WSAGetLastError() : 0;
}

static int worker( int id, int cycles, DWORD seconds )
{
    DWORD deadline = GetTickCount() + seconds * 1000;
    unsigned int seed = GetCurrentProcessId() * 2654435761u, grants = 0, conflicts = 0, violations = 0, done;

    for (done = 0; done < (unsigned)cycles && (LONG)(GetTickCount() - deadline) < 0; done++)
    {
        int udp = next_random( &seed ) & 1, proto = udp ? PORTRES_UDP : PORTRES_TCP;
        int type = udp ? SOCK_DGRAM : SOCK_STREAM, ipproto = udp ? IPPROTO_UDP : IPPROTO_TCP;
        INET_PORT_RANGE range;
        INET_PORT_RESERVATION_INSTANCE inst;
        struct sockaddr_in addr = { .sin_family = AF_INET };
        int len = sizeof(addr), err, close_to_release = next_random( &seed ) % 4 == 0;
        USHORT start, count, port;
        SOCKET s, b;

        range.StartPort = htons( BASE_PORT + next_random( &seed ) % (PORT_SPAN - 8) );
        range.NumberOfPorts = 1 + next_random( &seed ) % 8;
        s = socket( AF_INET, type, ipproto );
        if ((err = ioctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst) )))
        {
            if (err == WSAEADDRINUSE) conflicts++;
            else { printf( "worker %d: acquire failed %d\n", id, err ); violations++; }
            closesocket( s );
            continue;
        }
        grants++;
        start = ntohs( inst.Reservation.StartPort );
        count = inst.Reservation.NumberOfPorts;
        for (unsigned int p = start; p < start + count; p++)
        {
            volatile LONG *entry = &ledger[proto * 65536 + p];
            LONG self = GetCurrentProcessId(), other;

            while ((other = InterlockedCompareExchange( entry, self, 0 )))
            {
                if (process_alive( other ))
                {
                    printf( "worker %d: %s port %u granted while process %04lx holds it\n", id,
                            udp ? "UDP" : "TCP", p, other );
                    violations++;
                    break;
                }
                InterlockedCompareExchange( entry, 0, other );
            }
        }

        b = socket( AF_INET, type, ipproto );
        addr.sin_addr.s_addr = htonl( INADDR_LOOPBACK );
        if ((err = ioctl( b, SIO_ASSOCIATE_PORT_RESERVATION, &inst.Token, sizeof(inst.Token), NULL, 0 )))
        {
            printf( "worker %d: associate failed %d\n", id, err );
            violations++;
        }
        else if (bind( b, (struct sockaddr *)&addr, sizeof(addr) ))
        {
            printf( "worker %d: bind in own block %u+%u failed %d\n", id, start, count, WSAGetLastError() );
            violations++;
        }
        else
        {
            getsockname( b, (struct sockaddr *)&addr, &len );
            port = ntohs( addr.sin_port );
            if (port < start || port >= start + count)
            {
                printf( "worker %d: bound port %u outside block %u+%u\n", id, port, start, count );
                violations++;
            }
        }
        closesocket( b );

        /* the ledger first: once released, another worker may be granted the ports */
        for (unsigned int p = start; p < start + count; p++) ledger[proto * 65536 + p] = 0;
        if (close_to_release) closesocket( s );
        else
        {
            if ((err = ioctl( s, SIO_RELEASE_PORT_RESERVATION, &inst.Token, sizeof(inst.Token), NULL, 0 )))
            {
                printf( "worker %d: release failed %d\n", id, err );
                violations++;
            }
            closesocket( s );
        }
    }
    printf( "worker %d: %u cycles, %u grants, %u conflicts, %u violations\n", id, done, grants, conflicts, violations );
    return violations ? 1 : 0;
}

/* live reservations in the pool, read from its section */
static int count_live( void )
{
    HANDLE map = OpenFileMappingW( FILE_MAP_READ, FALSE, PORTRES_W(PORTRES_POOL_SECTION_NAME) );
    const struct portres_pool *pool;
    int live;

    if (!map) return 0;  /* no process holds a pool: nothing is live */
    pool = MapViewOfFile( map, FILE_MAP_READ, 0, 0, 0 );
    live = pool ? (int)(pool->live[PORTRES_TCP] + pool->live[PORTRES_UDP]) : -1;
    if (pool) UnmapViewOfFile( pool );
    CloseHandle( map );
    return live;
}

static int run( int processes, int cycles, DWORD seconds )
{
    HANDLE procs[MAXIMUM_WAIT_OBJECTS];
    char cmd[MAX_PATH + 64], self[MAX_PATH];
    DWORD start = GetTickCount(), code, failed = 0;
    int live;

    if (processes < 1 || processes > MAXIMUM_WAIT_OBJECTS) return 2;
    GetModuleFileNameA( NULL, self, sizeof(self) );
    for (int i = 0; i < processes; i++)
    {
        STARTUPINFOA si = { .cb = sizeof(si) };
        PROCESS_INFORMATION pi;

        snprintf( cmd, sizeof(cmd), "\"%s\" worker %d %d %lu", self, i, cycles, seconds );
        if (!CreateProcessA( NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi ))
        {
            printf( "cannot start worker %d: %lu\n", i, GetLastError() );
            return 2;
        }
        CloseHandle( pi.hThread );
        procs[i] = pi.hProcess;
    }
    if (WaitForMultipleObjects( processes, procs, TRUE, (seconds + 60) * 1000 ) == WAIT_TIMEOUT)
    {
        printf( "workers did not finish in time\n" );
        failed++;
    }
    for (int i = 0; i < processes; i++)
    {
        if (!GetExitCodeProcess( procs[i], &code ) || code) failed++;
        TerminateProcess( procs[i], 3 );
        CloseHandle( procs[i] );
    }
    live = count_live();
    printf( "stress: %d processes x %d cycles in %.1f s, %lu failed workers, %d reservations live afterwards\n",
            processes, cycles, (GetTickCount() - start) / 1000.0, failed, live );
    return failed || live ? 1 : 0;
}

static int hold( USHORT port )
{
    INET_PORT_RANGE range = { htons( port ), 10 };
    INET_PORT_RESERVATION_INSTANCE inst;
    SOCKET t = socket( AF_INET, SOCK_STREAM, IPPROTO_TCP ), u = socket( AF_INET, SOCK_DGRAM, IPPROTO_UDP );

    if (ioctl( t, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst) ) ||
        ioctl( u, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst) ))
    {
        printf( "hold: acquire failed %d\n", WSAGetLastError() );
        return 1;
    }
    printf( "held\n" );
    fflush( stdout );
    Sleep( 60000 );
    return 0;
}

/* K persistent one-port TCP reservations: create them, find them all, delete them */
static int persist( const char *what, int k )
{
    unsigned int done = 0, failed = 0;
    DWORD start = GetTickCount();

    for (int i = 0; i < k; i++)
    {
        USHORT port = htons( 20000 + 2 * i );
        ULONG64 token;
        ULONG err;

        if (!strcmp( what, "fill" )) err = CreatePersistentTcpPortReservation( port, 1, &token );
        else if (!strcmp( what, "verify" )) err = LookupPersistentTcpPortReservation( port, 1, &token );
        else err = DeletePersistentTcpPortReservation( port, 1 );
        if (err)
        {
            if (failed++ < 5) printf( "%s: port %u: error %lu\n", what, 20000 + 2 * i, err );
        }
        else done++;
    }
    printf( "persist %s: %u of %d done, %u failed, %.1f s\n", what, done, k, failed, (GetTickCount() - start) / 1000.0 );
    return failed ? 1 : 0;
}

int main( int argc, char **argv )
{
    WSADATA data;

    setvbuf( stdout, NULL, _IONBF, 0 );
    WSAStartup( MAKEWORD( 2, 2 ), &data );
    if (argc >= 4 && !strcmp( argv[1], "run" ))
        return run( atoi( argv[2] ), atoi( argv[3] ), argc > 4 ? atoi( argv[4] ) : 600 );
    if (argc == 5 && !strcmp( argv[1], "worker" ))
    {
        open_ledger();
        return worker( atoi( argv[2] ), atoi( argv[3] ), atoi( argv[4] ) );
    }
    if (argc == 3 && !strcmp( argv[1], "hold" )) return hold( atoi( argv[2] ) );
    if (argc == 4 && !strcmp( argv[1], "persist" )) return persist( argv[2], atoi( argv[3] ) );
    if (argc == 2 && !strcmp( argv[1], "check" ))
    {
        int live;

        /* a conflicting acquire reclaims the blocks of dead owners first */
        for (int udp = 0; udp < 2; udp++)
        {
            SOCKET s = socket( AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, udp ? IPPROTO_UDP : IPPROTO_TCP );
            INET_PORT_RANGE range = { htons( BASE_PORT ), PORT_SPAN };
            INET_PORT_RESERVATION_INSTANCE inst;
            int err = ioctl( s, SIO_ACQUIRE_PORT_RESERVATION, &range, sizeof(range), &inst, sizeof(inst) );
            printf( "acquire of all %s ports %u-%u: %d\n", udp ? "UDP" : "TCP", BASE_PORT, BASE_PORT + PORT_SPAN - 1, err );
            closesocket( s );
            if (err) return 1;
        }
        live = count_live();
        printf( "%d reservations live\n", live );
        return live ? 1 : 0;
    }
    printf( "usage: stress run PROCESSES CYCLES [SECONDS] | worker ID CYCLES SECONDS | hold PORT | check\n" );
    return 2;
}
