/*
 * portres-helper - the host helper: answers the in-use check of every
 * prefix of one Unix user exactly, with native binds (doc/design.md, "The
 * host helper"; the protocol is libs/core/helpermsg.h)
 *
 *   portres-helper RUNTIME-DIR
 *
 * A bind without SO_REUSEADDR of the dual-stack wildcard address fails
 * with EADDRINUSE when any socket of the host's network namespace holds
 * the port: listening, connected (also with a port the kernel chose), in
 * TIME_WAIT, or only bound, Wine's (whose TCP sockets carry SO_REUSEADDR)
 * and native ones alike.  PE code cannot make such a bind: Wine sets
 * SO_REUSEADDR on every TCP socket and decides conflicts in the
 * wineserver.  A bind costs a few microseconds here, where a test bind
 * through Wine costs about a hundred.
 *
 * Started on demand by the DLLs (__wine_unix_spawnvp), one per user and
 * runtime folder (a lock on RUNTIME-DIR/helper.lock); it ends after
 * PORTRES_HELPER_IDLE_S seconds without a request, removing its file.
 * Its own UDP port (127.0.0.1, picked by the kernel) is never a port in
 * use to its answers: asked about a UDP block that holds it, it answers
 * for the other ports and moves to another port and key, so that portres
 * itself never fails a reservation (a client at the old port is told the
 * helper is gone, and finds it again through the file).
 * RUNTIME-DIR is made with mode 0700 if missing, and refused unless it is
 * a folder owned by the user and writable by nobody else.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../libs/core/helpermsg.h"

static char file_path[4096], board_path[4200];
static unsigned int own_port;       /* the UDP port of our socket */
static int wake_fd[2] = { -1, -1 };  /* serve tells the main loop to move (struct move, move_port) */

static int fail( const char *what )
{
    fprintf( stderr, "portres-helper: %s: %s\n", what, strerror( errno ) );
    return 1;
}

/* the runtime folder: made if missing; ours and private, else refused */
static int check_dir( const char *dir )
{
    struct stat st;

    if (mkdir( dir, 0700 ) && errno != EEXIST) return fail( dir );
    if (lstat( dir, &st )) return fail( dir );
    if (!S_ISDIR( st.st_mode ) || st.st_uid != getuid() || (st.st_mode & 022))
    {
        fprintf( stderr, "portres-helper: %s: not a folder of this user writable by it alone\n", dir );
        return 1;
    }
    return 0;
}

/* bind a socket of type to the dual-stack wildcard address with port,
 * with SO_REUSEADDR or without: 0, or the errno */
static int try_bind( int type, unsigned int port, int reuse )
{
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons( port ) };
    struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons( port ) };
    int off = 0, fd, ret;

    if ((fd = socket( AF_INET6, type | SOCK_CLOEXEC, 0 )) >= 0)
    {
        setsockopt( fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off) );
        if (reuse) setsockopt( fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse) );
        ret = bind( fd, (struct sockaddr *)&a6, sizeof(a6) );
    }
    else if ((fd = socket( AF_INET, type | SOCK_CLOEXEC, 0 )) >= 0)
    {
        if (reuse) setsockopt( fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse) );
        ret = bind( fd, (struct sockaddr *)&a4, sizeof(a4) );
    }
    else return errno;
    ret = ret ? errno : 0;
    close( fd );
    return ret;
}

/* the TCP sockets of the ports first..first+count-1 in /proc/net/tcp and
 * tcp6, read once for a whole block: per port, others[] those in any
 * state but TIME_WAIT (06) and CLOSE (07), timewait[] those in TIME_WAIT
 * (each list walks the kernel's whole connection table: one read of each
 * for a block, not one a port); bound[] those only bound, from sock_diag,
 * read once too when a port has a TIME_WAIT only */
struct tcp_lists
{
    unsigned int first, count;
    unsigned char *others, *timewait, *bound;  /* count each, by port - first; NULL until read */
    int bound_read;
};

/* read the lists for the block (once); FALSE without memory */
static int read_tcp_lists( struct tcp_lists *lists )
{
    static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
    char line[512];

    if (lists->others) return 1;
    if (!(lists->others = calloc( 3, lists->count ))) return 0;
    lists->timewait = lists->others + lists->count;
    lists->bound = lists->timewait + lists->count;
    for (unsigned int i = 0; i < 2; i++)
    {
        FILE *f = fopen( files[i], "re" );
        if (!f) continue;
        while (fgets( line, sizeof(line), f ))
        {
            char *local = strchr( line, ':' ), *colon;
            unsigned int p, st;

            /* "sl: address:port address:port st ..." */
            if (!local || !(local = strchr( local + 1, ':' )) || !(colon = local)) continue;
            if (sscanf( colon + 1, "%x %*s %x", &p, &st ) != 2 || p < lists->first || p - lists->first >= lists->count)
                continue;
            if (st == 6) lists->timewait[p - lists->first] = 1;
            else if (st != 7) lists->others[p - lists->first] = 1;
        }
        fclose( f );
    }
    return 1;
}

/* the kernel's pseudo-state of TCP sockets only bound, for sock_diag
 * dumps (Linux 6.8, include/net/tcp_states.h; Debian 12's headers predate it) */
#define TCP_BOUND_INACTIVE 13

/* mark in lists->bound the block's ports that a TCP socket only bound
 * (neither listening nor connected) has, as the kernel's sock_diag lists
 * them (Linux 6.8 and later; older kernels list none), once per block;
 * read_tcp_lists first */
static void read_bound_only( struct tcp_lists *lists )
{
    static const int families[] = { AF_INET, AF_INET6 };
    struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
    int fd;

    if (lists->bound_read) return;
    lists->bound_read = 1;
    if ((fd = socket( AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG )) < 0) return;
    for (unsigned int i = 0; i < 2; i++)
    {
        struct
        {
            struct nlmsghdr nlh;
            struct inet_diag_req_v2 req;
        } request = {
            .nlh = { .nlmsg_len = sizeof(request), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                     .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
            .req = { .sdiag_family = families[i], .sdiag_protocol = IPPROTO_TCP,
                     .idiag_states = 1u << TCP_BOUND_INACTIVE },
        };
        long buf[32768 / sizeof(long)];  /* a dump part is at most 32 KB */
        int done = 0;

        if (sendto( fd, &request, sizeof(request), 0, (struct sockaddr *)&nl, sizeof(nl) ) < 0) break;
        while (!done)
        {
            ssize_t n = recv( fd, buf, sizeof(buf), 0 );
            struct nlmsghdr *h = (struct nlmsghdr *)buf;

            if (n <= 0) break;
            for (; NLMSG_OK( h, n ); h = NLMSG_NEXT( h, n ))
            {
                const struct inet_diag_msg *msg = NLMSG_DATA( h );
                unsigned int at;

                if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) done = 1;
                else if (h->nlmsg_len >= NLMSG_LENGTH( sizeof(*msg) ) &&
                         (at = ntohs( msg->id.idiag_sport ) - lists->first) < lists->count)
                    lists->bound[at] = 1;  /* a port below first wraps past count */
            }
        }
    }
    close( fd );
}

/* 1 if a socket of the host holds port of proto (0 TCP, 1 UDP), else 0.
 * A bind without SO_REUSEADDR conflicts with every socket of the port;
 * TCP connections in TIME_WAIT hold nothing (behaviour §2, as the test
 * binds and the kernel lists decide: Wine's binds, with SO_REUSEADDR,
 * pass them), so a TCP conflict that a bind with SO_REUSEADDR passes is
 * looked up in the kernel's lists: a socket in another state holds the
 * port; none at all, a socket only bound (with SO_REUSEADDR: in no list)
 * holds it; TIME_WAIT alone does not, unless the kernel's sock_diag also
 * lists a socket only bound to the port beside it. */
static int port_in_use( int proto, unsigned int port, struct tcp_lists *lists, int *err )
{
    int type = proto ? SOCK_DGRAM : SOCK_STREAM, ret;

    if (proto && port == __atomic_load_n( &own_port, __ATOMIC_RELAXED )) return 0;  /* ours: serve moves */
    if (!(ret = try_bind( type, port, 0 ))) return 0;
    if (ret != EADDRINUSE && ret != EACCES)
    {
        *err = ret;
        return 0;
    }
    if (proto || try_bind( type, port, 1 )) return 1;
    if (!read_tcp_lists( lists ) || lists->others[port - lists->first] || !lists->timewait[port - lists->first])
        return 1;
    /* TIME_WAIT: a socket only bound, with SO_REUSEADDR, can hide behind it */
    read_bound_only( lists );
    return lists->bound[port - lists->first];
}

static void answer( struct portres_helper_msg *msg )
{
    struct tcp_lists lists = { .first = msg->start, .count = msg->count };
    int err = 0;

    msg->busy = 0;
    if (msg->op != PORTRES_HELPER_IN_USE || msg->proto > 1 || !msg->count || msg->start + msg->count - 1 > 65535)
        err = EINVAL;
    else
        for (unsigned int i = 0; i < msg->count && !err; i++)
            if (port_in_use( msg->proto, msg->start + i, &lists, &err ))
            {
                msg->busy = msg->start + i;
                break;
            }
    free( lists.others );
    msg->status = err;
}

/* a request answered on a thread of its own: a long block (1000 ports,
 * a few ms) holds up no other prefix's one-port check; a block of up to
 * INLINE_PORTS ports is answered at once, on the main thread */
#define INLINE_PORTS 16
struct job
{
    int fd;
    int own_fd;                    /* fd is the job's own duplicate, closed after the reply */
    struct portres_helper_msg msg;
    struct sockaddr_in from;       /* a UDP request's sender */
    socklen_t from_len;
    int slot;                      /* a board request's slot, else -1 */
    uint32_t seq;
};

/* what serve tells the main loop through wake_fd: the block it answered */
struct move
{
    uint16_t start, count;
};

static int board_fd = -1;
static uint32_t board_busy[PORTRES_HELPER_SLOTS];  /* the seq a thread is answering, per slot */

/* write the reply to the board request of job */
static void board_reply( const struct job *job )
{
    struct portres_helper_reply reply = { .magic = PORTRES_HELPER_MAGIC, .seq = job->seq,
                                          .status = job->msg.status, .busy = job->msg.busy,
                                          .proto = job->msg.proto, .start = job->msg.start,
                                          .count = job->msg.count };

    reply.check = portres_helper_check( &reply, PORTRES_HELPER_REPLY_FIELDS );
    if (pwrite( board_fd, &reply, sizeof(reply), job->slot * sizeof(struct portres_helper_slot) +
                offsetof(struct portres_helper_slot, reply) ) != sizeof(reply))
        fail( "board" );
}

static void *serve( void *arg )
{
    struct job *job = arg;
    struct move move = { job->msg.start, job->msg.count };
    unsigned int own = __atomic_load_n( &own_port, __ATOMIC_RELAXED );

    answer( &job->msg );
    if (job->slot < 0) sendto( job->fd, &job->msg, sizeof(job->msg), 0, (struct sockaddr *)&job->from, job->from_len );
    else
    {
        board_reply( job );
        __atomic_store_n( &board_busy[job->slot], 0, __ATOMIC_RELEASE );
    }
    if (job->own_fd) close( job->fd );
    /* a UDP block with our port, answered: the main loop moves us */
    if (job->msg.proto == 1 && !job->msg.status && own >= move.start && own - move.start < move.count &&
        write( wake_fd[1], &move, sizeof(move) ) != sizeof(move))
        fail( "wake" );
    free( job );
    return NULL;
}

/* answer job on this thread or a thread of its own (its size); a socket
 * request's thread replies on a descriptor of its own, which keeps the
 * socket (and its port) until then if the main loop moves meanwhile */
static void dispatch( struct job *job, pthread_attr_t *attr )
{
    pthread_t thread;
    int fd;

    if (job->msg.count <= INLINE_PORTS) serve( job );  /* a thread would cost more than the binds */
    else if (job->slot < 0 && (fd = fcntl( job->fd, F_DUPFD_CLOEXEC, 3 )) < 0) serve( job );
    else
    {
        if (job->slot < 0)
        {
            job->fd = fd;
            job->own_fd = 1;
        }
        if (!pthread_create( &thread, attr, serve, job )) return;
        if (job->own_fd) close( job->fd );
        if (job->slot >= 0) __atomic_store_n( &board_busy[job->slot], 0, __ATOMIC_RELEASE );
        free( job );
    }
}

/* answer the board's new requests: those whose seq its reply does not
 * have yet, and whose check holds (a request read while its writer was
 * writing it is read again at the next change) */
static void scan_board( pthread_attr_t *attr )
{
    static struct portres_helper_slot slots[PORTRES_HELPER_SLOTS];
    ssize_t got = pread( board_fd, slots, sizeof(slots), 0 );

    for (unsigned int i = 0; got > 0 && i < (size_t)got / sizeof(slots[0]); i++)
    {
        const struct portres_helper_request *req = &slots[i].request;
        struct job *job;

        if (req->magic != PORTRES_HELPER_MAGIC || !req->seq || req->seq == slots[i].reply.seq ||
            req->check != portres_helper_check( req, PORTRES_HELPER_REQUEST_FIELDS ) ||
            __atomic_load_n( &board_busy[i], __ATOMIC_ACQUIRE ) == req->seq || !(job = calloc( 1, sizeof(*job) )))
            continue;
        job->slot = i;
        job->seq = req->seq;
        job->msg.op = req->op;
        job->msg.proto = req->proto;
        job->msg.start = req->start;
        job->msg.count = req->count;
        if (job->msg.count > INLINE_PORTS) __atomic_store_n( &board_busy[i], req->seq, __ATOMIC_RELEASE );
        dispatch( job, attr );
    }
}

/* write the file the clients read, whole (rename), readable by the user
 * alone: "PORT KEY PID" */
static int write_file( const char *tmp_path, unsigned int port, const uint8_t *key )
{
    FILE *f;

    if (!(f = fopen( tmp_path, "w" ))) return fail( tmp_path );
    fprintf( f, "%u ", port );
    for (unsigned int i = 0; i < PORTRES_HELPER_KEY; i++) fprintf( f, "%02x", key[i] );
    fprintf( f, " %d\n", (int)getpid() );
    if (fclose( f ) || rename( tmp_path, file_path )) return fail( file_path );
    return 0;
}

/* a UDP socket of 127.0.0.1 with a port the kernel picks outside avoid
 * (a block just answered for), its port in *port; -1 on failure */
static int open_socket( const struct move *avoid, unsigned int *port )
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl( INADDR_LOOPBACK ) };
    socklen_t len = sizeof(addr);
    int fd = -1, tries;

    for (tries = 0; tries < 16; tries++)
    {
        if ((fd = socket( AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0 )) < 0) return -1;
        if (bind( fd, (struct sockaddr *)&addr, sizeof(addr) ) || getsockname( fd, (struct sockaddr *)&addr, &len ))
        {
            close( fd );
            return -1;
        }
        *port = ntohs( addr.sin_port );
        if (!avoid || *port < avoid->start || *port - avoid->start >= avoid->count) return fd;
        close( fd );  /* in the block: another try (tries bound it) */
        addr.sin_port = 0;
    }
    return -1;
}

/* move to a port outside the block of what (serve's request), with a new
 * key, and write the file again: a client of the old port is told "port
 * unreachable", takes the helper for gone and reads the file (a helper it
 * starts finds ours running and ends).  Kept where we are on failure. */
static void move_port( int *fd, uint8_t *key, const char *tmp_path, const struct move *what )
{
    uint8_t new_key[PORTRES_HELPER_KEY];
    unsigned int port;
    int new_fd;

    if (getrandom( new_key, sizeof(new_key), 0 ) != sizeof(new_key) ||
        (new_fd = open_socket( what, &port )) < 0)
    {
        fail( "moving off our port" );
        return;
    }
    if (write_file( tmp_path, port, new_key ))
    {
        close( new_fd );
        return;
    }
    close( *fd );  /* a thread still replying on it has a duplicate */
    *fd = new_fd;
    memcpy( key, new_key, sizeof(new_key) );
    __atomic_store_n( &own_port, port, __ATOMIC_RELAXED );
}

static void on_signal( int sig )
{
    unlink( file_path );
    if (board_fd >= 0) unlink( board_path );
    _exit( 0 );
}

int main( int argc, char **argv )
{
    uint8_t key[PORTRES_HELPER_KEY];
    char lock_path[4096], tmp_path[4200];
    pthread_attr_t attr;
    struct pollfd pfd[3];
    unsigned int port;
    int lock, fd, watch;

    if (argc != 2)
    {
        fprintf( stderr, "usage: portres-helper RUNTIME-DIR\n" );
        return 2;
    }
    if (check_dir( argv[1] )) return 1;
    /* a daemon: nothing of the process that started it is held open (a
     * caller reading its output to the end must not wait for us) */
    if ((fd = open( "/dev/null", O_RDWR )) >= 0)
    {
        dup2( fd, 0 );
        dup2( fd, 1 );
        dup2( fd, 2 );
        if (fd > 2) close( fd );
    }
    close_range( 3, ~0u, 0 );  /* nor any descriptor of the Wine process that started it */
    setsid();
    snprintf( lock_path, sizeof(lock_path), "%s/helper.lock", argv[1] );
    snprintf( file_path, sizeof(file_path), "%s/" PORTRES_HELPER_FILE, argv[1] );
    snprintf( tmp_path, sizeof(tmp_path), "%s.%d", file_path, (int)getpid() );
    if ((lock = open( lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600 )) < 0) return fail( lock_path );
    if (flock( lock, LOCK_EX | LOCK_NB )) return errno == EWOULDBLOCK ? 0 : fail( lock_path );  /* one runs */

    if (getrandom( key, sizeof(key), 0 ) != sizeof(key)) return fail( "getrandom" );
    if ((fd = open_socket( NULL, &port )) < 0) return fail( "bind 127.0.0.1" );
    own_port = port;
    if (pipe2( wake_fd, O_CLOEXEC | O_NONBLOCK )) return fail( "pipe" );

    /* the board first (a process that finds the file finds the board),
     * the user's alone; emptied: requests to a helper before are gone */
    umask( 077 );
    snprintf( board_path, sizeof(board_path), "%s/" PORTRES_HELPER_BOARD, argv[1] );
    watch = -1;
    if ((board_fd = open( board_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600 )) < 0 ||
        ftruncate( board_fd, sizeof(struct portres_helper_slot) * PORTRES_HELPER_SLOTS ) ||
        (watch = inotify_init1( IN_NONBLOCK | IN_CLOEXEC )) < 0 || inotify_add_watch( watch, board_path, IN_MODIFY ) < 0)
    {
        /* no board (the user's inotify instances used up: 128 by
         * default, fs.inotify.max_user_instances): the socket alone.  A
         * client that finds no board asks by socket. */
        if (watch >= 0) close( watch );
        if (board_fd >= 0) close( board_fd );
        watch = board_fd = -1;
        unlink( board_path );
    }

    if (write_file( tmp_path, port, key )) return 1;
    signal( SIGTERM, on_signal );
    signal( SIGINT, on_signal );
    signal( SIGHUP, SIG_IGN );

    pfd[0].fd = fd;
    pfd[0].events = POLLIN;
    pfd[1].fd = watch;
    pfd[1].events = POLLIN;
    pfd[2].fd = wake_fd[0];
    pfd[2].events = POLLIN;
    pthread_attr_init( &attr );
    pthread_attr_setdetachstate( &attr, PTHREAD_CREATE_DETACHED );
    for (;;)
    {
        struct job *job;
        struct move move;
        int ready, moves = 0;
        ssize_t n;

        if ((ready = poll( pfd, 3, PORTRES_HELPER_IDLE_S * 1000 )) < 0 && errno == EINTR) continue;
        if (ready <= 0) break;
        if (pfd[1].revents)
        {
            char events[4096];

            /* the events first, then the board: a write after the read
             * below leaves an event for the next turn */
            while (read( watch, events, sizeof(events) ) > 0) {}
            scan_board( &attr );
        }
        if (pfd[0].revents && (job = calloc( 1, sizeof(*job) )))
        {
            job->fd = fd;
            job->slot = -1;
            job->from_len = sizeof(job->from);
            n = recvfrom( fd, &job->msg, sizeof(job->msg), 0, (struct sockaddr *)&job->from, &job->from_len );
            if (n != sizeof(job->msg) || job->msg.magic != PORTRES_HELPER_MAGIC ||
                memcmp( job->msg.key, key, sizeof(key) ))
                free( job );
            else dispatch( job, &attr );
        }
        /* answered a UDP block with our port (serve, maybe just now): move */
        while (read( wake_fd[0], &move, sizeof(move) ) == sizeof(move)) moves++;
        if (moves)
        {
            move_port( &fd, key, tmp_path, &move );
            pfd[0].fd = fd;
        }
    }
    unlink( file_path );
    if (board_fd >= 0) unlink( board_path );
    return 0;
}
