/*
 * sockhold - hold a native Linux socket of one kind on a port, for
 * tests/scripts/helper.sh (loopback only)
 *
 *   sockhold tcp-bound PORT    TCP, SO_REUSEADDR, bound to 127.0.0.1, neither listening nor connected
 *   sockhold tcp-listen PORT   TCP listening on 127.0.0.1
 *   sockhold udp PORT          UDP bound to 127.0.0.1
 *   sockhold timewait PORT     leaves a TCP connection of 127.0.0.1:PORT in TIME_WAIT, then ends
 *                              (its listener had SO_REUSEADDR, as every Wine TCP socket has)
 *
 * The holding kinds print "ready" and wait at most 120 s (or until killed).
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int bound( int type, int port, int reuse )
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons( port ), .sin_addr.s_addr = htonl( INADDR_LOOPBACK ) };
    int fd = socket( AF_INET, type, 0 );

    if (fd < 0) return -1;
    if (reuse) setsockopt( fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse) );
    if (bind( fd, (struct sockaddr *)&a, sizeof(a) ))
    {
        perror( "sockhold: bind" );
        exit( 1 );
    }
    return fd;
}

int main( int argc, char **argv )
{
    int port = argc == 3 ? atoi( argv[2] ) : 0;

    if (!port) return fprintf( stderr, "usage: sockhold tcp-bound|tcp-listen|udp|timewait PORT\n" ), 2;
    if (!strcmp( argv[1], "tcp-bound" )) bound( SOCK_STREAM, port, 1 );
    else if (!strcmp( argv[1], "tcp-listen" )) listen( bound( SOCK_STREAM, port, 0 ), 1 );
    else if (!strcmp( argv[1], "udp" )) bound( SOCK_DGRAM, port, 0 );
    else if (!strcmp( argv[1], "timewait" ))
    {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons( port ),
                                 .sin_addr.s_addr = htonl( INADDR_LOOPBACK ) };
        int l = bound( SOCK_STREAM, port, 1 ), c = socket( AF_INET, SOCK_STREAM, 0 ), s;

        listen( l, 1 );
        if (connect( c, (struct sockaddr *)&a, sizeof(a) ) || (s = accept( l, NULL, NULL )) < 0)
        {
            perror( "sockhold: connect" );
            return 1;
        }
        close( s );   /* the side that closes first keeps TIME_WAIT: 127.0.0.1:PORT */
        usleep( 100000 );
        close( c );
        close( l );
        printf( "done\n" );
        return 0;
    }
    else return fprintf( stderr, "sockhold: unknown kind %s\n", argv[1] ), 2;
    printf( "ready\n" );
    fflush( stdout );
    sleep( 120 );
    return 0;
}
